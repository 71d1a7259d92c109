#include "model/model_shapes.h"

namespace pocket {

const std::vector<ModelShape>& known_shapes() {
  static const std::vector<ModelShape> shapes = {
      {"smollm2-135m", "llama", 49152, 576, 30, 9, 3, 1536, 8192, 100000.0f, 1e-5f, true, false, "HuggingFaceTB/SmolLM2-135M config.json"},
      {"smollm2-360m", "llama", 49152, 960, 32, 15, 5, 2560, 8192, 100000.0f, 1e-5f, true, false, "HuggingFaceTB/SmolLM2-360M config.json"},
      {"qwen2.5-0.5b", "qwen2", 151936, 896, 24, 14, 2, 4864, 32768, 1000000.0f, 1e-6f, true, true, "Qwen/Qwen2.5-0.5B config.json"},
      {"llama-3.2-1b", "llama", 128256, 2048, 16, 32, 8, 8192, 131072, 500000.0f, 1e-5f, true, false, "meta-llama/Llama-3.2-1B config.json", 0, 0, 0,
       0.0f, RopeExtra::kLlama3},
      {"llama-3.2-3b", "llama", 128256, 3072, 28, 24, 8, 8192, 131072, 500000.0f, 1e-5f, true, false, "meta-llama/Llama-3.2-3B config.json", 0, 0, 0,
       0.0f, RopeExtra::kLlama3},
      {"qwen3-0.6b", "qwen3", 151936, 1024, 28, 16, 8, 3072, 40960, 1000000.0f, 1e-6f, true, false, "Qwen/Qwen3-0.6B config.json", 128},
      {"qwen3-1.7b", "qwen3", 151936, 2048, 28, 16, 8, 6144, 40960, 1000000.0f, 1e-6f, true, false, "Qwen/Qwen3-1.7B config.json", 128},
      {"qwen3-4b", "qwen3", 151936, 2560, 36, 32, 8, 9728, 40960, 1000000.0f, 1e-6f, true, false, "Qwen/Qwen3-4B config.json", 128},
      {"gemma-2-2b", "gemma2", 256000, 2304, 26, 8, 4, 9216, 8192, 10000.0f, 1e-6f, true, false, "google/gemma-2-2b config.json", 256, 0, 4096},
      {"gemma-3-1b", "gemma3", 262144, 1152, 26, 4, 1, 6912, 32768, 1000000.0f, 1e-6f, true, false, "google/gemma-3-1b-pt config.json", 256, 0, 512},
      {"gemma-3-4b", "gemma3", 262208, 2560, 34, 8, 4, 10240, 131072, 1000000.0f, 1e-6f, true, false, "google/gemma-3-4b-pt config.json (text)", 256,
       0, 1024, 8.0f},
      {"phi-3.5-mini", "phi3", 32064, 3072, 32, 32, 32, 8192, 131072, 10000.0f, 1e-5f, false, false, "microsoft/Phi-3.5-mini-instruct config.json", 0,
       0, 0, 0.0f, RopeExtra::kLongRope},
      {"phi-4-mini", "phi3", 200064, 3072, 32, 24, 8, 8192, 131072, 10000.0f, 1e-5f, true, false, "microsoft/Phi-4-mini-instruct config.json", 0, 96,
       0, 0.0f, RopeExtra::kLongRope},
      {"smollm3-3b", "smollm3", 128256, 2048, 36, 16, 4, 11008, 65536, 5000000.0f, 1e-6f, true, false, "HuggingFaceTB/SmolLM3-3B config.json"},
      {"smollm2-1.7b", "llama", 49152, 2048, 24, 32, 32, 8192, 8192, 130000.0f, 1e-5f, true, false, "HuggingFaceTB/SmolLM2-1.7B config.json"},
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
