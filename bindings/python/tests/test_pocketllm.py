"""The Python binding against the CLI and the C API's rules. Needs $POCKET_MODEL (stories15M GGUF) and
$POCKET_CLI (the pocket binary); $POCKET_LIBRARY picks the libpocket.so to test."""

import math
import os
import subprocess
import threading

import pytest

import pocketllm

MODEL = os.environ["POCKET_MODEL"]
CLI = os.environ["POCKET_CLI"]
PROMPT = "Once upon a time"


def cli_greedy(prompt, n):
    out = subprocess.run([CLI, "run", "-m", MODEL, "-p", prompt, "-n", str(n), "--temp", "0", "--no-display-prompt", "-t", "1"],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    assert out.endswith(b"\n")
    return out[:-1].decode("utf-8")


@pytest.fixture(scope="module")
def model():
    with pocketllm.Model(MODEL) as m:
        yield m


def test_greedy_text_is_byte_identical_to_pocket_run(model):
    with model.session(n_ctx=256, n_threads=1) as s:
        text = "".join(s.generate(PROMPT, n_predict=64, temperature=0))
        assert s.stats.n_generated == 64
        assert s.stats.finish_reason == "n_predict"
    assert text.encode("utf-8") == cli_greedy(PROMPT, 64).encode("utf-8")


def test_the_generator_streams_and_stops_when_left(model):
    with model.session(n_ctx=256, n_threads=1) as s:
        pieces = []
        for piece in s.generate(PROMPT, n_predict=100, temperature=0):
            pieces.append(piece)
            if len(pieces) == 3:
                break
        assert s.stats is not None  # leaving the loop ended the generation (the generator was closed)
        gen = s.generate(None, n_predict=5, temperature=0)  # a new one can begin
        list(gen)
        assert s.stats.n_generated == 5


def test_state_file_continues_in_a_new_session(model, tmp_path):
    path = str(tmp_path / "story.state")
    with model.session(n_ctx=256, n_threads=1) as whole:
        want = whole.generate_text(PROMPT, n_predict=30, temperature=0)
    with model.session(n_ctx=256, n_threads=1) as a:
        first = a.generate_text(PROMPT, n_predict=10, temperature=0)
        a.save(path)
    with pocketllm.Model(MODEL) as other, other.session(n_ctx=256, n_threads=1) as b:
        b.load(path)
        rest = b.generate_text(None, n_predict=20, temperature=0)
        assert b.stats.n_reused == b.stats.n_prompt
    assert first + rest == want


def test_tokens_chat_and_metadata(model):
    ids = model.tokenize("Hello world")
    assert ids[0] == model.info["bos"] == 1
    assert model.detokenize(ids[1:]) == "Hello world"
    assert model.info["architecture"] == "llama"
    assert model.meta("general.architecture") == "llama"
    assert model.info["n_vocab"] == 32000
    prompt = model.chat_apply([{"role": "user", "content": "Hi"}], family="chatml")
    assert prompt == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    assert "<|im_end|>" in model.chat_stop_strings("chatml")
    fits, detail = model.fits(n_ctx=512, n_threads=1)
    assert fits and detail["needed_bytes"] == model.plan(n_ctx=512, n_threads=1)["total"]


def test_embeddings_are_normalized(model):
    with model.session(n_ctx=128, n_threads=1) as s:
        e = s.embed(model.tokenize("The cat sat on the mat."))
        assert len(e) == model.info["n_embd"]
        assert math.isclose(sum(v * v for v in e), 1.0, rel_tol=1e-5)


def test_cancel_from_another_thread(model):
    with model.session(n_ctx=1024, n_threads=1) as s:
        gen = s.generate(PROMPT, n_predict=-1, temperature=0, stop_on_bos=False)
        first = next(gen)
        assert first
        threading.Thread(target=s.cancel).start()
        rest = list(gen)
        assert s.stats.finish_reason in ("cancelled", "eos")
        assert s.stats.n_generated < 1000
        del rest


def test_errors_raise_with_the_librarys_message(model, tmp_path):
    with pytest.raises(pocketllm.PocketError) as e:
        pocketllm.Model("/nonexistent/model.gguf")
    assert e.value.status == "io_error" and "/nonexistent/model.gguf" in str(e.value)
    bad = tmp_path / "truncated.gguf"
    bad.write_bytes(open(MODEL, "rb").read(1000))
    with pytest.raises(pocketllm.PocketError) as e:
        pocketllm.Model(str(bad))
    assert str(bad) in str(e.value)
    with model.session(n_ctx=16, n_threads=1) as s:
        with pytest.raises(pocketllm.PocketError) as e:
            s.decode([1, 32000])
        assert e.value.status == "out_of_range" and "outside the vocabulary" in str(e.value)
        with pytest.raises(pocketllm.PocketError) as e:
            s.decode([100] * 17)
        assert "n_ctx" in str(e.value)
        with pytest.raises(pocketllm.PocketError) as e:
            s.generate("Hi", temperature=float("nan"))
        assert "temperature" in str(e.value)
        with pytest.raises(pocketllm.PocketError):
            s.load(str(bad))
    with pytest.raises(pocketllm.PocketError) as e:
        model.session(kv_window=8, kv_sinks=8, n_threads=1)
    assert "kv_sinks" in str(e.value)
    closed = model.session(n_ctx=16, n_threads=1)
    closed.close()
    with pytest.raises(ValueError):
        closed.tokens()


def test_progress_callback_and_cancel():
    seen = []
    with pocketllm.Model(MODEL, progress=lambda f: seen.append(f) or True):
        pass
    assert seen[0] == 0.0 and seen[-1] == 1.0 and len(seen) > 2
    with pytest.raises(pocketllm.PocketError) as e:
        pocketllm.Model(MODEL, progress=lambda f: f < 0.5)
    assert e.value.status == "cancelled"
