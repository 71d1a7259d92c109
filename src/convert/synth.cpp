#include "convert/synth.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "convert/hf_config.h"
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
VocabData synthetic_vocab(int64_t n, bool phi3) {
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
  if (phi3 && n > 3 + 256) {  // llama.cpp's vocabulary loader looks this control token up by name in Phi-3 files
    v.tokens[3 + 256] = "<|endoftext|>";
    v.types[3 + 256] = 3;
  }
  return v;
}

}  // namespace

Status write_synthetic_model(const ModelShape& sh, const std::string& out_path, const SynthOptions& opts) {
  const TypeTraits& tt = traits(opts.type);
  if (tt.from_float == nullptr) return error(ErrorCode::kInvalidArgument, std::string("synth: cannot write type ") + tt.name);
  const std::string a = sh.arch;
  if (opts.window_override > 0 && sh.sliding_window == 0)
    return error(ErrorCode::kInvalidArgument, std::string("synth: --window: shape ") + sh.name + " has no sliding window to shorten");
  const int64_t n_layer = opts.n_layer_override > 0 ? opts.n_layer_override : sh.n_layer;
  const int64_t hd = sh.head_dim > 0 ? sh.head_dim : sh.n_embd / sh.n_head, rd = sh.rope_dim > 0 ? sh.rope_dim : hd;
  const int64_t D = sh.n_embd, Q = sh.n_head * hd, KV = sh.n_head_kv * hd, F = sh.n_ff, V = sh.n_vocab;
  const bool gemma = a == "gemma2" || a == "gemma3", phi3 = a == "phi3", qk_norm = a == "qwen3" || a == "gemma3";
  LlamaHParams hp;
  hp.arch = a;
  hp.name = std::string("synthetic ") + sh.name;
  hp.n_embd = D;
  hp.n_ff = F;
  hp.n_layer = n_layer;
  hp.n_head = sh.n_head;
  hp.n_head_kv = sh.n_head_kv;
  hp.head_dim = sh.head_dim;
  hp.rope_dim = sh.rope_dim;
  hp.n_ctx = sh.n_ctx;
  hp.rms_eps = sh.rms_eps;
  hp.rope_freq_base = sh.rope_freq_base;
  GgufWriter w;
  write_llama_metadata(w, hp, synthetic_vocab(V, phi3), opts.type);
  const int64_t window = opts.window_override > 0 ? opts.window_override : sh.sliding_window;
  if (window > 0) w.set(a + ".attention.sliding_window", GgufValue::make_u32((uint32_t)window));
  if (a == "gemma2") {  // Gemma 2's published caps
    w.set(a + ".attn_logit_softcapping", GgufValue::make_f32(50.0f));
    w.set(a + ".final_logit_softcapping", GgufValue::make_f32(30.0f));
  }
  if (sh.rope_linear_factor > 0.0f) {
    w.set(a + ".rope.scaling.type", GgufValue::make_string("linear"));
    w.set(a + ".rope.scaling.factor", GgufValue::make_f32(sh.rope_linear_factor));
  }
  if (sh.rope_extra == RopeExtra::kLongRope) {
    constexpr int64_t kOrig = 4096;
    const double scale = (double)sh.n_ctx / kOrig;
    w.set(a + ".rope.scaling.original_context_length", GgufValue::make_u32((uint32_t)kOrig));
    w.set(a + ".rope.scaling.attn_factor", GgufValue::make_f32((float)std::sqrt(1.0 + std::log(scale) / std::log((double)kOrig))));
  }
  uint64_t tensor_seed = opts.seed * 0x9E3779B97F4A7C15ull;
  // Scales that make every part of the block matter, so that a disagreement between two engines is a
  // real one: q and k give attention scores of spread ~sqrt(2) (peaked attention), the other
  // projections keep their input's variance (1/sqrt(fan-in)), norm weights are random in [0.5, 1.5]
  // (a swapped or missing norm changes the output), and the output head gives logits of spread ~4
  // (peaked next-token distributions: greedy paths are stable, a flip is a real difference).
  auto matrix = [&](const std::string& name, int64_t rows, int64_t cols, float sigma) -> Status {
    const uint64_t seed = ++tensor_seed;
    TensorType t = opts.type;
    if (cols % tt.block_size != 0) t = TensorType::F32;
    return w.add_tensor_lazy(name, t, {cols, rows}, [=](uint8_t* dst) {
      Rng rng{seed | 1};
      const TypeTraits& ty = traits(t);
      const size_t rb = row_bytes(ty, cols);
      std::vector<float> row((size_t)cols);
      const float amp = sigma * std::sqrt(3.0f);
      for (int64_t r = 0; r < rows; ++r) {
        for (float& x : row) x = amp * rng.uniform_pm1();
        ty.from_float(row.data(), dst + (size_t)r * rb, cols);
      }
      return Status::ok();
    });
  };
  // value + spread * uniform(-1, 1), kept in F32 as converters keep norms and factors.
  auto vec = [&](const std::string& name, int64_t n, float value, float spread) -> Status {
    const uint64_t seed = ++tensor_seed;
    return w.add_tensor_lazy(name, TensorType::F32, {n}, [=](uint8_t* dst) {
      Rng rng{seed | 1};
      float* f = reinterpret_cast<float*>(dst);
      for (int64_t i = 0; i < n; ++i) f[i] = value + spread * rng.uniform_pm1();
      return Status::ok();
    });
  };
  auto values = [&](const std::string& name, std::vector<float> v) -> Status {
    const int64_t n = (int64_t)v.size();
    return w.add_tensor_lazy(name, TensorType::F32, {n}, [v = std::move(v)](uint8_t* dst) {
      std::memcpy(dst, v.data(), v.size() * sizeof(float));
      return Status::ok();
    });
  };
  auto inv_sqrt = [](int64_t n) { return 1.0f / std::sqrt((float)n); };
  // Tied heads: small embedding rows (the layers' sum dominates the final state, so a token's own row
  // does not win every position) and the spread of ~4 from output_norm's weights.
  const float qk_sigma = std::sqrt(2.0f) * inv_sqrt(D), post_norm = gemma ? 30.0f : 1.0f;
  POCKET_RETURN_IF_ERROR(matrix("token_embd.weight", V, D, sh.tied_output ? inv_sqrt(D) : 1.0f));
  POCKET_RETURN_IF_ERROR(vec("output_norm.weight", D, 4.0f, 2.0f));
  if (!sh.tied_output) POCKET_RETURN_IF_ERROR(matrix("output.weight", V, D, inv_sqrt(D)));
  if (sh.rope_extra == RopeExtra::kLlama3)
    POCKET_RETURN_IF_ERROR(values("rope_freqs.weight", llama3_rope_factors(sh.rope_freq_base, rd, 32, 1, 4, 8192)));
  if (sh.rope_extra == RopeExtra::kLongRope) {
    POCKET_RETURN_IF_ERROR(vec("rope_factors_long.weight", rd / 2, 20.0f, 19.0f));
    POCKET_RETURN_IF_ERROR(vec("rope_factors_short.weight", rd / 2, 1.25f, 0.25f));
  }
  for (int64_t l = 0; l < n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    POCKET_RETURN_IF_ERROR(vec(p + "attn_norm.weight", D, 1.0f, 0.5f));
    if (phi3) {
      // Q and K rows at the q/k scale, V rows at 1/sqrt(D): one tensor, so one compromise scale.
      POCKET_RETURN_IF_ERROR(matrix(p + "attn_qkv.weight", Q + 2 * KV, D, qk_sigma));
    } else {
      POCKET_RETURN_IF_ERROR(matrix(p + "attn_q.weight", Q, D, qk_sigma));
      POCKET_RETURN_IF_ERROR(matrix(p + "attn_k.weight", KV, D, qk_sigma));
      POCKET_RETURN_IF_ERROR(matrix(p + "attn_v.weight", KV, D, inv_sqrt(D)));
    }
    if (sh.qkv_bias) {
      POCKET_RETURN_IF_ERROR(vec(p + "attn_q.bias", Q, 0.0f, 0.1f));
      POCKET_RETURN_IF_ERROR(vec(p + "attn_k.bias", KV, 0.0f, 0.1f));
      POCKET_RETURN_IF_ERROR(vec(p + "attn_v.bias", KV, 0.0f, 0.1f));
    }
    if (qk_norm) {
      POCKET_RETURN_IF_ERROR(vec(p + "attn_q_norm.weight", hd, 1.0f, 0.5f));
      POCKET_RETURN_IF_ERROR(vec(p + "attn_k_norm.weight", hd, 1.0f, 0.5f));
    }
    POCKET_RETURN_IF_ERROR(matrix(p + "attn_output.weight", D, Q, inv_sqrt(Q)));
    if (gemma) POCKET_RETURN_IF_ERROR(vec(p + "post_attention_norm.weight", D, post_norm, post_norm / 2));
    POCKET_RETURN_IF_ERROR(vec(p + "ffn_norm.weight", D, 1.0f, 0.5f));
    if (phi3) {
      POCKET_RETURN_IF_ERROR(matrix(p + "ffn_up.weight", 2 * F, D, inv_sqrt(D)));
    } else {
      POCKET_RETURN_IF_ERROR(matrix(p + "ffn_gate.weight", F, D, inv_sqrt(D)));
      POCKET_RETURN_IF_ERROR(matrix(p + "ffn_up.weight", F, D, inv_sqrt(D)));
    }
    POCKET_RETURN_IF_ERROR(matrix(p + "ffn_down.weight", D, F, inv_sqrt(F)));
    if (gemma) POCKET_RETURN_IF_ERROR(vec(p + "post_ffw_norm.weight", D, post_norm, post_norm / 2));
  }
  return w.write(out_path, opts.force);
}

}  // namespace pocket
