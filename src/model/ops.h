// Model-level operations built from the kernel table and the thread pool: batched matmul,
// RoPE and causal attention over the KV cache.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/kernel_choice.h"
#include "kernels/kernel_table.h"
#include "kv/kv_cache.h"
#include "model/batch.h"
#include "model/model_config.h"
#include "model/model_weights.h"
#include "runtime/thread_pool.h"

namespace pocket {

// ys[i][t * ws[i]->rows + r] = ws[i]->row(r) . x[t * cols + :] for every matrix i, token t, row r.
// All matrices share the input x (n_tok rows of cols floats) and so the converted activations in act.
// kc says, per weight type and row width, whether tokens outside groups of 4 (decode) use the 4-row
// kernel; the numbers are the same either way (kernel_choice(kt) for the measured choice).
void matmul_group(const KernelTable& kt, const KernelChoice& kc, ThreadPool& pool, const Matrix* const* ws, float* const* ys, int n_mats,
                  const float* x, int n_tok, uint8_t* act);

inline void matmul(const KernelTable& kt, const KernelChoice& kc, ThreadPool& pool, const Matrix& w, float* y, const float* x, int n_tok,
                   uint8_t* act) {
  const Matrix* ws[1] = {&w};
  float* ys[1] = {y};
  matmul_group(kt, kc, pool, ws, ys, 1, x, n_tok, act);
}

// cos/sin of each rotated pair for one position in rope set `set` (ModelConfig::rope_sets):
// cs[2i] = m * cos(freq_scale * pos * base^(-2i/rope_dim) / factors[i]), cs[2i+1] = m * sin(...), m the
// attention factor; factors empty = all 1 (ModelConfig::rope_factors_for gives the model's).
void rope_table(const ModelConfig& c, int set, const std::vector<float>& factors, int pos, float* cs);
// Rotates n_heads heads of width head_dim in place.
void rope_apply(const ModelConfig& c, const float* cs, float* x, int64_t n_heads);

// Causal attention for the entries[0..n) of a batch chunk: head h of entry t attends to positions
// [0, pos_t] of its sequence in the cache (the chunk's own K/V already stored there), or, with a
// sliding window, to the sinks and its last window positions; a layer with its own window
// (config.layers[layer].window) sees only its last window positions. Scores are q.k times
// config.attn_scale, soft-capped where config.attn_softcap is set.
// q: (n, q_dim); out: (n, q_dim); scores: (pool threads, n_scores >= kv.attention_span()).
void attention(const KernelTable& kt, ThreadPool& pool, const ModelConfig& c, const BatchEntry* entries, int n, const float* q, const KvCache& kv,
               int layer, float* out, float* scores, int n_scores);

}  // namespace pocket
