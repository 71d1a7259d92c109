#!/usr/bin/env python3
"""Random Hugging Face checkpoints per model family, and their logits computed the way transformers'
modeling code computes them (numpy, float64): the independent side of scripts/test_convert_families.sh.

  hf_reference.py make FAMILY DIR      config.json, model.safetensors (F32), tokenizer.json
  hf_reference.py logits DIR IDS OUT   teacher-forced logits of every position, float32 [positions][vocab]

Nothing here reads GGUF or knows llama.cpp's layout: rotate-half RoPE on HF's row order, Gemma's (1 + w)
norms on the stored w, Phi-3's fused rows split as transformers splits them. Semantics follow
transformers' modeling_{llama,mistral,qwen2,qwen3,gemma2,gemma3,phi3,smollm3}.py.
"""
import json
import math
import os
import shutil
import struct
import sys

import numpy as np

TOKENIZER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "models", "TinyStories-656K", "tokenizer.json")
VOCAB = 2048

BASE = {
    "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "max_position_embeddings": 512, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
    "vocab_size": VOCAB, "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2,
    "hidden_act": "silu", "torch_dtype": "float32",
}

FAMILIES = {
    "llama3": dict(model_type="llama", architectures=["LlamaForCausalLM"], rope_theta=500000.0,
                   rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                 "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
                   tie_word_embeddings=True),
    "mistral": dict(model_type="mistral", architectures=["MistralForCausalLM"], sliding_window=8),
    "qwen2": dict(model_type="qwen2", architectures=["Qwen2ForCausalLM"], rope_theta=1000000.0,
                  use_sliding_window=False, sliding_window=131072, tie_word_embeddings=True),
    "qwen3": dict(model_type="qwen3", architectures=["Qwen3ForCausalLM"], head_dim=32, attention_bias=False,
                  rope_theta=1000000.0, tie_word_embeddings=True),
    "gemma2": dict(model_type="gemma2", architectures=["Gemma2ForCausalLM"], head_dim=32, query_pre_attn_scalar=32,
                   hidden_activation="gelu_pytorch_tanh", hidden_act="gelu_pytorch_tanh", sliding_window=8,
                   attn_logit_softcapping=50.0, final_logit_softcapping=30.0, tie_word_embeddings=True),
    "gemma3": dict(model_type="gemma3_text", architectures=["Gemma3ForCausalLM"], num_hidden_layers=6, head_dim=32,
                   query_pre_attn_scalar=32, hidden_activation="gelu_pytorch_tanh", hidden_act=None, sliding_window=8,
                   sliding_window_pattern=6, rope_local_base_freq=10000.0, rope_theta=1000000.0,
                   rope_scaling={"rope_type": "linear", "factor": 8.0}, attn_logit_softcapping=None,
                   final_logit_softcapping=None, tie_word_embeddings=True),
    "phi3": dict(model_type="phi3", architectures=["Phi3ForCausalLM"], partial_rotary_factor=0.75,
                 max_position_embeddings=2048, original_max_position_embeddings=256, sliding_window=2047,
                 rope_scaling={"type": "longrope", "short_factor": None, "long_factor": None}),
    "smollm3": dict(model_type="smollm3", architectures=["SmolLM3ForCausalLM"], num_hidden_layers=4,
                    no_rope_layer_interval=4, no_rope_layers=[1, 1, 1, 0], rope_theta=2000000.0,
                    tie_word_embeddings=True),
}


def family_config(name):
    cfg = dict(BASE)
    cfg.update(FAMILIES[name])
    if name == "phi3":
        hd = cfg["hidden_size"] // cfg["num_attention_heads"]
        half = int(hd * cfg["partial_rotary_factor"]) // 2
        rng = np.random.default_rng(11)
        cfg["rope_scaling"]["short_factor"] = [float(x) for x in 1.0 + rng.random(half) * 0.5]
        cfg["rope_scaling"]["long_factor"] = [float(x) for x in 1.0 + rng.random(half) * 20.0]
    return cfg


def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def make_weights(cfg, seed):
    rng = np.random.default_rng(seed)
    D, F, V, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    hd, H, KV = head_dim(cfg), cfg["num_attention_heads"], cfg["num_key_value_heads"]
    mt = cfg["model_type"]
    gemma = mt.startswith("gemma")

    def mat(rows, cols, scale=1.0):
        return (rng.standard_normal((rows, cols)) * scale / math.sqrt(cols)).astype(np.float32)

    def norm(n):  # Gemma stores w of (1 + w)
        return (rng.random(n) - 0.5).astype(np.float32) if gemma else (0.5 + rng.random(n)).astype(np.float32)

    w = {"model.embed_tokens.weight": (rng.standard_normal((V, D)) * (0.1 if gemma else 1.0)).astype(np.float32),
         "model.norm.weight": norm(D)}
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = mat(V, D, 4.0)
    for l in range(L):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = norm(D)
        w[p + "post_attention_layernorm.weight"] = norm(D)
        if mt == "phi3":
            w[p + "self_attn.qkv_proj.weight"] = np.concatenate([mat(H * hd, D, 3.0), mat(KV * hd, D, 3.0), mat(KV * hd, D)])
            w[p + "mlp.gate_up_proj.weight"] = mat(2 * F, D)
        else:
            w[p + "self_attn.q_proj.weight"] = mat(H * hd, D, 3.0)
            w[p + "self_attn.k_proj.weight"] = mat(KV * hd, D, 3.0)
            w[p + "self_attn.v_proj.weight"] = mat(KV * hd, D)
            w[p + "mlp.gate_proj.weight"] = mat(F, D)
            w[p + "mlp.up_proj.weight"] = mat(F, D)
        w[p + "self_attn.o_proj.weight"] = mat(D, H * hd)
        w[p + "mlp.down_proj.weight"] = mat(D, F)
        if mt == "qwen2":
            for n, rows in (("q", H * hd), ("k", KV * hd), ("v", KV * hd)):
                w[p + f"self_attn.{n}_proj.bias"] = (rng.standard_normal(rows) * 0.1).astype(np.float32)
        if mt in ("qwen3", "gemma3_text"):
            w[p + "self_attn.q_norm.weight"] = norm(hd)
            w[p + "self_attn.k_norm.weight"] = norm(hd)
        if gemma:
            w[p + "pre_feedforward_layernorm.weight"] = norm(D)
            w[p + "post_feedforward_layernorm.weight"] = norm(D)
    return w


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        b = np.ascontiguousarray(t, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        assert meta["dtype"] == "F32", name
        a, b = meta["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(meta["shape"]).astype(np.float64)
    return out


# ---- transformers' semantics -------------------------------------------------------------------

def rms_norm(x, w, eps, gemma):
    y = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
    return y * (1.0 + w) if gemma else y * w


def inv_freq(cfg, rd, local):
    base = cfg["rope_local_base_freq"] if local else cfg["rope_theta"]
    f = 1.0 / base ** (np.arange(0, rd, 2, dtype=np.float64) / rd)
    rs = None if local else cfg.get("rope_scaling")
    attn = 1.0
    if rs:
        kind = rs.get("rope_type", rs.get("type"))
        if kind == "linear":
            f = f / rs["factor"]
        elif kind == "llama3":
            factor, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
            wavelen = 2 * math.pi / f
            smooth = (old / wavelen - lo) / (hi - lo)
            scaled = np.where(wavelen > old / lo, f / factor, f)
            mid = (wavelen >= old / hi) & (wavelen <= old / lo)
            f = np.where(mid, (1 - smooth) * f / factor + smooth * f, scaled)
        elif kind in ("longrope", "su"):
            orig = cfg["original_max_position_embeddings"]
            # transformers picks the factors by sequence length; these tests stay under `orig`
            f = f / np.array(rs["short_factor"], dtype=np.float64)
            scale = cfg["max_position_embeddings"] / orig
            attn = 1.0 if scale <= 1 else math.sqrt(1 + math.log(scale) / math.log(orig))
        else:
            raise SystemExit(f"rope type {kind} not modelled")
    return f, attn


def rope(x, pos, cfg, rd, local):  # x [T, heads, hd], rotate-half on the first rd dims
    f, attn = inv_freq(cfg, rd, local)
    ang = np.outer(pos, f)
    cos = np.concatenate([np.cos(ang), np.cos(ang)], axis=-1)[:, None, :] * attn
    sin = np.concatenate([np.sin(ang), np.sin(ang)], axis=-1)[:, None, :] * attn
    r, rest = x[..., :rd], x[..., rd:]
    half = rd // 2
    rot = np.concatenate([-r[..., half:], r[..., :half]], axis=-1)
    return np.concatenate([r * cos + rot * sin, rest], axis=-1)


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(cfg, w, ids):
    mt = cfg["model_type"]
    gemma = mt.startswith("gemma")
    D, L, H, KV = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, eps, T = head_dim(cfg), cfg["rms_norm_eps"], len(ids)
    rd = int(hd * cfg.get("partial_rotary_factor", 1.0))
    pos = np.arange(T, dtype=np.float64)
    x = w["model.embed_tokens.weight"][ids]
    if gemma:
        x = x * np.float32(math.sqrt(D))
    for l in range(L):
        p = f"model.layers.{l}."
        if mt == "gemma2":
            local = l % 2 == 0
        elif mt == "gemma3_text":
            local = (l + 1) % cfg["sliding_window_pattern"] != 0
        else:
            local = False
        window = cfg.get("sliding_window") if (local or mt == "mistral" or mt == "phi3") else None
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps, gemma)
        if mt == "phi3":
            qkv = h @ w[p + "self_attn.qkv_proj.weight"].T
            q, k, v = np.split(qkv, [H * hd, H * hd + KV * hd], axis=-1)
        else:
            q, k, v = (h @ w[p + f"self_attn.{n}_proj.weight"].T for n in "qkv")
            if mt == "qwen2":
                q, k, v = q + w[p + "self_attn.q_proj.bias"], k + w[p + "self_attn.k_proj.bias"], v + w[p + "self_attn.v_proj.bias"]
        q, k, v = q.reshape(T, H, hd), k.reshape(T, KV, hd), v.reshape(T, KV, hd)
        if mt in ("qwen3", "gemma3_text"):
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps, gemma)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps, gemma)
        use_rope = mt != "smollm3" or cfg["no_rope_layers"][l] == 1
        if use_rope:
            rope_local = mt == "gemma3_text" and local
            q, k = rope(q, pos, cfg, rd, rope_local), rope(k, pos, cfg, rd, rope_local)
        scale = cfg["query_pre_attn_scalar"] ** -0.5 if gemma else hd ** -0.5
        out = np.zeros((T, H, hd))
        for head in range(H):
            kh = head // (H // KV)
            s = (q[:, head, :] @ k[:, kh, :].T) * scale
            cap = cfg.get("attn_logit_softcapping") if mt == "gemma2" else None
            if cap:
                s = np.tanh(s / cap) * cap
            i, j = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
            allowed = j <= i
            if window:
                allowed &= (i - j) < window
            s = np.where(allowed, s, -np.inf)
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            out[:, head, :] = (s / s.sum(axis=-1, keepdims=True)) @ v[:, kh, :]
        a = out.reshape(T, H * hd) @ w[p + "self_attn.o_proj.weight"].T
        if gemma:
            a = rms_norm(a, w[p + "post_attention_layernorm.weight"], eps, True)
            x = x + a
            h = rms_norm(x, w[p + "pre_feedforward_layernorm.weight"], eps, True)
        else:
            x = x + a
            h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps, False)
        if mt == "phi3":
            gate, up = np.split(h @ w[p + "mlp.gate_up_proj.weight"].T, 2, axis=-1)
        else:
            gate, up = h @ w[p + "mlp.gate_proj.weight"].T, h @ w[p + "mlp.up_proj.weight"].T
        act = gelu_tanh(gate) if gemma else gate / (1 + np.exp(-gate))
        m = (act * up) @ w[p + "mlp.down_proj.weight"].T
        if gemma:
            m = rms_norm(m, w[p + "post_feedforward_layernorm.weight"], eps, True)
        x = x + m
    x = rms_norm(x, w["model.norm.weight"], eps, gemma)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    logits = x @ head.T
    cap = cfg.get("final_logit_softcapping")
    if cap:
        logits = np.tanh(logits / cap) * cap
    return logits


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        name, d = sys.argv[2], sys.argv[3]
        cfg = family_config(name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1)
        w = make_weights(cfg, seed=sum(map(ord, name)))
        if name == "qwen2":  # two shards and their index, as large checkpoints come
            names = sorted(w)
            shards = {"model-00001-of-00002.safetensors": names[::2], "model-00002-of-00002.safetensors": names[1::2]}
            for file, part in shards.items():
                write_safetensors(os.path.join(d, file), {n: w[n] for n in part})
            with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
                json.dump({"metadata": {}, "weight_map": {n: file for file, part in shards.items() for n in part}}, f)
        else:
            write_safetensors(os.path.join(d, "model.safetensors"), w)
        shutil.copy(TOKENIZER, os.path.join(d, "tokenizer.json"))
    elif len(sys.argv) == 5 and sys.argv[1] == "logits":
        d = sys.argv[2]
        cfg = json.load(open(os.path.join(d, "config.json")))
        ids = [int(t) for t in sys.argv[3].replace(",", " ").split()]
        files = [f for f in sorted(os.listdir(d)) if f.endswith(".safetensors")]
        w = {}
        for f in files:
            w.update(read_safetensors(os.path.join(d, f)))
        forward(cfg, w, ids).astype("<f4").tofile(sys.argv[4])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
