#include "convert/synth.h"

#include <cmath>
#include <cstdio>

#include "convert/llama_metadata.h"
#include "format/gguf_writer.h"

namespace pocket {
namespace {

// xorshift64*: fast and reproducible; uniform in [-a, a] with the variance of N(0, sigma^2).
struct Rng {
  uint64_t s;
  float uniform_pm1() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (float)((s * 0x2545F4914F6CDD1Dull) >> 40) * (2.0f / 16777216.0f) - 1.0f;
  }
};

// A vocabulary llama.cpp accepts: <unk> <s> </s>, the 256 byte tokens, then placeholder pieces.
VocabData synthetic_vocab(int64_t n) {
  VocabData v;
  v.model = "llama";
  v.tokens.resize((size_t)n);
  v.scores.assign((size_t)n, 0.0);
  v.types.assign((size_t)n, 1);
  const char* specials[3] = {"<unk>", "<s>", "</s>"};
  for (int64_t i = 0; i < n; ++i) {
    char buf[32];
    if (i < 3) {
      v.tokens[(size_t)i] = specials[i];
      v.types[(size_t)i] = i == 0 ? 2 : 3;
    } else if (i < 3 + 256) {
      std::snprintf(buf, sizeof(buf), "<0x%02X>", (int)(i - 3));
      v.tokens[(size_t)i] = buf;
      v.types[(size_t)i] = 6;
    } else {
      std::snprintf(buf, sizeof(buf), "\xe2\x96\x81t%lld", (long long)i);
      v.tokens[(size_t)i] = buf;
      v.scores[(size_t)i] = -(double)i;
    }
  }
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  return v;
}

}  // namespace

Status write_synthetic_model(const ModelShape& sh, const std::string& out_path, const SynthOptions& opts) {
  const TypeTraits& tt = traits(opts.type);
  if (tt.from_float == nullptr) return error(ErrorCode::kInvalidArgument, std::string("synth: cannot write type ") + tt.name);
  const int64_t n_layer = opts.n_layer_override > 0 ? opts.n_layer_override : sh.n_layer;
  const int64_t hd = sh.n_embd / sh.n_head, D = sh.n_embd, Q = sh.n_head * hd, KV = sh.n_head_kv * hd, F = sh.n_ff, V = sh.n_vocab;
  LlamaHParams hp;
  hp.name = std::string("synthetic ") + sh.name;
  hp.n_embd = D;
  hp.n_ff = F;
  hp.n_layer = n_layer;
  hp.n_head = sh.n_head;
  hp.n_head_kv = sh.n_head_kv;
  hp.n_ctx = sh.n_ctx;
  hp.rms_eps = sh.rms_eps;
  hp.rope_freq_base = sh.rope_freq_base;
  GgufWriter w;
  write_llama_metadata(w, hp, synthetic_vocab(V), opts.type);
  const std::string a = sh.arch;
  if (a != "llama") {  // the same hyperparameters under the architecture's own prefix (qwen2.*)
    w.set("general.architecture", GgufValue::make_string(a));
    w.set(a + ".context_length", GgufValue::make_u32((uint32_t)sh.n_ctx));
    w.set(a + ".embedding_length", GgufValue::make_u32((uint32_t)D));
    w.set(a + ".feed_forward_length", GgufValue::make_u32((uint32_t)F));
    w.set(a + ".attention.head_count", GgufValue::make_u32((uint32_t)sh.n_head));
    w.set(a + ".attention.head_count_kv", GgufValue::make_u32((uint32_t)sh.n_head_kv));
    w.set(a + ".block_count", GgufValue::make_u32((uint32_t)n_layer));
    w.set(a + ".rope.freq_base", GgufValue::make_f32(sh.rope_freq_base));
    w.set(a + ".attention.layer_norm_rms_epsilon", GgufValue::make_f32(sh.rms_eps));
  }
  uint64_t tensor_seed = opts.seed * 0x9E3779B97F4A7C15ull;
  // sigma 0.02 (the usual initialisation); output projections scaled down by depth so the residual
  // stream stays O(1) through every layer.
  auto matrix = [&](const std::string& name, int64_t rows, int64_t cols, float sigma) -> Status {
    const uint64_t seed = ++tensor_seed;
    TensorType t = opts.type;
    if (cols % tt.block_size != 0) t = TensorType::F32;
    return w.add_tensor_lazy(name, t, {cols, rows}, [=](uint8_t* dst) {
      Rng rng{seed | 1};
      const TypeTraits& ty = traits(t);
      const size_t rb = row_bytes(ty, cols);
      std::vector<float> row((size_t)cols);
      const float a = sigma * std::sqrt(3.0f);
      for (int64_t r = 0; r < rows; ++r) {
        for (float& x : row) x = a * rng.uniform_pm1();
        ty.from_float(row.data(), dst + (size_t)r * rb, cols);
      }
      return Status::ok();
    });
  };
  auto vec = [&](const std::string& name, int64_t n, float value) -> Status {
    return w.add_tensor_lazy(name, TensorType::F32, {n}, [=](uint8_t* dst) {
      float* f = reinterpret_cast<float*>(dst);
      for (int64_t i = 0; i < n; ++i) f[i] = value;
      return Status::ok();
    });
  };
  const float out_sigma = 0.02f / std::sqrt(2.0f * (float)n_layer);
  POCKET_RETURN_IF_ERROR(matrix("token_embd.weight", V, D, 0.02f));
  POCKET_RETURN_IF_ERROR(vec("output_norm.weight", D, 1.0f));
  if (!sh.tied_output) POCKET_RETURN_IF_ERROR(matrix("output.weight", V, D, 0.02f));
  for (int64_t l = 0; l < n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    POCKET_RETURN_IF_ERROR(vec(p + "attn_norm.weight", D, 1.0f));
    POCKET_RETURN_IF_ERROR(matrix(p + "attn_q.weight", Q, D, 0.02f));
    POCKET_RETURN_IF_ERROR(matrix(p + "attn_k.weight", KV, D, 0.02f));
    POCKET_RETURN_IF_ERROR(matrix(p + "attn_v.weight", KV, D, 0.02f));
    if (sh.qkv_bias) {
      POCKET_RETURN_IF_ERROR(vec(p + "attn_q.bias", Q, 0.0f));
      POCKET_RETURN_IF_ERROR(vec(p + "attn_k.bias", KV, 0.0f));
      POCKET_RETURN_IF_ERROR(vec(p + "attn_v.bias", KV, 0.0f));
    }
    POCKET_RETURN_IF_ERROR(matrix(p + "attn_output.weight", D, Q, out_sigma));
    POCKET_RETURN_IF_ERROR(vec(p + "ffn_norm.weight", D, 1.0f));
    POCKET_RETURN_IF_ERROR(matrix(p + "ffn_gate.weight", F, D, 0.02f));
    POCKET_RETURN_IF_ERROR(matrix(p + "ffn_up.weight", F, D, 0.02f));
    POCKET_RETURN_IF_ERROR(matrix(p + "ffn_down.weight", D, F, out_sigma));
  }
  return w.write(out_path, opts.force);
}

}  // namespace pocket
