#include "model/scratch.h"

#include <algorithm>

#include "dtype/block_formats.h"

namespace pocket {
namespace {
// Widest activation row any matmul sees, in its largest (F32) format.
size_t act_bytes_per_row(const ModelConfig& c) {
  const int64_t w = std::max({c.n_embd, c.q_dim(), c.n_ff});
  return (size_t)w * sizeof(float);
}
}  // namespace

Scratch::Scratch(const ModelConfig& c, int mb, int n_ctx, int n_threads)
    : max_batch(mb), x((size_t)mb * c.n_embd), xb((size_t)mb * c.n_embd), q((size_t)mb * c.q_dim()), k((size_t)mb * c.kv_dim()),
      v((size_t)mb * c.kv_dim()), attn((size_t)mb * c.q_dim()), hb((size_t)mb * c.n_ff), hb2((size_t)mb * c.n_ff),
      rope_cs((size_t)mb * c.rope_dim * c.n_rope_sets), scores((size_t)n_threads * n_ctx), act((size_t)mb * act_bytes_per_row(c)),
      out_rows((size_t)mb * c.n_embd) {}

size_t Scratch::bytes() const {
  return (x.size() + xb.size() + q.size() + k.size() + v.size() + attn.size() + hb.size() + hb2.size() + rope_cs.size() + scores.size() +
          out_rows.size()) *
             sizeof(float) +
         act.size();
}

size_t scratch_bytes(const ModelConfig& c, int max_batch, int n_ctx, int n_threads) {
  const size_t mb = (size_t)max_batch;
  const size_t floats = mb * (3 * c.n_embd + 2 * c.q_dim() + 2 * c.kv_dim() + 2 * c.n_ff + c.rope_dim * c.n_rope_sets) + (size_t)n_threads * n_ctx;
  return floats * sizeof(float) + mb * act_bytes_per_row(c);
}

}  // namespace pocket
