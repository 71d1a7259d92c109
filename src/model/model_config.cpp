#include "model/model_config.h"

#include <cmath>

#include "model/families/families.h"

namespace pocket {
namespace {

Status bad(const GgufFile& f, const std::string& key, const std::string& why) { return bad_key(f, key, why); }

}  // namespace

Result<ModelConfig> read_model_config(const GgufFile& f) {
  ModelConfig c;
  POCKET_ASSIGN_OR_RETURN(c.arch, f.get_string("general.architecture"));
  const Family* family = find_family(c.arch);
  if (family == nullptr)
    return error(ErrorCode::kUnsupported,
                 f.name() + ": general.architecture: unsupported architecture '" + c.arch + "' (supported: " + family_names() + ")");
  c.rope_layout = family->rope;
  c.name = f.get_string_or("general.name", "");
  const std::string p = c.arch + ".";
  const uint64_t kMaxDim = uint64_t(1) << 20;

  auto get_dim = [&](const std::string& key, int64_t* out) -> Status {
    auto r = f.get_uint(key);
    if (!r) return r.status();
    if (r.value() == 0 || r.value() > kMaxDim)
      return bad(f, key, "value " + std::to_string(r.value()) + " out of range 1.." + std::to_string(kMaxDim));
    *out = (int64_t)r.value();
    return Status::ok();
  };
  POCKET_RETURN_IF_ERROR(get_dim(p + "embedding_length", &c.n_embd));
  POCKET_RETURN_IF_ERROR(get_dim(p + "block_count", &c.n_layer));
  POCKET_RETURN_IF_ERROR(get_dim(p + "attention.head_count", &c.n_head));
  POCKET_RETURN_IF_ERROR(get_dim(p + "feed_forward_length", &c.n_ff));
  POCKET_RETURN_IF_ERROR(get_dim(p + "context_length", &c.n_ctx_train));
  if (f.find(p + "attention.sliding_window")) POCKET_RETURN_IF_ERROR(get_dim(p + "attention.sliding_window", &c.sliding_window));
  c.n_head_kv = c.n_head;
  if (f.find(p + "attention.head_count_kv")) POCKET_RETURN_IF_ERROR(get_dim(p + "attention.head_count_kv", &c.n_head_kv));
  if (c.n_head % c.n_head_kv != 0)
    return bad(f, p + "attention.head_count_kv", std::to_string(c.n_head_kv) + " does not divide head_count " + std::to_string(c.n_head));
  c.head_dim = c.n_embd / c.n_head;
  if (f.find(p + "attention.key_length"))
    POCKET_RETURN_IF_ERROR(get_dim(p + "attention.key_length", &c.head_dim));
  else if (c.n_embd % c.n_head != 0)
    return bad(f, p + "attention.head_count", "does not divide embedding_length");
  if (f.find(p + "attention.value_length")) {
    int64_t vl = 0;
    POCKET_RETURN_IF_ERROR(get_dim(p + "attention.value_length", &vl));
    if (vl != c.head_dim) return bad(f, p + "attention.value_length", "differs from key_length (unsupported)");
  }
  c.rope_dim = c.head_dim;
  if (f.find(p + "rope.dimension_count")) POCKET_RETURN_IF_ERROR(get_dim(p + "rope.dimension_count", &c.rope_dim));
  if (c.rope_dim > c.head_dim || c.rope_dim % 2 != 0)
    return bad(f, p + "rope.dimension_count", std::to_string(c.rope_dim) + " must be even and <= head dim " + std::to_string(c.head_dim));
  c.rope_freq_base = (float)f.get_float_or(p + "rope.freq_base", 10000.0);
  if (!(c.rope_freq_base > 1.0f)) return bad(f, p + "rope.freq_base", "must be > 1");
  auto eps = f.get_float(p + "attention.layer_norm_rms_epsilon");
  if (!eps) return eps.status();
  c.rms_eps = (float)eps.value();
  if (!(c.rms_eps > 0.0f && c.rms_eps < 1.0f)) return bad(f, p + "attention.layer_norm_rms_epsilon", "must be in (0, 1)");
  POCKET_ASSIGN_OR_RETURN(const double attn_factor, optional_float(f, p + "rope.scaling.attn_factor", 1.0));
  if (!(attn_factor > 0.0 && attn_factor < 16.0)) return bad(f, p + "rope.scaling.attn_factor", "must be in (0, 16)");
  c.rope_attn_factor = (float)attn_factor;
  c.rope_sets[0] = RopeParams{c.rope_freq_base, 1.0f};
  c.attn_scale = 1.0f / std::sqrt((float)c.head_dim);
  // A model's own sliding window (Mistral, Phi-3) is attention to the last `window` positions in every
  // layer, exactly: a mask per layer (any cache, paged ones too); the contiguous cache may also keep
  // only that ring (memory_plan.cpp). Gemma's families replace this with their local layers.
  c.layers.assign((size_t)c.n_layer, LayerAttention{c.sliding_window, 0});
  // Vocabulary size: from the key if present, else from the token list.
  if (f.find(p + "vocab_size")) {
    POCKET_RETURN_IF_ERROR(get_dim(p + "vocab_size", &c.n_vocab));
  } else {
    const GgufValue* toks = f.find("tokenizer.ggml.tokens");
    if (toks == nullptr || toks->type != GgufType::ARRAY) return bad(f, "tokenizer.ggml.tokens", "required key is missing");
    c.n_vocab = (int64_t)toks->array_size();
    if (c.n_vocab == 0) return bad(f, "tokenizer.ggml.tokens", "empty vocabulary");
  }
  POCKET_RETURN_IF_ERROR(family->read(f, &c));
  return c;
}

}  // namespace pocket
