#!/usr/bin/env python3
"""A random-weight GGUF per architecture family written by llama.cpp's own gguf-py (GGUFWriter, numpy), so
the comparison of bench/compare_families.sh also runs on files that pocket's writer did not make: pocket
reads them, node-llama-cpp is the reference. Weights come from numpy's generator (not pocket synth's), at
the scales pocket synth uses (docs/correctness.md, "Architectures"): q/k rows sqrt(2)/sqrt(D), other
projections 1/sqrt(fan-in), norms 1 +- 0.5 (Gemma post-norms 30 +- 15), output_norm 4 +- 2.

usage: GGUF_PY=/path/to/llama.cpp/gguf-py python3 bench/gguf_py_model.py SHAPE OUT.gguf [--layers N] [--window W] [--type f32|q8_0]
Shapes: llama-3.2-1b qwen2.5-0.5b qwen3-0.6b gemma-2-2b gemma-3-1b smollm3-3b phi-3.5-mini (the real configs' widths).
Key and tensor names are written out here by hand, as llama.cpp's 2026 loader reads them (gguf-py of
c392e5094 predates qwen3/gemma3 in its constants)."""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.environ.get("GGUF_PY", "gguf-py"))
import gguf  # noqa: E402

# name: arch, vocab, D, layers, heads, kv heads, head_dim, ff, ctx, rope base, eps, tied, qkv bias, window, extra
SHAPES = {
    "llama-3.2-1b": ("llama", 128256, 2048, 16, 32, 8, 64, 8192, 131072, 500000.0, 1e-5, True, False, 0, "llama3"),
    "qwen2.5-0.5b": ("qwen2", 151936, 896, 24, 14, 2, 64, 4864, 32768, 1000000.0, 1e-6, True, True, 0, ""),
    "qwen3-0.6b": ("qwen3", 151936, 1024, 28, 16, 8, 128, 3072, 40960, 1000000.0, 1e-6, True, False, 0, ""),
    "gemma-2-2b": ("gemma2", 256000, 2304, 26, 8, 4, 256, 9216, 8192, 10000.0, 1e-6, True, False, 4096, ""),
    "gemma-3-1b": ("gemma3", 262144, 1152, 26, 4, 1, 256, 6912, 32768, 1000000.0, 1e-6, True, False, 512, ""),
    "smollm3-3b": ("smollm3", 128256, 2048, 36, 16, 4, 128, 11008, 65536, 5000000.0, 1e-6, True, False, 0, ""),
    "phi-3.5-mini": ("phi3", 32064, 3072, 32, 32, 32, 96, 8192, 131072, 10000.0, 1e-5, False, False, 0, "longrope"),
}


def llama3_rope_factors(base, rope_dim):
    factor, low, high, old_ctx = 32.0, 1.0, 4.0, 8192.0
    out = []
    for i in range(0, rope_dim, 2):
        wavelen = 2 * math.pi * base ** (i / rope_dim)
        if wavelen < old_ctx / high:
            out.append(1.0)
        elif wavelen > old_ctx / low:
            out.append(factor)
        else:
            smooth = (old_ctx / wavelen - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shape", choices=sorted(SHAPES))
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=0)
    ap.add_argument("--window", type=int, default=0)
    ap.add_argument("--type", choices=["f32", "q8_0"], default="f32")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    arch, V, D, L, H, HKV, hd, F, ctx, base, eps, tied, bias, window, extra = SHAPES[args.shape]
    L = args.layers or L
    if args.window and not window:
        sys.exit(f"gguf_py_model: --window: shape {args.shape} has no sliding window to shorten")
    window = args.window or window
    rng = np.random.default_rng(args.seed)
    gemma, phi3 = arch in ("gemma2", "gemma3"), arch == "phi3"
    qk_norm = arch in ("qwen3", "gemma3")
    Q, KV = H * hd, HKV * hd

    w = gguf.GGUFWriter(args.out, arch)
    w.add_name("gguf-py random " + args.shape)
    w.add_uint32("general.file_type", 0 if args.type == "f32" else 7)
    w.add_uint32(f"{arch}.context_length", ctx)
    w.add_uint32(f"{arch}.embedding_length", D)
    w.add_uint32(f"{arch}.block_count", L)
    w.add_uint32(f"{arch}.feed_forward_length", F)
    w.add_uint32(f"{arch}.attention.head_count", H)
    w.add_uint32(f"{arch}.attention.head_count_kv", HKV)
    if hd != D // H:
        w.add_uint32(f"{arch}.attention.key_length", hd)
        w.add_uint32(f"{arch}.attention.value_length", hd)
    w.add_uint32(f"{arch}.rope.dimension_count", hd)
    w.add_float32(f"{arch}.rope.freq_base", base)
    w.add_float32(f"{arch}.attention.layer_norm_rms_epsilon", eps)
    if window:
        w.add_uint32(f"{arch}.attention.sliding_window", window)
    if arch == "gemma2":
        w.add_float32(f"{arch}.attn_logit_softcapping", 50.0)
        w.add_float32(f"{arch}.final_logit_softcapping", 30.0)
    if extra == "longrope":
        orig = 4096
        w.add_uint32(f"{arch}.rope.scaling.original_context_length", orig)
        w.add_float32(f"{arch}.rope.scaling.attn_factor", math.sqrt(1 + math.log(ctx / orig) / math.log(orig)))
    # SentencePiece-style vocabulary: <unk> <s> </s>, the byte tokens, placeholder pieces.
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + [f"\u2581w{i}" for i in range(259, V)]
    types = [2, 3, 3] + [6] * 256 + [1] * (V - 259)
    if phi3:
        tokens[259], types[259] = "<|endoftext|>", 3
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * 259 + [-float(i) for i in range(259, V)])
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    qtype = gguf.GGMLQuantizationType.Q8_0 if args.type == "q8_0" else gguf.GGMLQuantizationType.F32

    def matrix(name, rows, cols, sigma):
        a = np.float32(sigma * math.sqrt(3.0))
        x = (rng.random((rows, cols), dtype=np.float32) * 2 - 1) * a
        if qtype == gguf.GGMLQuantizationType.F32 or cols % 32 != 0:
            w.add_tensor(name, x)
        else:
            w.add_tensor(name, gguf.quants.quantize(x, qtype), raw_dtype=qtype)

    def vec(name, n, value, spread):
        w.add_tensor(name, (value + spread * (rng.random(n, dtype=np.float32) * 2 - 1)).astype(np.float32))

    inv = lambda n: 1.0 / math.sqrt(n)  # noqa: E731
    matrix("token_embd.weight", V, D, inv(D) if tied else 1.0)
    vec("output_norm.weight", D, 4.0, 2.0)
    if not tied:
        matrix("output.weight", V, D, inv(D))
    if extra == "llama3":
        w.add_tensor("rope_freqs.weight", llama3_rope_factors(base, hd))
    if extra == "longrope":
        vec("rope_factors_long.weight", hd // 2, 20.0, 19.0)
        vec("rope_factors_short.weight", hd // 2, 1.25, 0.25)
    qk = math.sqrt(2.0) * inv(D)
    post = 30.0 if gemma else 1.0
    for l in range(L):
        p = f"blk.{l}."
        vec(p + "attn_norm.weight", D, 1.0, 0.5)
        if phi3:
            matrix(p + "attn_qkv.weight", Q + 2 * KV, D, qk)
        else:
            matrix(p + "attn_q.weight", Q, D, qk)
            matrix(p + "attn_k.weight", KV, D, qk)
            matrix(p + "attn_v.weight", KV, D, inv(D))
        if bias:
            vec(p + "attn_q.bias", Q, 0.0, 0.1)
            vec(p + "attn_k.bias", KV, 0.0, 0.1)
            vec(p + "attn_v.bias", KV, 0.0, 0.1)
        if qk_norm:
            vec(p + "attn_q_norm.weight", hd, 1.0, 0.5)
            vec(p + "attn_k_norm.weight", hd, 1.0, 0.5)
        matrix(p + "attn_output.weight", D, Q, inv(Q))
        if gemma:
            vec(p + "post_attention_norm.weight", D, post, post / 2)
        vec(p + "ffn_norm.weight", D, 1.0, 0.5)
        if phi3:
            matrix(p + "ffn_up.weight", 2 * F, D, inv(D))
        else:
            matrix(p + "ffn_gate.weight", F, D, inv(D))
            matrix(p + "ffn_up.weight", F, D, inv(D))
        matrix(p + "ffn_down.weight", D, F, inv(F))
        if gemma:
            vec(p + "post_ffw_norm.weight", D, post, post / 2)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
