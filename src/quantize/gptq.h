// GPTQ (Frantar et al., 2022): quantizes a weight matrix column by column and spreads each column's
// rounding error over the columns not yet quantized, weighted by the inverse Hessian of the layer's
// inputs, so the layer's output error ||(W - Q) X||^2 — not the weight error — is minimized.
// Writes ordinary GGUF blocks through a GroupCodec (Q4_0, Q4_1, Q8_0; any group size).
#pragma once

#include <cstdint>

#include "pocket/status.h"
#include "dtype/group_codec.h"

namespace pocket {

struct GptqOptions {
  double damp = 0.01;      // added to H's diagonal: damp * mean(diag H)
  int64_t block = 128;     // columns per lazy batch (rounded up to a multiple of the group size)
  bool act_order = false;  // columns in order of decreasing H_ii, with groups fixed before quantizing ("static groups")
  int n_threads = 1;       // rows are split across threads
  // Group scale search (GPTQ's "mse" option): each group's range is shrunk by the ratio in
  // {1, 1 - 0.5/clip_grid, ..., 0.5} that minimizes sum_j H_jj (q_j - w_j)^2; 0 = plain max/min.
  int clip_grid = 20;
};

// W: [rows, cols] float (not modified); h: [cols, cols] sum of x x^T over calibration inputs.
// dst: rows * row_bytes(codec.type(), cols) bytes of blocks.
Status gptq_quantize(const GroupCodec& codec, const float* w, int64_t rows, const double* h, const GptqOptions& opts, void* dst);

// The layer's output error of quantized weights q against w: sum over rows of (w-q)^T H (w-q).
double output_error(const float* w, const float* q, int64_t rows, int64_t cols, const double* h);

}  // namespace pocket
