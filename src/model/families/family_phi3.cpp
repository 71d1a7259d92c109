// Phi-3 / 3.5 / Phi-4-mini: Q, K, V fused in attn_qkv.weight (or separate), gate and up fused in
// ffn_up.weight (gate rows first), NeoX RoPE. LongRoPE ("su"/"longrope" in config.json) arrives as
// rope_factors_short / rope_factors_long tensors with rope.scaling.original_context_length: the short
// factors serve contexts up to that length, the long ones beyond (as llama.cpp chooses by context
// size); rope.scaling.attn_factor (read for every family) scales cos and sin.
#include "model/families/families.h"

namespace pocket {

Status read_phi3_family(const GgufFile& f, ModelConfig* c) {
  POCKET_RETURN_IF_ERROR(read_linear_rope_scaling(f, c, 0));
  c->fused_qkv = f.find_tensor("blk.0.attn_qkv.weight") != nullptr;
  c->fused_gate_up = true;
  const bool has_short = f.find_tensor("rope_factors_short.weight") != nullptr, has_long = f.find_tensor("rope_factors_long.weight") != nullptr;
  if (has_short != has_long)
    return error(ErrorCode::kFormatError, f.name() + ": tensor 'rope_factors_" + (has_short ? "long" : "short") +
                                              ".weight': required tensor is missing (LongRoPE needs both factor sets)");
  if (has_short) {
    c->rope_factors_tensor = "rope_factors_short.weight";
    c->rope_factors_long_tensor = "rope_factors_long.weight";
    const std::string ok = arch_key(*c, "rope.scaling.original_context_length");
    POCKET_ASSIGN_OR_RETURN(const uint64_t orig, optional_uint(f, ok, (uint64_t)c->n_ctx_train));
    if (orig == 0 || orig > (uint64_t)c->n_ctx_train) return bad_key(f, ok, "must be in 1..context_length");
    c->rope_long_after = (int64_t)orig;
  }
  return Status::ok();
}

}  // namespace pocket
