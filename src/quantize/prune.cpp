#include "quantize/prune.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace pocket {

int64_t prune_matrix(float* w, int64_t rows, int64_t cols, const double* x_sq, const PruneOptions& opts) {
  std::vector<double> score((size_t)cols);
  std::vector<int64_t> order((size_t)cols);
  int64_t zeroed = 0;
  const int64_t k = std::clamp<int64_t>((int64_t)std::floor(opts.sparsity * (double)cols), 0, cols);
  for (int64_t r = 0; r < rows; ++r) {
    float* wr = w + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      const double a = std::fabs((double)wr[c]);
      // NaN weights score lowest, so they are the first to go.
      score[(size_t)c] = std::isnan(a) ? -1.0 : (x_sq ? a * std::sqrt(std::max(0.0, x_sq[c])) : a);
    }
    if (opts.pattern == PrunePattern::k2of4) {
      for (int64_t c0 = 0; c0 + 4 <= cols; c0 += 4) {
        int64_t idx[4] = {c0, c0 + 1, c0 + 2, c0 + 3};
        std::stable_sort(idx, idx + 4, [&](int64_t a, int64_t b) { return score[(size_t)a] < score[(size_t)b]; });
        for (int j = 0; j < 2; ++j) {
          zeroed += wr[idx[j]] != 0.0f || std::isnan(wr[idx[j]]);
          wr[idx[j]] = 0.0f;
        }
      }
    } else {
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return score[(size_t)a] < score[(size_t)b]; });
      for (int64_t j = 0; j < k; ++j) {
        zeroed += wr[order[(size_t)j]] != 0.0f || std::isnan(wr[order[(size_t)j]]);
        wr[order[(size_t)j]] = 0.0f;
      }
    }
  }
  return zeroed;
}

Status apply_pruning(const GgufFile& in, const ModelConfig& cfg, const Calibration* cal, const PruneOptions& opts, WeightEdits* edits,
                     PruneReport* report) {
  if (opts.method == PruneMethod::kNone) return Status::ok();
  if (opts.method == PruneMethod::kWanda && cal == nullptr) return field_error("prune.method", "wanda needs calibration data (calib_text)");
  if (opts.pattern == PrunePattern::kUnstructured && !(opts.sparsity >= 0.0 && opts.sparsity < 1.0))
    return field_error("prune.sparsity", "must be in [0, 1)");
  static const char* kLinears[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
  for (int l = 0; l < (int)cfg.n_layer; ++l) {
    for (const char* what : kLinears) {
      const std::string name = "blk." + std::to_string(l) + "." + what + ".weight";
      const TensorView* t = in.find_tensor(name);
      if (t == nullptr) continue;
      const int64_t cols = t->ne[0];
      std::vector<double> x_sq;
      if (opts.method == PruneMethod::kWanda) {
        int layer = 0;
        CalibSite site;
        if (!calib_site_of(name, &layer, &site)) continue;
        const SiteStats& st = cal->layers[(size_t)layer].at(site);
        if (st.cols != cols) return error(ErrorCode::kFormatError, in.name() + ": '" + name + "' does not match its input width");
        x_sq.resize((size_t)cols);
        for (int64_t c = 0; c < cols; ++c) x_sq[(size_t)c] = st.h[(size_t)(c * cols + c)];
      }
      POCKET_ASSIGN_OR_RETURN(std::vector<float> * v, edits->get(in, name));
      report->params += (int64_t)v->size();
      report->zeroed += prune_matrix(v->data(), (int64_t)v->size() / cols, cols, x_sq.empty() ? nullptr : x_sq.data(), opts);
    }
  }
  return Status::ok();
}

}  // namespace pocket
