// What a Hugging Face config.json becomes in GGUF, per model_type (llama, mistral, qwen2, qwen3, gemma2,
// gemma3_text, phi3, smollm3): the architecture, its hyperparameters and extra keys as llama.cpp's
// convert_hf_to_gguf writes them, RoPE scaling turned into keys or factor tensors, and how the
// checkpoint's tensors map. Every config key that changes the maths is read or refused by name.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "convert/hf_json.h"
#include "convert/llama_metadata.h"
#include "format/gguf_value.h"

namespace pocket {

struct HfFamily {
  const char* model_type;
  const char* arch;  // general.architecture
  bool permute_qk;   // Llama-style RoPE: HF's rotate-half rows -> llama.cpp's adjacent pairs
  bool qkv_bias;     // Qwen2: biases on q, k, v
  bool qk_norm;      // Qwen3, Gemma 3: RMSNorm of each q / k head
  bool gemma;        // norms stored as w of (1 + w); post-attention and post-FFN norms
  bool fused;        // Phi-3: qkv_proj and gate_up_proj
};

struct HfModelPlan {
  const HfFamily* family = nullptr;
  LlamaHParams hp;
  bool tied = false;
  std::vector<std::pair<std::string, GgufValue>> keys;              // written after the common metadata
  std::vector<std::pair<std::string, std::vector<float>>> tensors;  // computed F32 tensors (RoPE factors)
};

Result<HfModelPlan> plan_hf_model(const hf_json::json& cfg, const std::string& cfg_path, const std::string& name);

// Llama 3.1's "llama3" RoPE scaling as per-pair frequency divisors (convert_hf_to_gguf's rope_freqs).
std::vector<float> llama3_rope_factors(double base, int64_t rope_dim, double factor, double low_freq_factor, double high_freq_factor,
                                       double original_context);

}  // namespace pocket
