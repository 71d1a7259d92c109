// Random-weight GGUF models in the exact shapes of real ones: for timing only, never for quality.
#pragma once

#include <cstdint>
#include <string>

#include "model/model_shapes.h"
#include "pocket/status.h"
#include "dtype/tensor_type.h"

namespace pocket {

struct SynthOptions {
  TensorType type = TensorType::Q4_0;  // 2-D weights; norms stay F32
  uint64_t seed = 1;
  bool force = false;
  int64_t n_layer_override = 0;  // > 0: fewer layers (quick tests)
  int64_t window_override = 0;   // > 0: a shorter sliding window than the real model's (tests); shapes without one refuse it
};

Status write_synthetic_model(const ModelShape& shape, const std::string& out_path, const SynthOptions& opts);

}  // namespace pocket
