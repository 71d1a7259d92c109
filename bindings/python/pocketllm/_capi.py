"""ctypes declarations of include/pocket/pocket.h (the structs and the functions, nothing more).

The library is found through $POCKET_LIBRARY (a path), else the loader's search (libpocket.so.1: an
installed prefix in the loader path, or LD_LIBRARY_PATH)."""

import ctypes
import ctypes.util
import os

c_token = ctypes.c_int32


class ModelParams(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("populate", ctypes.c_bool),
                ("progress", ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_float, ctypes.c_void_p)),
                ("progress_user", ctypes.c_void_p)]


PROGRESS_CALLBACK = ModelParams._fields_[2][1]


class ModelInfo(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("architecture", ctypes.c_char_p), ("name", ctypes.c_char_p),
                ("weight_type", ctypes.c_char_p), ("weight_types", ctypes.c_char_p),
                ("chat_template", ctypes.c_char_p), ("chat_family", ctypes.c_char_p),
                ("n_params", ctypes.c_uint64), ("weight_bytes", ctypes.c_uint64)] + [
        (n, ctypes.c_int32) for n in ("n_vocab", "n_ctx_train", "n_embd", "n_layer", "n_head", "n_head_kv",
                                      "head_dim", "n_ff", "sliding_window", "bos", "eos", "eot")]


class SessionParams(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("n_ctx", ctypes.c_int32), ("n_threads", ctypes.c_int32),
                ("n_batch", ctypes.c_int32), ("kv_type_k", ctypes.c_int), ("kv_type_v", ctypes.c_int),
                ("kv_window", ctypes.c_int32), ("kv_sinks", ctypes.c_int32), ("mem_budget", ctypes.c_uint64)]


class MemoryPlan(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("n_ctx", ctypes.c_int32), ("kv_positions", ctypes.c_int32)] + [
        (n, ctypes.c_uint64) for n in ("weights", "kv_values", "kv_scales", "activations", "logits", "total")]


class Fit(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("fits", ctypes.c_bool), ("needed_bytes", ctypes.c_uint64),
                ("usable_bytes", ctypes.c_uint64), ("decode_tokens_per_s", ctypes.c_double),
                ("prefill_tokens_per_s", ctypes.c_double), ("reason", ctypes.c_char * 256)]


class SamplingParams(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("temperature", ctypes.c_float), ("top_k", ctypes.c_int32),
                ("top_p", ctypes.c_float), ("min_p", ctypes.c_float), ("repeat_penalty", ctypes.c_float),
                ("frequency_penalty", ctypes.c_float), ("presence_penalty", ctypes.c_float),
                ("penalty_last_n", ctypes.c_int32), ("seed", ctypes.c_uint64)]


class GenerateParams(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("n_predict", ctypes.c_int32),
                ("sampling", ctypes.POINTER(SamplingParams)),
                ("stop_strings", ctypes.POINTER(ctypes.c_char_p)), ("n_stop_strings", ctypes.c_size_t),
                ("stop_on_bos", ctypes.c_bool), ("add_special", ctypes.c_bool), ("parse_special", ctypes.c_bool),
                ("draft_model", ctypes.c_char_p), ("draft_lookup", ctypes.c_bool),
                ("draft_self_layers", ctypes.c_int32), ("draft_max", ctypes.c_int32),
                ("draft_adaptive", ctypes.c_bool), ("draft_self_type", ctypes.c_char_p)]


class GenerateStats(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("n_prompt", ctypes.c_int32), ("n_reused", ctypes.c_int32),
                ("n_generated", ctypes.c_int32), ("prompt_seconds", ctypes.c_double),
                ("generate_seconds", ctypes.c_double), ("finish_reason", ctypes.c_char_p),
                ("drafted", ctypes.c_int64), ("accepted", ctypes.c_int64)]


class ChatMessage(ctypes.Structure):
    _fields_ = [("role", ctypes.c_char_p), ("content", ctypes.c_char_p)]


def _load():
    path = os.environ.get("POCKET_LIBRARY") or ctypes.util.find_library("pocket") or "libpocket.so.1"
    return ctypes.CDLL(path)


lib = _load()

_P = ctypes.POINTER
_vp = ctypes.c_void_p
_st = ctypes.c_int  # pocket_status
_sz = ctypes.c_size_t
_signatures = {
    "pocket_version": (ctypes.c_char_p, []),
    "pocket_abi_version": (ctypes.c_int, []),
    "pocket_status_name": (ctypes.c_char_p, [_st]),
    "pocket_last_error": (ctypes.c_char_p, []),
    "pocket_model_default_params": (ModelParams, []),
    "pocket_model_load": (_st, [ctypes.c_char_p, _P(ModelParams), _P(_vp)]),
    "pocket_model_free": (None, [_vp]),
    "pocket_model_get_info": (_st, [_vp, _P(ModelInfo)]),
    "pocket_model_meta": (_st, [_vp, ctypes.c_char_p, ctypes.c_char_p, _sz, _P(_sz)]),
    "pocket_token_is_eog": (ctypes.c_bool, [_vp, c_token]),
    "pocket_session_default_params": (SessionParams, []),
    "pocket_model_plan": (_st, [_vp, _P(SessionParams), _P(MemoryPlan)]),
    "pocket_model_fits": (_st, [_vp, _P(SessionParams), ctypes.c_char_p, _P(Fit)]),
    "pocket_session_new": (_st, [_vp, _P(SessionParams), _P(_vp)]),
    "pocket_session_free": (None, [_vp]),
    "pocket_session_n_ctx": (ctypes.c_int32, [_vp]),
    "pocket_session_n_tokens": (ctypes.c_int32, [_vp]),
    "pocket_session_tokens": (_st, [_vp, _P(c_token), _sz, _P(_sz)]),
    "pocket_session_memory": (_st, [_vp, _P(MemoryPlan)]),
    "pocket_session_truncate": (_st, [_vp, ctypes.c_int32]),
    "pocket_session_decode": (_st, [_vp, _P(c_token), _sz]),
    "pocket_session_logits": (_st, [_vp, _P(_P(ctypes.c_float)), _P(ctypes.c_int32)]),
    "pocket_session_embed": (_st, [_vp, _P(c_token), _sz, ctypes.c_int, ctypes.c_bool, _P(ctypes.c_float), _sz]),
    "pocket_session_save": (_st, [_vp, ctypes.c_char_p]),
    "pocket_session_load": (_st, [_vp, ctypes.c_char_p]),
    "pocket_session_fork": (_st, [_vp, _P(_vp)]),
    "pocket_tokenize": (_st, [_vp, ctypes.c_char_p, _sz, ctypes.c_bool, ctypes.c_bool, _P(c_token), _sz, _P(_sz)]),
    "pocket_token_to_piece": (_st, [_vp, c_token, ctypes.c_bool, ctypes.c_char_p, _sz, _P(_sz)]),
    "pocket_detokenize": (_st, [_vp, _P(c_token), _sz, ctypes.c_bool, ctypes.c_char_p, _sz, _P(_sz)]),
    "pocket_chat_apply": (_st, [_vp, ctypes.c_char_p, _P(ChatMessage), _sz, ctypes.c_char_p, _sz, _P(_sz)]),
    "pocket_chat_stop_strings": (_st, [_vp, ctypes.c_char_p, _P(ctypes.c_char_p), _sz, _P(_sz)]),
    "pocket_sampling_default_params": (SamplingParams, []),
    "pocket_generate_default_params": (GenerateParams, []),
    "pocket_generate_begin": (_st, [_vp, ctypes.c_char_p, _P(GenerateParams)]),
    "pocket_generate_next": (_st, [_vp, _P(_vp), _P(_sz), _P(ctypes.c_bool)]),
    "pocket_generate_end": (_st, [_vp, _P(GenerateStats)]),
    "pocket_session_cancel": (None, [_vp]),
}
for _name, (_res, _args) in _signatures.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args
