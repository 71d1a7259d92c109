// Hyperparameters of a decoder of the Llama family tree (Llama, Mistral, Qwen2/3, Gemma 2/3, Phi-3), read
// and validated from GGUF metadata; model/families/ says how each architecture sets them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/gguf_reader.h"
#include "pocket/status.h"

namespace pocket {

enum class RopeLayout {
  kNormal,  // rotate adjacent pairs (2i, 2i+1): llama.cpp "normal", llama2.c
  kNeox,    // rotate (i, i + d/2): HF rotate_half, Qwen2
};

enum class FfnActivation {
  kSilu,      // SwiGLU: silu(gate) * up (Llama, Qwen, Phi-3)
  kGeluTanh,  // GeGLU: gelu_tanh(gate) * up, gelu through llama.cpp's fp16 table (Gemma)
};

// One RoPE frequency set: theta_i = pos * freq_scale * base^(-2i/rope_dim) / factor_i.
struct RopeParams {
  float base = 10000.0f;
  float freq_scale = 1.0f;  // 1 / linear scaling factor (rope.scaling.type = linear)
};

// What one layer's attention sees and how its positions rotate (Gemma's interleaved local/global layers).
struct LayerAttention {
  int64_t window = 0;  // attends to its last `window` positions (itself included); 0: every position
  int rope = 0;        // index into ModelConfig::rope_sets; kNoRope: q and k are not rotated (SmolLM3's NoPE layers)
  static constexpr int kNoRope = -1;
};

struct ModelConfig {
  std::string arch;  // GGUF general.architecture ("llama", "qwen2", ...)
  std::string name;  // general.name, informational
  int64_t n_vocab = 0;
  int64_t n_embd = 0;  // model width
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;  // < n_head: grouped-query attention; 1: multi-query
  int64_t head_dim = 0;   // per-head width of Q and K (and V)
  int64_t n_ff = 0;       // SwiGLU hidden width
  int64_t n_ctx_train = 0;
  int64_t sliding_window = 0;  // {arch}.attention.sliding_window (Mistral-style models); 0 = none
  int64_t rope_dim = 0;        // rotated dimensions per head (<= head_dim)
  float rope_freq_base = 10000.0f;
  RopeLayout rope_layout = RopeLayout::kNormal;
  float rms_eps = 1e-5f;

  // The block's variations by family (model/families): Llama's block with these set as its family does.
  FfnActivation ffn_act = FfnActivation::kSilu;
  bool qk_norm = false;           // RMSNorm of every q and k head before RoPE (Qwen3, Gemma 3): attn_{q,k}_norm
  bool post_norms = false;        // RMSNorm of the attention and FFN outputs before each residual add (Gemma 2/3)
  bool fused_qkv = false;         // attn_qkv.weight holds Q, K, V rows (Phi-3)
  bool fused_gate_up = false;     // ffn_up.weight holds gate then up rows (Phi-3)
  float embd_scale = 1.0f;        // token embeddings times this (Gemma: sqrt(n_embd))
  float attn_scale = 0.0f;        // q.k multiplier (default 1/sqrt(head_dim))
  float attn_softcap = 0.0f;      // scores -> cap * tanh(scores / cap) before softmax (Gemma 2); 0: off
  float final_softcap = 0.0f;     // the same on the logits (Gemma 2); 0: off
  float rope_attn_factor = 1.0f;  // cos and sin times this (rope.scaling.attn_factor, Phi-3 LongRoPE)
  RopeParams rope_sets[2];        // [0]: every layer's unless LayerAttention::rope says 1 (Gemma 3 local layers)
  int n_rope_sets = 1;
  std::string rope_factors_tensor;       // per-pair frequency divisors: rope_freqs (Llama 3), rope_factors_short (Phi-3); "" = none
  std::string rope_factors_long_tensor;  // Phi-3 LongRoPE: the factors for contexts over rope_long_after
  int64_t rope_long_after = 0;
  std::vector<float> rope_freq_factors;       // [rope_dim / 2], filled from rope_factors_tensor by the weight loader
  std::vector<float> rope_freq_factors_long;  // [rope_dim / 2] or empty
  int64_t local_window = 0;                   // Gemma: the local layers' window (in layers[].window)
  std::vector<LayerAttention> layers;         // [n_layer]

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
  // The frequency divisors for a context of n_ctx positions (empty: none).
  const std::vector<float>& rope_factors_for(int64_t n_ctx) const {
    return rope_long_after > 0 && n_ctx > rope_long_after ? rope_freq_factors_long : rope_freq_factors;
  }
};

// Reads `<arch>.*` keys. Errors name the file and the key.
Result<ModelConfig> read_model_config(const GgufFile& f);

}  // namespace pocket
