#include "model/model_shapes.h"

namespace pocket {

const std::vector<ModelShape>& known_shapes() {
  static const std::vector<ModelShape> shapes = {
      {"smollm2-135m", "llama", 49152, 576, 30, 9, 3, 1536, 8192, 100000.0f, 1e-5f, true, false, "HuggingFaceTB/SmolLM2-135M config.json"},
      {"smollm2-360m", "llama", 49152, 960, 32, 15, 5, 2560, 8192, 100000.0f, 1e-5f, true, false, "HuggingFaceTB/SmolLM2-360M config.json"},
      {"qwen2.5-0.5b", "qwen2", 151936, 896, 24, 14, 2, 4864, 32768, 1000000.0f, 1e-6f, true, true, "Qwen/Qwen2.5-0.5B config.json"},
      {"llama-3.2-1b", "llama", 128256, 2048, 16, 32, 8, 8192, 131072, 500000.0f, 1e-5f, true, false,
       "meta-llama/Llama-3.2-1B config.json (rope scaling omitted)"},
      {"tinyllama-1.1b", "llama", 32000, 2048, 22, 32, 4, 5632, 2048, 10000.0f, 1e-5f, false, false,
       "TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T config.json"},
      {"llama-2-7b", "llama", 32000, 4096, 32, 32, 32, 11008, 4096, 10000.0f, 1e-5f, false, false, "meta-llama/Llama-2-7b-hf config.json"},
      {"stories15m", "llama", 32000, 288, 6, 6, 6, 768, 256, 10000.0f, 1e-5f, true, false, "karpathy/tinyllamas stories15M"},
  };
  return shapes;
}

const ModelShape* find_shape(const std::string& name) {
  for (const ModelShape& s : known_shapes()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

}  // namespace pocket
