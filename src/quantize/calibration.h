// Calibration statistics for GPTQ, AWQ and Wanda: the model runs over a calibration text and, for the
// input of every linear layer, we accumulate the second-moment matrix H = sum_t x_t x_t^T (GPTQ's
// Hessian up to a factor 2; AWQ's and the clipping search's output-error metric; its diagonal is
// Wanda's ||x_c||^2) and the mean magnitude of each input channel (AWQ's activation statistic).
#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"
#include "pocket/status.h"

namespace pocket {

// The four places a Llama block feeds a linear layer, and the output head's input (the final
// RMSNorm's output; its statistics live in the last layer's entry).
enum class CalibSite { kAttnIn = 0, kAttnOut = 1, kFfnIn = 2, kFfnAct = 3, kHead = 4 };
constexpr int kCalibSites = 5;

struct SiteStats {
  int64_t cols = 0;
  int64_t n = 0;                // rows (tokens) accumulated
  std::vector<double> h;        // [cols, cols] sum of x x^T, symmetric
  std::vector<double> sum_abs;  // [cols] sum of |x|

  double mean_abs(int64_t c) const { return n ? sum_abs[(size_t)c] / (double)n : 0.0; }
};

struct LayerCalibration {
  SiteStats site[kCalibSites];
  SiteStats& at(CalibSite s) { return site[(int)s]; }
  const SiteStats& at(CalibSite s) const { return site[(int)s]; }
};

struct CalibrationOptions {
  int n_ctx = 256;                     // tokens per chunk (each chunk starts with BOS, as perplexity's do)
  int64_t max_tokens = 16384;          // tokens of the text to use at most
  double max_bytes = 6.0 * (1 << 30);  // refuse models whose statistics would need more memory
};

struct Calibration {
  std::vector<LayerCalibration> layers;
  int64_t n_tokens = 0;

  // The statistics of a weight tensor's input (nullptr for embeddings that are only looked up, norms,
  // or when nothing was collected). tied: the model has no output.weight, token_embd is the head.
  const SiteStats* stats_for(const std::string& tensor_name, bool tied) const;
};

// Runs the engine's model over the text and collects the statistics of every layer.
Result<Calibration> collect_calibration(Engine& engine, const std::string& text, const CalibrationOptions& opts);

// Which site feeds a tensor, from its GGUF name ("blk.3.ffn_down.weight" -> layer 3, kFfnAct);
// false for tensors outside the blocks' linear layers (embeddings, output head, norms).
bool calib_site_of(const std::string& tensor_name, int* layer, CalibSite* site);

}  // namespace pocket
