#include "model/activation.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "core/fp16.h"

namespace pocket {
namespace {

const std::vector<uint16_t>& gelu_table() {
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> t(1 << 16);
    for (uint32_t i = 0; i < (1u << 16); ++i) t[i] = float_to_fp16(gelu_tanh_exact(fp16_to_float((uint16_t)i)));
    return t;
  }();
  return table;
}

}  // namespace

float gelu_tanh_exact(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f, kCoef = 0.044715f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCoef * x * x)));
}

void gelu_tanh_mul(float* gate, const float* up, int64_t n) {
  const uint16_t* t = gelu_table().data();
  for (int64_t i = 0; i < n; ++i) {
    const float x = gate[i];
    float g;
    if (x <= -10.0f)
      g = 0.0f;
    else if (x >= 10.0f)
      g = x;
    else
      g = fp16_to_float(t[float_to_fp16(x)]);
    gate[i] = g * up[i];
  }
}

}  // namespace pocket
