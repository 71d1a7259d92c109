// Hyperparameters of a Llama-family decoder, read and validated from GGUF metadata.
#pragma once

#include <cstdint>
#include <string>

#include "format/gguf_reader.h"
#include "pocket/status.h"

namespace pocket {

enum class RopeLayout {
  kNormal,  // rotate adjacent pairs (2i, 2i+1): llama.cpp "normal", llama2.c
  kNeox,    // rotate (i, i + d/2): HF rotate_half, Qwen2
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

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
};

// Reads `<arch>.*` keys. Errors name the file and the key.
Result<ModelConfig> read_model_config(const GgufFile& f);

}  // namespace pocket
