// Reference quantizers: the scalar definition of every block format (GGML-compatible rounding).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "dtype/block_formats.h"

namespace pocket {

void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float* xb = x + b * kQK8_0;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(xb[j]));  // NaN is ignored
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = float_to_fp16(d);
    for (int j = 0; j < kQK8_0; ++j) {
      const float r = std::roundf(xb[j] * id);
      y[b].qs[j] = std::isnan(r) ? 0 : (int8_t)r;  // NaN (or inf * 0) quantizes to 0
    }
  }
}

void quantize_row_q8_0_act_ref(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float* xb = x + b * kQK8_0;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(xb[j]));  // NaN is ignored
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    y[b].d = float_to_fp16(amax / 127.0f);
    for (int j = 0; j < kQK8_0; ++j) {
      const float r = std::nearbyint(xb[j] * id);  // current rounding mode: to nearest, ties to even
      y[b].qs[j] = std::isnan(r) ? 0 : (int8_t)r;
    }
  }
}

void dequantize_row_q8_0_ref(const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float d = fp16_to_float(x[b].d);
    for (int j = 0; j < kQK8_0; ++j) y[b * kQK8_0 + j] = x[b].qs[j] * d;
  }
}

void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    const float* xb = x + b * kQK4_0;
    float amax = 0.0f, max = 0.0f;  // max keeps the sign of the largest-magnitude value
    for (int j = 0; j < kQK4_0; ++j) {
      if (amax < std::fabs(xb[j])) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = float_to_fp16(d);
    // NaN codes as 8 (the value 0); llama.cpp's cast of NaN is undefined behaviour.
    auto code = [id](float v) {
      const float r = v * id + 8.5f;
      return std::isnan(r) ? (uint8_t)8 : (uint8_t)std::min(15, (int)(int8_t)r);
    };
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const uint8_t q0 = code(xb[j]);
      const uint8_t q1 = code(xb[j + kQK4_0 / 2]);
      y[b].qs[j] = (uint8_t)(q0 | (q1 << 4));
    }
  }
}

void dequantize_row_q4_0_ref(const BlockQ4_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    const float d = fp16_to_float(x[b].d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      y[b * kQK4_0 + j] = ((x[b].qs[j] & 0x0f) - 8) * d;
      y[b * kQK4_0 + j + kQK4_0 / 2] = ((x[b].qs[j] >> 4) - 8) * d;
    }
  }
}

void quantize_row_q4_1_ref(const float* x, BlockQ4_1* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK4_1; ++b) {
    const float* xb = x + b * kQK4_1;
    float mn = xb[0], mx = xb[0];
    for (int j = 1; j < kQK4_1; ++j) {
      mn = std::min(mn, xb[j]);
      mx = std::max(mx, xb[j]);
    }
    const float d = (mx - mn) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = float_to_fp16(d);
    y[b].m = float_to_fp16(mn);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const uint8_t q0 = (uint8_t)std::min(15, (int)(int8_t)((xb[j] - mn) * id + 0.5f));
      const uint8_t q1 = (uint8_t)std::min(15, (int)(int8_t)((xb[j + kQK4_1 / 2] - mn) * id + 0.5f));
      y[b].qs[j] = (uint8_t)(q0 | (q1 << 4));
    }
  }
}

void dequantize_row_q4_1_ref(const BlockQ4_1* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK4_1; ++b) {
    const float d = fp16_to_float(x[b].d), m = fp16_to_float(x[b].m);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      y[b * kQK4_1 + j] = (x[b].qs[j] & 0x0f) * d + m;
      y[b * kQK4_1 + j + kQK4_1 / 2] = (x[b].qs[j] >> 4) * d + m;
    }
  }
}

namespace {

// 32 five-bit values <-> a Q5 block's nibbles (element j low, j + 16 high) and fifth bits (bit j: element j).
void pack_q5(const uint8_t* q, uint8_t* qs, uint8_t* qh_out) {
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    qs[j] = (uint8_t)((q[j] & 0x0f) | ((q[j + 16] & 0x0f) << 4));
    qh |= (uint32_t)((q[j] & 0x10u) >> 4) << j;
    qh |= (uint32_t)((q[j + 16] & 0x10u) >> 4) << (j + 16);
  }
  std::memcpy(qh_out, &qh, sizeof qh);
}

void unpack_q5(const uint8_t* qs, const uint8_t* qh_in, uint8_t* q) {
  uint32_t qh;
  std::memcpy(&qh, qh_in, sizeof qh);
  for (int j = 0; j < 16; ++j) {
    q[j] = (uint8_t)((qs[j] & 0x0f) | (((qh >> j) & 1) << 4));
    q[j + 16] = (uint8_t)((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
  }
}

}  // namespace

// Q5_0 / Q5_1: llama.cpp's reference quantizers (what llama-quantize writes without an importance matrix).
void quantize_row_q5_0_ref(const float* x, BlockQ5_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    const float* xb = x + b * kQK5_0;
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK5_0; ++j) {
      if (amax < std::fabs(xb[j])) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = float_to_fp16(d);
    auto code = [id](float v) {
      const float r = v * id + 16.5f;
      return std::isnan(r) ? (uint8_t)16 : (uint8_t)std::min(31, (int)(int8_t)r);
    };
    uint8_t q[32];
    for (int j = 0; j < 32; ++j) q[j] = code(xb[j]);
    pack_q5(q, y[b].qs, y[b].qh);
  }
}

void dequantize_row_q5_0_ref(const BlockQ5_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    const float d = fp16_to_float(x[b].d);
    uint8_t q[32];
    unpack_q5(x[b].qs, x[b].qh, q);
    for (int j = 0; j < 32; ++j) y[b * kQK5_0 + j] = (q[j] - 16) * d;
  }
}

void quantize_row_q5_1_ref(const float* x, BlockQ5_1* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK5_1; ++b) {
    const float* xb = x + b * kQK5_1;
    float mn = xb[0], mx = xb[0];
    for (int j = 1; j < kQK5_1; ++j) {
      mn = std::min(mn, xb[j]);
      mx = std::max(mx, xb[j]);
    }
    const float d = (mx - mn) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = float_to_fp16(d);
    y[b].m = float_to_fp16(mn);
    auto code = [id, mn](float v) {
      const float r = (v - mn) * id + 0.5f;
      return std::isnan(r) ? (uint8_t)0 : (uint8_t)std::min(31, (int)r);
    };
    uint8_t q[32];
    for (int j = 0; j < 32; ++j) q[j] = code(xb[j]);
    pack_q5(q, y[b].qs, y[b].qh);
  }
}

void dequantize_row_q5_1_ref(const BlockQ5_1* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK5_1; ++b) {
    const float d = fp16_to_float(x[b].d), m = fp16_to_float(x[b].m);
    uint8_t q[32];
    unpack_q5(x[b].qs, x[b].qh, q);
    for (int j = 0; j < 32; ++j) y[b * kQK5_1 + j] = q[j] * d + m;
  }
}

}  // namespace pocket
