// Activation buffers for one forward pass, sized once from the config and the largest batch;
// the hot path never allocates. bytes() is the same arithmetic the planner uses.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model_config.h"

namespace pocket {

struct Scratch {
  Scratch(const ModelConfig& c, int max_batch, int n_ctx, int n_threads);

  int max_batch;
  std::vector<float> x;         // (max_batch, n_embd)   residual stream
  std::vector<float> xb;        // (max_batch, n_embd)   normed input / matmul output
  std::vector<float> q;         // (max_batch, q_dim)
  std::vector<float> k;         // (max_batch, kv_dim)
  std::vector<float> v;         // (max_batch, kv_dim)
  std::vector<float> attn;      // (max_batch, q_dim)    attention output, before wo
  std::vector<float> hb;        // (max_batch, n_ff)     gate
  std::vector<float> hb2;       // (max_batch, n_ff)     up
  std::vector<float> rope_cs;   // (n_rope_sets, max_batch, rope_dim) interleaved cos, sin per rotated pair
  std::vector<float> scores;    // (n_threads, n_ctx)    attention scores per thread
  std::vector<uint8_t> act;     // (max_batch, act_row_bytes(max width)) activations converted for vec_dot
  std::vector<float> out_rows;  // (max_batch, n_embd)   final hidden states of entries that want logits

  size_t bytes() const;
};

size_t scratch_bytes(const ModelConfig& c, int max_batch, int n_ctx, int n_threads);

}  // namespace pocket
