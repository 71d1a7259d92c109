// Llama 1/2/3.x and Mistral: the base block. Llama 3.1+ files carry their "llama3" RoPE scaling as
// per-pair frequency divisors in rope_freqs.weight (convert_hf_to_gguf writes no scaling type).
// SmolLM3: the same block with no rotation in every 4th layer (NoPE; HF no_rope_layer_interval 4, which
// GGUF does not carry: llama.cpp fixes it at 4 for the architecture, as here).
#include "model/families/families.h"

namespace pocket {

Status read_llama_family(const GgufFile& f, ModelConfig* c) {
  POCKET_RETURN_IF_ERROR(read_linear_rope_scaling(f, c, 0));
  if (f.find_tensor("rope_freqs.weight") != nullptr) c->rope_factors_tensor = "rope_freqs.weight";
  return Status::ok();
}

Status read_smollm3_family(const GgufFile& f, ModelConfig* c) {
  POCKET_RETURN_IF_ERROR(read_llama_family(f, c));
  constexpr size_t kNoRopeInterval = 4;
  for (size_t l = 0; l < c->layers.size(); ++l)
    if ((l + 1) % kNoRopeInterval == 0) c->layers[l].rope = LayerAttention::kNoRope;
  return Status::ok();
}

}  // namespace pocket
