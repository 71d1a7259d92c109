// Shapes of well-known models (from their published config.json), for synthetic benchmark models
// and for planning without a model file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pocket {

// RoPE data beyond base and dimension that a family's files carry.
enum class RopeExtra {
  kNone,
  kLlama3,    // rope_freqs.weight from Llama 3.1's "llama3" scaling (factor 32, low 1, high 4, original 8192)
  kLongRope,  // Phi-3: rope_factors_short/long.weight, rope.scaling.attn_factor, original_context_length 4096
};

struct ModelShape {
  const char* name;
  const char* arch;  // GGUF architecture (model/families)
  int64_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx;
  float rope_freq_base;
  float rms_eps;
  bool tied_output;
  bool qkv_bias;
  const char* source;               // where the numbers come from
  int64_t head_dim = 0;             // 0: n_embd / n_head (Qwen3 and Gemma set their own)
  int64_t rope_dim = 0;             // 0: head_dim (Phi-4-mini rotates 3/4 of it)
  int64_t sliding_window = 0;       // Gemma: the local layers' window
  float rope_linear_factor = 0.0f;  // rope.scaling linear factor (Gemma 3 4B's global layers); 0: none
  RopeExtra rope_extra = RopeExtra::kNone;
};

const std::vector<ModelShape>& known_shapes();
const ModelShape* find_shape(const std::string& name);

}  // namespace pocket
