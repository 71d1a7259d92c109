// IQ4_NL and IQ4_XS: 4-bit indices into a fixed non-linear table of 16 values. The quantizers are the ones
// llama-quantize runs without an importance matrix (llama.cpp's quantize_iq4_nl / quantize_iq4_xs: weights
// x^2 and a search over 15 candidate scales), operation for operation, so the bytes match its files.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "dtype/block_formats.h"
#include "dtype/quant_math.h"

namespace pocket {

namespace {

using quant_math::finite_block;
using quant_math::kGroupMaxEps;
using quant_math::nearest_int;

constexpr int kTries = 7;

// The index of the table value nearest to x (ties to the upper one, as llama.cpp's binary search).
int best_index(const int8_t* val, float x) {
  if (x <= val[0]) return 0;
  if (x >= val[15]) return 15;
  int ml = 0, mu = 15;
  while (mu - ml > 1) {
    const int mav = (ml + mu) / 2;
    if (x < val[mav])
      mu = mav;
    else
      ml = mav;
  }
  return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

// One super-block of super_size (32 for IQ4_NL, 256 for IQ4_XS) in sub-blocks of 32: the scale of each
// sub-block by weighted least squares over the tries, then (IQ4_XS) the scales to 6 bits.
void quantize_iq4(int super_size, const float* x, uint16_t* dh, uint8_t* q4, uint16_t* scales_h, uint8_t* scales_l) {
  const int8_t* values = kIq4nlValues;
  float scales[kQK_K / 32], weight[32];
  uint8_t L[kQK_K];
  std::memset(q4, 0, (size_t)super_size / 2);
  *dh = float_to_fp16(0.f);
  float max_scale = 0, amax_scale = 0;
  for (int ib = 0; ib < super_size / 32; ++ib) {
    const float* xb = x + ib * 32;
    uint8_t* Lb = L + ib * 32;
    for (int j = 0; j < 32; ++j) weight[j] = xb[j] * xb[j];
    float amax = 0, max = 0;
    for (int j = 0; j < 32; ++j) {
      const float ax = std::fabs(xb[j]);
      if (ax > amax) {
        amax = ax;
        max = xb[j];
      }
    }
    if (amax < kGroupMaxEps) {
      scales[ib] = 0;
      continue;
    }
    float d = -max / values[0];
    float id = 1 / d;
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < 32; ++j) {
      const float al = id * xb[j];
      const int l = best_index(values, al);
      Lb[j] = (uint8_t)l;
      const float q = values[l];
      const float w = weight[j];
      sumqx += w * q * xb[j];
      sumq2 += w * q * q;
    }
    d = sumqx / sumq2;
    float best = d * sumqx;
    for (int itry = -kTries; itry <= kTries; ++itry) {
      id = (itry + values[0]) / max;
      sumqx = sumq2 = 0;
      for (int j = 0; j < 32; ++j) {
        const float al = id * xb[j];
        const int l = best_index(values, al);
        const float q = values[l];
        const float w = weight[j];
        sumqx += w * q * xb[j];
        sumq2 += w * q * q;
      }
      if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
        d = sumqx / sumq2;
        best = d * sumqx;
      }
    }
    scales[ib] = d;
    const float abs_d = std::fabs(d);
    if (abs_d > amax_scale) {
      amax_scale = abs_d;
      max_scale = d;
    }
  }
  if (super_size > 32) {
    const int nb = super_size / 32;
    std::memset(scales_h, 0, (size_t)((nb + 7) / 8) * sizeof(uint16_t));
    const float d = -max_scale / 32;
    *dh = float_to_fp16(d);
    const float id = d ? 1 / d : 0.f;
    for (int ib = 0; ib < nb; ++ib) {
      int l = nearest_int(id * scales[ib]);
      l = std::max(-32, std::min(31, l));
      const float dl = d * l;
      const float idl = dl ? 1 / dl : 0.f;
      uint8_t* Lb = L + ib * 32;
      const float* xb = x + ib * 32;
      for (int j = 0; j < 32; ++j) Lb[j] = (uint8_t)best_index(values, idl * xb[j]);
      l += 32;
      const uint8_t l_l = (uint8_t)(l & 0xf), l_h = (uint8_t)(l >> 4);
      if (ib % 2 == 0)
        scales_l[ib / 2] = l_l;
      else
        scales_l[ib / 2] |= (uint8_t)(l_l << 4);
      scales_h[ib / 8] = (uint16_t)(scales_h[ib / 8] | (l_h << 2 * (ib % 8)));
    }
  } else {
    *dh = float_to_fp16(scales[0]);
    const float id = scales[0] ? 1 / scales[0] : 0;
    for (int j = 0; j < super_size; ++j) L[j] = (uint8_t)best_index(values, id * x[j]);
  }
  for (int i = 0; i < super_size / 32; ++i)
    for (int j = 0; j < 16; ++j) q4[16 * i + j] = (uint8_t)(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

}  // namespace

void quantize_row_iq4_nl_ref(const float* x, BlockIQ4_NL* y, int64_t n) {
  const float zeros[kQK4_NL] = {};
  uint16_t unused_h = 0;
  for (int64_t b = 0; b < n / kQK4_NL; ++b, x += kQK4_NL)
    quantize_iq4(kQK4_NL, finite_block(x, kQK4_NL) ? x : zeros, &y[b].d, y[b].qs, &unused_h, nullptr);
}

void dequantize_row_iq4_nl_ref(const BlockIQ4_NL* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK4_NL; ++b, y += kQK4_NL) {
    const float d = fp16_to_float(x[b].d);
    for (int j = 0; j < kQK4_NL / 2; ++j) {
      y[j] = d * kIq4nlValues[x[b].qs[j] & 0xf];
      y[j + kQK4_NL / 2] = d * kIq4nlValues[x[b].qs[j] >> 4];
    }
  }
}

void quantize_row_iq4_xs_ref(const float* x, BlockIQ4_XS* y, int64_t n) {
  const float zeros[kQK_K] = {};
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K)
    quantize_iq4(kQK_K, finite_block(x, kQK_K) ? x : zeros, &y[b].d, y[b].qs, &y[b].scales_h, y[b].scales_l);
}

void dequantize_row_iq4_xs_ref(const BlockIQ4_XS* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* qs = x[b].qs;
    const float d = fp16_to_float(x[b].d);
    for (int ib = 0; ib < kQK_K / 32; ++ib, y += 32, qs += 16) {
      const int ls = ((x[b].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((x[b].scales_h >> 2 * ib) & 3) << 4);
      const float dl = d * (ls - 32);
      for (int j = 0; j < 16; ++j) {
        y[j] = dl * kIq4nlValues[qs[j] & 0xf];
        y[j + 16] = dl * kIq4nlValues[qs[j] >> 4];
      }
    }
  }
}

}  // namespace pocket
