// Pruning: zero the least important weights of each linear layer of the blocks.
// Magnitude scores |W_rc|; Wanda (Sun et al., 2023) scores |W_rc| * ||x_c|| with ||x_c|| from the
// calibration inputs. Unstructured sparsity removes the lowest-scored fraction of each output row;
// 2:4 keeps the 2 best of every 4 consecutive weights of a row (the pattern sparse tensor cores and
// sparse kernels exploit). Quality cost is measured by `pocket quality` / `pocket perplexity`.
#pragma once

#include <cstdint>

#include "format/gguf_reader.h"
#include "model/model_config.h"
#include "quantize/calibration.h"
#include "quantize/weight_edits.h"

namespace pocket {

enum class PruneMethod { kNone, kMagnitude, kWanda };
enum class PrunePattern { kUnstructured, k2of4 };

struct PruneOptions {
  PruneMethod method = PruneMethod::kNone;
  PrunePattern pattern = PrunePattern::kUnstructured;
  double sparsity = 0.5;  // unstructured: fraction zeroed per row
};

// Zeroes weights of w [rows, cols] in place; x_sq: per-input-channel sum of x^2 (Wanda), else nullptr.
// Returns the number of weights zeroed.
int64_t prune_matrix(float* w, int64_t rows, int64_t cols, const double* x_sq, const PruneOptions& opts);

struct PruneReport {
  int64_t params = 0, zeroed = 0;
};

// Prunes every block linear of the model into edits; cal may be nullptr for magnitude pruning.
Status apply_pruning(const GgufFile& in, const ModelConfig& cfg, const Calibration* cal, const PruneOptions& opts, WeightEdits* edits,
                     PruneReport* report);

}  // namespace pocket
