"""PocketLLM for Python: a pure-ctypes binding of libpocket's C API (include/pocket/pocket.h).

    import pocketllm
    with pocketllm.Model("stories15M.gguf") as model:
        with model.session(n_ctx=512) as s:
            for text in s.generate("Once upon a time", n_predict=64, temperature=0):
                print(text, end="", flush=True)

Errors raise PocketError (.status: "io_error", "out_of_range", ...; the message names the file, field
or argument). A Model may be shared by sessions on several threads; a Session is used by one thread at a
time (Session.cancel() from any thread)."""

import ctypes

from . import _capi
from ._capi import lib

__all__ = ["PocketError", "Model", "Session", "GenerateStats", "version"]

_KV = {"f32": 0, "f16": 1, "q8": 2, "q4": 3}


class PocketError(Exception):
    def __init__(self, status, message):
        self.status = lib.pocket_status_name(status).decode()
        super().__init__(f"{self.status}: {message}")


def _check(status):
    if status != 0:
        raise PocketError(status, lib.pocket_last_error().decode("utf-8", "replace"))


def version():
    return lib.pocket_version().decode()


def _utf8(text):
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)


def _session_params(n_ctx=0, n_threads=0, n_batch=64, kv_type_k="f32", kv_type_v="f32", kv_window=0, kv_sinks=4,
                    mem_budget=0):
    p = lib.pocket_session_default_params()
    for name, table in (("kv_type_k", kv_type_k), ("kv_type_v", kv_type_v)):
        if table not in _KV:
            raise ValueError(f"{name} must be one of {sorted(_KV)}, got {table!r}")
    p.n_ctx, p.n_threads, p.n_batch = n_ctx, n_threads, n_batch
    p.kv_type_k, p.kv_type_v = _KV[kv_type_k], _KV[kv_type_v]
    p.kv_window, p.kv_sinks, p.mem_budget = kv_window, kv_sinks, mem_budget
    return p


class Model:
    """A GGUF model, mapped. progress(fraction) -> bool is called while loading; False cancels."""

    def __init__(self, path, progress=None, populate=True):
        params = lib.pocket_model_default_params()
        params.populate = populate
        self._progress_ref = None
        if progress is not None:
            self._progress_ref = _capi.PROGRESS_CALLBACK(lambda f, _user: bool(progress(f)))
            params.progress = self._progress_ref
        handle = ctypes.c_void_p()
        _check(lib.pocket_model_load(_utf8(path), ctypes.byref(params), ctypes.byref(handle)))
        self._h = handle
        self.path = path
        info = _capi.ModelInfo()
        info.size = ctypes.sizeof(info)
        _check(lib.pocket_model_get_info(self._h, ctypes.byref(info)))
        self.info = {name: (getattr(info, name).decode() if isinstance(getattr(info, name), bytes) else getattr(info, name))
                     for name, _ in _capi.ModelInfo._fields_ if name != "size"}

    def _handle(self):
        if not self._h:
            raise ValueError("the model is closed")
        return self._h

    def close(self):
        if getattr(self, "_h", None):
            lib.pocket_model_free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def session(self, **params):
        """A Session (n_ctx, n_threads, n_batch, kv_type_k/v "f32"|"f16"|"q8"|"q4", kv_window, kv_sinks, mem_budget)."""
        return Session(self, **params)

    def meta(self, key):
        return self._text(lambda buf, cap, n: lib.pocket_model_meta(self._handle(), _utf8(key), buf, cap, n))

    def plan(self, **params):
        p = _session_params(**params)
        plan = _capi.MemoryPlan()
        plan.size = ctypes.sizeof(plan)
        _check(lib.pocket_model_plan(self._handle(), ctypes.byref(p), ctypes.byref(plan)))
        return {name: getattr(plan, name) for name, _ in _capi.MemoryPlan._fields_ if name != "size"}

    def fits(self, device=None, **params):
        """The planner's answer: (fits, details) for a device profile name, or this machine (None)."""
        p = _session_params(**params)
        fit = _capi.Fit()
        fit.size = ctypes.sizeof(fit)
        _check(lib.pocket_model_fits(self._handle(), ctypes.byref(p), _utf8(device) if device else None, ctypes.byref(fit)))
        return fit.fits, {"needed_bytes": fit.needed_bytes, "usable_bytes": fit.usable_bytes,
                          "decode_tokens_per_s": fit.decode_tokens_per_s, "reason": fit.reason.decode()}

    def tokenize(self, text, add_special=True, parse_special=False):
        data = _utf8(text)
        n = ctypes.c_size_t()
        status = lib.pocket_tokenize(self._handle(), data, len(data), add_special, parse_special, None, 0, ctypes.byref(n))
        if status not in (0, 7):  # 7: POCKET_ERR_BUFFER_TOO_SMALL, n holds the size needed
            _check(status)
        out = (_capi.c_token * max(n.value, 1))()
        _check(lib.pocket_tokenize(self._handle(), data, len(data), add_special, parse_special, out, n.value, ctypes.byref(n)))
        return list(out[: n.value])

    def detokenize(self, tokens, special=False):
        arr = (_capi.c_token * max(len(tokens), 1))(*tokens)
        return self._text(lambda buf, cap, n: lib.pocket_detokenize(self._handle(), arr, len(tokens), special, buf, cap, n))

    def token_to_piece(self, token, special=False):
        return self._text(lambda buf, cap, n: lib.pocket_token_to_piece(self._handle(), token, special, buf, cap, n))

    def is_eog(self, token):
        return bool(lib.pocket_token_is_eog(self._handle(), token))

    def chat_apply(self, messages, family=None):
        """The prompt for [{"role": ..., "content": ...}, ...] in the model's template (or family's)."""
        keep = [(_utf8(m["role"]), _utf8(m["content"])) for m in messages]
        arr = (_capi.ChatMessage * max(len(keep), 1))(*[_capi.ChatMessage(r, c) for r, c in keep])
        fam = _utf8(family) if family else None
        return self._text(lambda buf, cap, n: lib.pocket_chat_apply(self._handle(), fam, arr, len(keep), buf, cap, n))

    def chat_stop_strings(self, family=None):
        out = (ctypes.c_char_p * 16)()
        n = ctypes.c_size_t()
        _check(lib.pocket_chat_stop_strings(self._handle(), _utf8(family) if family else None, out, 16, ctypes.byref(n)))
        return [out[i].decode() for i in range(n.value)]

    @staticmethod
    def _text(call):
        n = ctypes.c_size_t()
        status = call(None, 0, ctypes.byref(n))
        if status not in (0, 7):
            _check(status)
        buf = ctypes.create_string_buffer(n.value + 1)
        _check(call(buf, n.value + 1, ctypes.byref(n)))
        return buf.raw[: n.value].decode("utf-8", "replace")


class GenerateStats:
    def __init__(self, s):
        self.n_prompt, self.n_reused, self.n_generated = s.n_prompt, s.n_reused, s.n_generated
        self.prompt_seconds, self.generate_seconds = s.prompt_seconds, s.generate_seconds
        self.finish_reason = s.finish_reason.decode() if s.finish_reason else ""
        self.drafted, self.accepted = s.drafted, s.accepted

    def __repr__(self):
        return (f"GenerateStats(n_prompt={self.n_prompt}, n_reused={self.n_reused}, n_generated={self.n_generated}, "
                f"finish_reason={self.finish_reason!r})")


class Session:
    """One sequence: its KV cache, history and threads. Generations continue after the history."""

    def __init__(self, model, **params):
        self.model = model  # keeps the model alive as long as the session
        p = _session_params(**params)
        handle = ctypes.c_void_p()
        _check(lib.pocket_session_new(model._handle(), ctypes.byref(p), ctypes.byref(handle)))
        self._h = handle
        self.stats = None
        self._running = False

    @classmethod
    def _adopt(cls, model, handle):
        s = cls.__new__(cls)
        s.model, s._h, s.stats, s._running = model, handle, None, False
        return s

    def _handle(self):
        if not self._h:
            raise ValueError("the session is closed")
        return self._h

    def close(self):
        if getattr(self, "_h", None):
            lib.pocket_session_free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    @property
    def n_ctx(self):
        return lib.pocket_session_n_ctx(self._handle())

    def tokens(self):
        n = lib.pocket_session_n_tokens(self._handle())
        out = (_capi.c_token * max(n, 1))()
        written = ctypes.c_size_t()
        _check(lib.pocket_session_tokens(self._handle(), out, n, ctypes.byref(written)))
        return list(out[: written.value])

    def decode(self, tokens):
        arr = (_capi.c_token * max(len(tokens), 1))(*tokens)
        _check(lib.pocket_session_decode(self._handle(), arr, len(tokens)))

    def logits(self):
        ptr = ctypes.POINTER(ctypes.c_float)()
        n = ctypes.c_int32()
        _check(lib.pocket_session_logits(self._handle(), ctypes.byref(ptr), ctypes.byref(n)))
        return ptr[: n.value]

    def truncate(self, n_keep):
        _check(lib.pocket_session_truncate(self._handle(), n_keep))

    def embed(self, tokens, pooling="mean", normalize=True):
        if pooling not in ("mean", "last"):
            raise ValueError(f"pooling must be 'mean' or 'last', got {pooling!r}")
        d = self.model.info["n_embd"]
        arr = (_capi.c_token * max(len(tokens), 1))(*tokens)
        out = (ctypes.c_float * d)()
        _check(lib.pocket_session_embed(self._handle(), arr, len(tokens), 0 if pooling == "mean" else 1, normalize, out, d))
        return list(out)

    def save(self, path):
        _check(lib.pocket_session_save(self._handle(), _utf8(path)))

    def load(self, path):
        _check(lib.pocket_session_load(self._handle(), _utf8(path)))

    def fork(self):
        handle = ctypes.c_void_p()
        _check(lib.pocket_session_fork(self._handle(), ctypes.byref(handle)))
        return Session._adopt(self.model, handle)

    def cancel(self):
        """Any thread: the running generation ends before its next token."""
        if self._h:
            lib.pocket_session_cancel(self._h)

    def generate(self, prompt=None, n_predict=128, temperature=0.8, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0,
                 frequency_penalty=0.0, presence_penalty=0.0, penalty_last_n=64, seed=0, stop=(), stop_on_bos=True,
                 add_special=True, parse_special=False, draft_model=None, draft_lookup=False, draft_self_layers=0,
                 draft_max=8, draft_adaptive=True, draft_self_type=None):
        """A generator of text pieces as they become printable. Leaving it early (break, close()) ends the
        generation; .stats holds the GenerateStats afterwards."""
        sp = lib.pocket_sampling_default_params()
        sp.temperature, sp.top_k, sp.top_p, sp.min_p = temperature, top_k, top_p, min_p
        sp.repeat_penalty, sp.frequency_penalty, sp.presence_penalty = repeat_penalty, frequency_penalty, presence_penalty
        sp.penalty_last_n, sp.seed = penalty_last_n, seed
        gp = lib.pocket_generate_default_params()
        gp.n_predict, gp.sampling = n_predict, ctypes.pointer(sp)
        stops = [_utf8(s) for s in stop]
        stop_arr = (ctypes.c_char_p * max(len(stops), 1))(*stops)
        gp.stop_strings, gp.n_stop_strings = stop_arr, len(stops)
        gp.stop_on_bos, gp.add_special, gp.parse_special = stop_on_bos, add_special, parse_special
        gp.draft_model = _utf8(draft_model) if draft_model else None
        gp.draft_lookup, gp.draft_self_layers = draft_lookup, draft_self_layers
        gp.draft_max, gp.draft_adaptive = draft_max, draft_adaptive
        gp.draft_self_type = _utf8(draft_self_type) if draft_self_type else None
        h = self._handle()
        # Arguments are checked now, not at the first next(): a bad option raises here.
        _check(lib.pocket_generate_begin(h, _utf8(prompt) if prompt else None, ctypes.byref(gp)))
        self._running = True
        return self._steps(h, (sp, stop_arr, stops))

    def _steps(self, h, keep_alive):
        text = ctypes.c_void_p()
        n = ctypes.c_size_t()
        done = ctypes.c_bool(False)
        try:
            while not done.value:
                _check(lib.pocket_generate_next(h, ctypes.byref(text), ctypes.byref(n), ctypes.byref(done)))
                if n.value:
                    yield ctypes.string_at(text.value, n.value).decode("utf-8", "replace")
        finally:
            stats = _capi.GenerateStats()
            stats.size = ctypes.sizeof(stats)
            if self._h:
                _check(lib.pocket_generate_end(h, ctypes.byref(stats)))
                self.stats = GenerateStats(stats)
            self._running = False
            del keep_alive

    def generate_text(self, prompt=None, **options):
        """The whole text of a generation (see generate)."""
        return "".join(self.generate(prompt, **options))
