// AWQ (Lin et al., 2023): activation-aware weight quantization. The few input channels that carry
// large activations matter most, so before rounding, each input channel c of the linears fed by one
// site is multiplied by s_c = mean|x_c|^alpha (alpha searched on a grid to minimize the layer's
// output error on calibration data) and the inverse 1/s_c is folded into what produces x (the RMSNorm
// weight, or the rows of the preceding linear), so the float model is unchanged and the output is an
// ordinary INT4 GGUF. Optionally, a per-group clipping ratio is searched the same way.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "format/gguf_reader.h"
#include "model/model_config.h"
#include "quantize/calibration.h"
#include "dtype/group_codec.h"
#include "quantize/weight_edits.h"

namespace pocket {

struct AwqOptions {
  int grid = 20;            // alpha in {0, 1/grid, ..., 1}
  bool clip = true;         // search a clipping ratio per group (not for attn_q / attn_k, as the paper's code)
  int clip_grid = 20;       // ratios 1, 1 - 0.5/clip_grid, ..., 0.5
  float max_shrink = 0.5f;  // smallest clipping ratio tried
};

// Result of the scale search for one site.
struct AwqSiteResult {
  std::vector<float> s;  // [cols]
  double alpha = 0, err_rtn = 0, err_awq = 0;
};

// Searches s for matrices w[i] ([rows[i], cols], row-major) sharing one input, each quantized by codec[i].
AwqSiteResult awq_search_scale(const std::vector<const float*>& w, const std::vector<int64_t>& rows, const std::vector<const GroupCodec*>& codec,
                               const SiteStats& st, const AwqOptions& opts);

// Clipping ratio per (row, group) of w [rows, cols] minimizing the group's output error under h
// (the [cols, cols] second moment of the inputs, in w's current input scaling).
std::vector<float> awq_search_clip(const GroupCodec& codec, const float* w, int64_t rows, const std::vector<double>& h, const AwqOptions& opts);

// Quantizer hook: the codec for a tensor name, or nullptr when the tensor is not quantized to an
// integer group format (then AWQ leaves it alone).
using CodecFor = std::function<const GroupCodec*(const std::string& name)>;

struct AwqReport {
  int sites = 0;
  double err_rtn = 0, err_awq = 0;  // summed output error of the searched sites before and after scaling
};

// Searches and folds the scales of every layer into edits (weights by name).
Status apply_awq(const GgufFile& in, const ModelConfig& cfg, const Calibration& cal, const CodecFor& codec_for, const AwqOptions& opts,
                 WeightEdits* edits, AwqReport* report);

}  // namespace pocket
