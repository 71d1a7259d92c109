// Q5_0, Q5_1, IQ4_NL (against Q8_0 activations) and Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS (against Q8_K) for both
// ARM tables; as in arm_qdot.h only `SDot::lanes` (32 signed x signed byte products -> 4 int32 lanes)
// differs between them. The K-quant kernels sum each sub-block exactly in integers and combine a
// super-block with the reference's float formula, so they return the reference's value bit for bit.
// Internal linkage (see arm_qdot.h).
#pragma once

#include <cmath>

#include "kernels/arm_qdot.h"

namespace pocket {
namespace {

// The 5-bit values of a Q5_0/Q5_1 block (0..31) as bytes in element order.
inline Bytes32 unpack_q5(const uint8_t* qs, const uint8_t* qh) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof bits);
  // Bit i of the word -> 0x10 in byte i: test each byte's bit against a per-byte mask.
  static const uint8_t kMask[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t mask = vld1q_u8(kMask);
  const uint8x8_t b0 = vdup_n_u8((uint8_t)bits), b1 = vdup_n_u8((uint8_t)(bits >> 8)), b2 = vdup_n_u8((uint8_t)(bits >> 16)),
                  b3 = vdup_n_u8((uint8_t)(bits >> 24));
  const uint8x16_t h0 = vandq_u8(vtstq_u8(vcombine_u8(b0, b1), mask), vdupq_n_u8(0x10));
  const uint8x16_t h1 = vandq_u8(vtstq_u8(vcombine_u8(b2, b3), mask), vdupq_n_u8(0x10));
  const uint8x16_t raw = vld1q_u8(qs);
  return {vreinterpretq_s8_u8(vorrq_u8(vandq_u8(raw, vdupq_n_u8(0x0f)), h0)), vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(raw, 4), h1))};
}

template <class SDot>
float qdot_q5_0(int64_t n, const void* w, const void* x) {
  const BlockQ5_0* wb = static_cast<const BlockQ5_0*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  const int8x16_t sixteen = vdupq_n_s8(16);
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    Bytes32 q = unpack_q5(wb[b].qs, wb[b].qh);
    q.lo = vsubq_s8(q.lo, sixteen);
    q.hi = vsubq_s8(q.hi, sixteen);
    acc = vfmaq_n_f32(acc, block_lanes<SDot>(q, load_act_block(xb[b])), h2f(wb[b].d) * h2f(xb[b].d));
  }
  return vaddvq_f32(acc);
}

template <class SDot>
float qdot_q5_1(int64_t n, const void* w, const void* x) {
  const BlockQ5_1* wb = static_cast<const BlockQ5_1*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  const Bytes32 ones = {vdupq_n_s8(1), vdupq_n_s8(1)};
  float32x4_t acc = vdupq_n_f32(0.0f);
  float macc = 0.0f;
  for (int64_t b = 0; b < n / kQK5_1; ++b) {
    const float dx = h2f(xb[b].d);
    const Bytes32 a = load_act_block(xb[b]);
    acc = vfmaq_n_f32(acc, block_lanes<SDot>(unpack_q5(wb[b].qs, wb[b].qh), a), h2f(wb[b].d) * dx);
    macc += (float)vaddvq_s32(SDot::lanes(ones, a)) * (h2f(wb[b].m) * dx);
  }
  return vaddvq_f32(acc) + macc;
}

template <class SDot>
float qdot_iq4_nl(int64_t n, const void* w, const void* x) {
  const BlockIQ4_NL* wb = static_cast<const BlockIQ4_NL*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  const int8x16_t table = vld1q_s8(kIq4nlValues);
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < n / kQK4_NL; ++b) {
    const uint8x16_t raw = vld1q_u8(wb[b].qs);
    const Bytes32 q = {vqtbl1q_s8(table, vandq_u8(raw, vdupq_n_u8(0x0f))), vqtbl1q_s8(table, vshrq_n_u8(raw, 4))};
    acc = vfmaq_n_f32(acc, block_lanes<SDot>(q, load_act_block(xb[b])), h2f(wb[b].d) * h2f(xb[b].d));
  }
  return vaddvq_f32(acc);
}

template <class SDot>
inline int32_t sum32(int8x16_t w0, int8x16_t w1, const int8_t* a) {
  return vaddvq_s32(SDot::lanes({w0, w1}, {vld1q_s8(a), vld1q_s8(a + 16)}));
}
template <class SDot>
inline int32_t sum16(int8x16_t w, const int8_t* a) {
  return vaddvq_s32(SDot::lanes({w, vdupq_n_s8(0)}, {vld1q_s8(a), vdupq_n_s8(0)}));
}

template <class SDot, bool kQ5>
float qdot_q45_k(int64_t n, const void* w, const void* x) {
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  const uint8x16_t low4 = vdupq_n_u8(0x0f), one = vdupq_n_u8(1);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* scales;
    const uint8_t* q;
    const uint8_t* qh = nullptr;
    uint16_t d, dmin;
    if constexpr (kQ5) {
      const BlockQ5_K& blk = static_cast<const BlockQ5_K*>(w)[b];
      scales = blk.scales, q = blk.qs, qh = blk.qh, d = blk.d, dmin = blk.dmin;
    } else {
      const BlockQ4_K& blk = static_cast<const BlockQ4_K*>(w)[b];
      scales = blk.scales, q = blk.qs, d = blk.d, dmin = blk.dmin;
    }
    int32_t isum = 0, imin = 0;
    const int8_t* a = xb[b].qs;
    uint8x16_t h0 = kQ5 ? vld1q_u8(qh) : vdupq_n_u8(0), h1 = kQ5 ? vld1q_u8(qh + 16) : vdupq_n_u8(0);
    for (int j = 0; j < 4; ++j, q += 32, a += 64) {
      uint8_t sc0, m0, sc1, m1;
      k_scale_min(2 * j, scales, &sc0, &m0);
      k_scale_min(2 * j + 1, scales, &sc1, &m1);
      const uint8x16_t r0 = vld1q_u8(q), r1 = vld1q_u8(q + 16);
      uint8x16_t lo0 = vandq_u8(r0, low4), lo1 = vandq_u8(r1, low4), hi0 = vshrq_n_u8(r0, 4), hi1 = vshrq_n_u8(r1, 4);
      if constexpr (kQ5) {
        lo0 = vorrq_u8(lo0, vshlq_n_u8(vandq_u8(h0, one), 4));
        lo1 = vorrq_u8(lo1, vshlq_n_u8(vandq_u8(h1, one), 4));
        hi0 = vorrq_u8(hi0, vshlq_n_u8(vandq_u8(vshrq_n_u8(h0, 1), one), 4));
        hi1 = vorrq_u8(hi1, vshlq_n_u8(vandq_u8(vshrq_n_u8(h1, 1), one), 4));
        h0 = vshrq_n_u8(h0, 2);
        h1 = vshrq_n_u8(h1, 2);
      }
      isum += sc0 * sum32<SDot>(vreinterpretq_s8_u8(lo0), vreinterpretq_s8_u8(lo1), a);
      isum += sc1 * sum32<SDot>(vreinterpretq_s8_u8(hi0), vreinterpretq_s8_u8(hi1), a + 32);
      imin += m0 * (xb[b].bsums[4 * j] + xb[b].bsums[4 * j + 1]) + m1 * (xb[b].bsums[4 * j + 2] + xb[b].bsums[4 * j + 3]);
    }
    s = std::fma(xb[b].d, std::fma(h2f(d), (float)isum, -(h2f(dmin) * (float)imin)), s);
  }
  return s;
}

template <class SDot>
float qdot_q6_k(int64_t n, const void* w, const void* x) {
  const BlockQ6_K* wb = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  const uint8x16_t low4 = vdupq_n_u8(0x0f), three = vdupq_n_u8(3);
  const int8x16_t m32 = vdupq_n_s8(32);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* ql = wb[b].ql;
    const uint8_t* qh = wb[b].qh;
    const int8_t* sc = wb[b].scales;
    const int8_t* a = xb[b].qs;
    int32_t isum = 0;
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, a += 128) {
      for (int part = 0; part < 2; ++part) {  // l = 0..15, then 16..31
        const uint8x16_t l0 = vld1q_u8(ql + 16 * part), l1 = vld1q_u8(ql + 32 + 16 * part), h = vld1q_u8(qh + 16 * part);
        const uint8x16_t u[4] = {
            vorrq_u8(vandq_u8(l0, low4), vshlq_n_u8(vandq_u8(h, three), 4)),
            vorrq_u8(vandq_u8(l1, low4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 2), three), 4)),
            vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 4), three), 4)),
            vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(h, 6), 4)),
        };
        for (int k = 0; k < 4; ++k) isum += sc[2 * k + part] * sum16<SDot>(vsubq_s8(vreinterpretq_s8_u8(u[k]), m32), a + 32 * k + 16 * part);
      }
    }
    s = std::fma(xb[b].d, h2f(wb[b].d) * (float)isum, s);
  }
  return s;
}

template <class SDot>
float qdot_q2_k(int64_t n, const void* w, const void* x) {
  const BlockQ2_K* wb = static_cast<const BlockQ2_K*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  const uint8x16_t three = vdupq_n_u8(3);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t isum = 0, imin = 0;
    for (int j = 0; j < 16; ++j) imin += (wb[b].scales[j] >> 4) * xb[b].bsums[j];
    const int8_t* a = xb[b].qs;
    for (int half = 0; half < 2; ++half) {
      const uint8x16_t q0 = vld1q_u8(wb[b].qs + 32 * half), q1 = vld1q_u8(wb[b].qs + 32 * half + 16);
      for (int k = 0; k < 4; ++k, a += 32) {
        const int8x16_t shift = vdupq_n_s8((int8_t)(-2 * k));
        const int is = 8 * half + 2 * k;
        isum += (wb[b].scales[is] & 0xF) * sum16<SDot>(vreinterpretq_s8_u8(vandq_u8(vshlq_u8(q0, shift), three)), a);
        isum += (wb[b].scales[is + 1] & 0xF) * sum16<SDot>(vreinterpretq_s8_u8(vandq_u8(vshlq_u8(q1, shift), three)), a + 16);
      }
    }
    s = std::fma(xb[b].d, std::fma(h2f(wb[b].d), (float)isum, -(h2f(wb[b].dmin) * (float)imin)), s);
  }
  return s;
}

template <class SDot>
float qdot_q3_k(int64_t n, const void* w, const void* x) {
  const BlockQ3_K* wb = static_cast<const BlockQ3_K*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  const uint8x16_t three = vdupq_n_u8(3), one = vdupq_n_u8(1);
  const int8x16_t four = vdupq_n_s8(4);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t sc[16];
    q3_k_scales(wb[b].scales, sc);
    const uint8x16_t hm0 = vld1q_u8(wb[b].hmask), hm1 = vld1q_u8(wb[b].hmask + 16);
    const int8_t* a = xb[b].qs;
    int32_t isum = 0;
    for (int half = 0; half < 2; ++half) {
      const uint8x16_t q0 = vld1q_u8(wb[b].qs + 32 * half), q1 = vld1q_u8(wb[b].qs + 32 * half + 16);
      for (int k = 0; k < 4; ++k, a += 32) {
        const int bit = 4 * half + k;
        const int8x16_t shift_q = vdupq_n_s8((int8_t)(-2 * k)), shift_h = vdupq_n_s8((int8_t)-bit);
        const uint8x16_t u0 = vorrq_u8(vandq_u8(vshlq_u8(q0, shift_q), three), vshlq_n_u8(vandq_u8(vshlq_u8(hm0, shift_h), one), 2));
        const uint8x16_t u1 = vorrq_u8(vandq_u8(vshlq_u8(q1, shift_q), three), vshlq_n_u8(vandq_u8(vshlq_u8(hm1, shift_h), one), 2));
        const int is = 8 * half + 2 * k;
        isum += sc[is] * sum16<SDot>(vsubq_s8(vreinterpretq_s8_u8(u0), four), a);
        isum += sc[is + 1] * sum16<SDot>(vsubq_s8(vreinterpretq_s8_u8(u1), four), a + 16);
      }
    }
    s = std::fma(xb[b].d, h2f(wb[b].d) * (float)isum, s);
  }
  return s;
}

template <class SDot>
float qdot_iq4_xs(int64_t n, const void* w, const void* x) {
  const BlockIQ4_XS* wb = static_cast<const BlockIQ4_XS*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  const int8x16_t table = vld1q_s8(kIq4nlValues);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* qs = wb[b].qs;
    const int8_t* a = xb[b].qs;
    int32_t isum = 0;
    for (int ib = 0; ib < kQK_K / 32; ++ib, qs += 16, a += 32) {
      const int ls = ((wb[b].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((wb[b].scales_h >> 2 * ib) & 3) << 4);
      const uint8x16_t raw = vld1q_u8(qs);
      isum += (ls - 32) * sum32<SDot>(vqtbl1q_s8(table, vandq_u8(raw, vdupq_n_u8(0x0f))), vqtbl1q_s8(table, vshrq_n_u8(raw, 4)), a);
    }
    s = std::fma(xb[b].d, h2f(wb[b].d) * (float)isum, s);
  }
  return s;
}

}  // namespace
}  // namespace pocket
