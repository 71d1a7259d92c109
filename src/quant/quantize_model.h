// `pocket quantize`: re-encode a GGUF model's weights (round-to-nearest block formats), with
// per-tensor type overrides; metadata is copied, the output written atomically.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "pocket/status.h"
#include "quant/tensor_type.h"

namespace pocket {

struct QuantizeOptions {
  TensorType type = TensorType::Q8_0;
  // (substring of a tensor name, type): the first matching rule wins over `type`, e.g. {"output", Q8_0}.
  std::vector<std::pair<std::string, TensorType>> overrides;
  bool force = false;
  std::function<void(size_t done, size_t total, const std::string& name)> progress;
};

struct QuantizeReport {
  size_t bytes_in = 0, bytes_out = 0;
  int64_t params = 0;
  double bits_per_weight() const { return params ? 8.0 * (double)bytes_out / (double)params : 0.0; }
};

// Parses "name=type[,name=type...]" (e.g. "output=q8_0,ffn_down=q4_1").
Result<std::vector<std::pair<std::string, TensorType>>> parse_tensor_types(const std::string& spec);

Result<QuantizeReport> quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeOptions& opts);

}  // namespace pocket
