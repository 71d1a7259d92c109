// Automatic mixed precision: measure how much each weight tensor, re-encoded alone in the low type,
// moves the model's next-token distribution (mean KL divergence from the unmodified model on the
// calibration text), then give the high type to the tensors with the most KL per extra byte until
// the bits-per-weight target is met. Measured, not guessed: no rule like "ffn_down is sensitive".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pocket/status.h"
#include "dtype/tensor_type.h"

namespace pocket {

struct TensorSensitivity {
  std::string name;
  size_t bytes_low = 0, bytes_high = 0;
  double kld = 0;  // mean KL(model || model with this tensor in the low type)
};

struct SensitivityOptions {
  TensorType low = TensorType::Q4_0;
  TensorType high = TensorType::Q8_0;
  int64_t group = 32;
  int n_ctx = 256;
  int n_chunks = 2;
  int n_threads = 1;
};

// candidates: the 2-D tensors that would otherwise get the low type.
Result<std::vector<TensorSensitivity>> measure_sensitivity(const std::string& model_path, const std::string& text,
                                                           const std::vector<std::string>& candidates, const SensitivityOptions& opts);

// Greedy allocation: every candidate starts low; upgrades by KL per extra byte while the total stays
// within budget_bytes (base_bytes = bytes of everything that is not a candidate).
std::map<std::string, TensorType> allocate_mixed_precision(const std::vector<TensorSensitivity>& s, size_t base_bytes, size_t budget_bytes,
                                                           TensorType low, TensorType high);

}  // namespace pocket
