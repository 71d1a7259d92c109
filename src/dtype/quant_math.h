// Arithmetic shared by the reference quantizers of llama.cpp's formats (quant_ref_k.cpp, quant_ref_iq.cpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace pocket::quant_math {

constexpr float kGroupMaxEps = 1e-15f;

// Round to nearest (ties to even) by llama.cpp's float-bit trick; |v| <= 2^22.
inline int nearest_int(float v) {
  const float f = v + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

// NaN, infinities and values whose squares would overflow have no level (they would make nearest_int's
// trick meaningless): such blocks are quantized as zeros. A weight file with them is broken; the
// quantizer's job is not to crash on it.
inline bool finite_block(const float* x, int n) {
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(x[i]) || std::fabs(x[i]) > 1e15f) return false;
  return true;
}

}  // namespace pocket::quant_math
