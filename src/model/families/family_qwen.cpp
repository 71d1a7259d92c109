// Qwen2 / Qwen2.5 (biases on q, k, v) and Qwen3 (no biases; RMSNorm of every q and k head before
// RoPE, attn_q_norm / attn_k_norm of head_dim). Both rotate NeoX-style.
#include "model/families/families.h"

namespace pocket {

Status read_qwen2_family(const GgufFile& f, ModelConfig* c) { return read_linear_rope_scaling(f, c, 0); }

Status read_qwen3_family(const GgufFile& f, ModelConfig* c) {
  c->qk_norm = true;
  return read_linear_rope_scaling(f, c, 0);
}

}  // namespace pocket
