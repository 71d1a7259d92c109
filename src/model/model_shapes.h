// Shapes of well-known models (from their published config.json), for synthetic benchmark models
// and for planning without a model file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pocket {

struct ModelShape {
  const char* name;
  const char* arch;  // GGUF architecture: llama or qwen2
  int64_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx;
  float rope_freq_base;
  float rms_eps;
  bool tied_output;
  bool qkv_bias;
  const char* source;  // where the numbers come from
};

const std::vector<ModelShape>& known_shapes();
const ModelShape* find_shape(const std::string& name);

}  // namespace pocket
