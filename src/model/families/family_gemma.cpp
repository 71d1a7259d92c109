// Gemma 2 and Gemma 3 (text): embeddings times sqrt(n_embd); GeGLU; RMSNorm after attention and after
// the FFN as well as before (post_attention_norm, post_ffw_norm); interleaved local (sliding-window)
// and global layers. GGUF norm weights already hold Gemma's (1 + w) (convert_hf_to_gguf adds the 1).
// Gemma 2: soft-capped attention scores and logits; layers 0, 2, 4, ... local. Gemma 3: q/k head
// norms, no soft-capping; 5 local layers then 1 global, local layers rotating with base 10000 and
// no scaling, global ones with the file's base and linear scaling.
// The q scale follows llama.cpp: 1/sqrt(n_embd / n_head) for the 27B models (query_pre_attn_scalar
// there), 1/sqrt(head_dim) for the others; GGUF carries no query_pre_attn_scalar key.
#include <cmath>

#include "model/families/families.h"

namespace pocket {
namespace {

Status read_gemma_common(const GgufFile& f, ModelConfig* c, int64_t n_layer_27b, uint64_t default_window, bool window_required) {
  c->embd_scale = std::sqrt((float)c->n_embd);
  c->post_norms = true;
  c->ffn_act = FfnActivation::kGeluTanh;
  c->attn_scale = 1.0f / std::sqrt((float)(c->n_layer == n_layer_27b ? c->n_embd / c->n_head : c->head_dim));
  const std::string wk = arch_key(*c, "attention.sliding_window");
  if (window_required && f.find(wk) == nullptr) return bad_key(f, wk, "required key is missing");
  POCKET_ASSIGN_OR_RETURN(const uint64_t window, optional_uint(f, wk, default_window));
  if (window == 0 || window > (uint64_t(1) << 24)) return bad_key(f, wk, "must be in 1..2^24");
  c->sliding_window = 0;  // per layer below, not a ring over every layer as Mistral's
  for (LayerAttention& l : c->layers) l.window = 0;
  c->local_window = (int64_t)window;
  POCKET_ASSIGN_OR_RETURN(const double final_cap, optional_float(f, arch_key(*c, "final_logit_softcapping"), c->final_softcap));
  POCKET_ASSIGN_OR_RETURN(const double attn_cap, optional_float(f, arch_key(*c, "attn_logit_softcapping"), c->attn_softcap));
  if (!(final_cap >= 0.0 && attn_cap >= 0.0)) return bad_key(f, arch_key(*c, "*_logit_softcapping"), "must be >= 0");
  c->final_softcap = (float)final_cap;
  c->attn_softcap = (float)attn_cap;
  return Status::ok();
}

}  // namespace

Status read_gemma2_family(const GgufFile& f, ModelConfig* c) {
  c->attn_softcap = 50.0f;  // llama.cpp's defaults when the keys are absent
  c->final_softcap = 30.0f;
  POCKET_RETURN_IF_ERROR(read_gemma_common(f, c, 46, 4096, false));
  POCKET_RETURN_IF_ERROR(read_linear_rope_scaling(f, c, 0));
  for (int64_t l = 0; l < c->n_layer; ++l)
    if (l % 2 == 0) c->layers[(size_t)l].window = c->local_window;
  return Status::ok();
}

Status read_gemma3_family(const GgufFile& f, ModelConfig* c) {
  c->qk_norm = true;
  POCKET_RETURN_IF_ERROR(read_gemma_common(f, c, 62, 0, true));
  POCKET_RETURN_IF_ERROR(read_linear_rope_scaling(f, c, 0));  // global layers
  POCKET_ASSIGN_OR_RETURN(const double local_base, optional_float(f, arch_key(*c, "rope.freq_base_swa"), 10000.0));
  if (!(local_base > 1.0)) return bad_key(f, arch_key(*c, "rope.freq_base_swa"), "must be > 1");
  c->rope_sets[1] = RopeParams{(float)local_base, 1.0f};
  c->n_rope_sets = 2;
  constexpr int64_t kPattern = 6;  // 5 local layers, then a global one
  for (int64_t l = 0; l < c->n_layer; ++l) {
    if (l % kPattern < kPattern - 1) c->layers[(size_t)l] = LayerAttention{c->local_window, 1};
  }
  return Status::ok();
}

}  // namespace pocket
