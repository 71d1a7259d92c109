// Llama 1/2/3.x and Mistral: the base block. Llama 3.1+ files carry their "llama3" RoPE scaling as
// per-pair frequency divisors in rope_freqs.weight (convert_hf_to_gguf writes no scaling type).
#include "model/families/families.h"

namespace pocket {

Status read_llama_family(const GgufFile& f, ModelConfig* c) {
  POCKET_RETURN_IF_ERROR(read_linear_rope_scaling(f, c, 0));
  if (f.find_tensor("rope_freqs.weight") != nullptr) c->rope_factors_tensor = "rope_freqs.weight";
  return Status::ok();
}

}  // namespace pocket
