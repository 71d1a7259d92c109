// Q5_0 / Q5_1 (against Q8_0 activations) and Q4_K / Q5_K / Q6_K (against Q8_K) for every x86 table. As in
// x86_qdot.h the ISA only decides how unsigned x signed bytes become int32 lane sums (`UDot::lanes`). The
// K-quant kernels keep every super-block's sums as exact integers and combine them with the reference's
// float formula, so they return the reference's result bit for bit; Q5_0/Q5_1 accumulate in float lanes
// like qdot (tested within the float bound). Internal linkage (see x86_simd.h).
#pragma once

#include <cmath>
#include <cstring>

#include "kernels/x86_simd.h"
#include "dtype/block_formats.h"

namespace pocket {
namespace {

// 32 bits as 32 bytes: 0xff where bit i of the word is set (byte i <-> bit i).
inline __m256i bits_to_bytes(const uint8_t* p) {
  uint32_t word;
  std::memcpy(&word, p, sizeof word);
  const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i bit = _mm256_set1_epi64x((int64_t)0x8040201008040201ull);
  const __m256i v = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32((int)word), shuf), bit);
  return _mm256_cmpeq_epi8(v, bit);
}

// The 5-bit values of a Q5_0/Q5_1 block, unsigned 0..31, in element order.
inline __m256i unpack_q5(const uint8_t* qs, const uint8_t* qh) {
  return _mm256_or_si256(unpack_nibbles(qs), _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10)));
}

inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

template <class UDot>
float qdot_q5_0(int64_t n, const void* w, const void* x) {
  const BlockQ5_0* wb = static_cast<const BlockQ5_0*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    const __m256i qw = _mm256_sub_epi8(unpack_q5(wb[b].qs, wb[b].qh), _mm256_set1_epi8(16));  // -16..15
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs));
    const __m256 lanes = _mm256_cvtepi32_ps(UDot::lanes(_mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qx, qw)));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(wb[b].d) * h2f(xb[b].d)), lanes, acc);
  }
  return hsum256(acc);
}

template <class UDot>
float qdot_q5_1(int64_t n, const void* w, const void* x) {
  const BlockQ5_1* wb = static_cast<const BlockQ5_1*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  __m256 acc = _mm256_setzero_ps();
  float macc = 0.0f;
  const __m256i ones = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < n / kQK5_1; ++b) {
    const float dx = h2f(xb[b].d);
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs));
    const __m256 lanes = _mm256_cvtepi32_ps(UDot::lanes(unpack_q5(wb[b].qs, wb[b].qh), qx));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(wb[b].d) * dx), lanes, acc);
    macc += (float)hsum_i32(UDot::lanes(ones, qx)) * (h2f(wb[b].m) * dx);
  }
  return hsum256(acc) + macc;
}

// The mins' term of a Q4_K/Q5_K super-block: sum over sub-blocks of min_j times the activations' sum
// there; the eight 6-bit scales go to sc. All eight pairs are unpacked at once from the 12 bytes as
// 32-bit words (k_scale_min's layout, four bytes per operation) and the term is one 16-bit
// multiply-add: exact integers, so the result is the per-sub-block loop's.
inline int32_t k_min_term(const uint8_t* scales, const int16_t* bsums, uint8_t* sc) {
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  uint32_t u[3];
  std::memcpy(u, scales, 12);
  const uint32_t sc_lo = u[0] & kLow6, mins_lo = u[1] & kLow6;           // j = 0..3
  const uint32_t sc_hi = (u[2] & kLow4) | (((u[0] >> 6) & kLow2) << 4);  // j = 4..7
  const uint32_t mins_hi = ((u[2] >> 4) & kLow4) | (((u[1] >> 6) & kLow2) << 4);
  std::memcpy(sc, &sc_lo, 4);
  std::memcpy(sc + 4, &sc_hi, 4);
  const __m128i mins = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)(mins_lo | (uint64_t)mins_hi << 32)));
  const __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bsums)),
                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(bsums + 8)));  // bsums[2j] + bsums[2j+1]
  __m128i p = _mm_madd_epi16(mins, pairs);
  p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4e));
  p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xb1));
  return _mm_cvtsi128_si32(p);
}

template <class UDot, bool kQ5>
float qdot_q45_k(int64_t n, const void* w, const void* x) {
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  const __m256i low4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
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
    uint8_t sc[8];
    const int32_t imin = k_min_term(scales, xb[b].bsums, sc);
    // The scales as 16-bit lanes in both halves, to be picked per pair of sub-blocks by pshufb.
    uint64_t sc8;
    std::memcpy(&sc8, sc, 8);
    const __m128i sc16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)sc8));
    const __m256i sc16x2 = _mm256_broadcastsi128_si256(sc16);
    const int8_t* a = xb[b].qs;
    __m256i hbits = kQ5 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh)) : _mm256_setzero_si256();
    __m256i acc = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j, q += 32, a += 64) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
      __m256i lo = _mm256_and_si256(raw, low4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
      if constexpr (kQ5) {
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hbits, one), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 1), one), 4));
        hbits = _mm256_srli_epi16(hbits, 2);
      }
      const __m256i p0 = UDot::lanes(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a)));
      const __m256i p1 = UDot::lanes(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 32)));
      // |lane| <= 4 * 31 * 128 < 2^15: both sub-blocks' lanes fit one vector of 16-bit values (packs keeps
      // p0's four then p1's four per half), and one multiply-add applies each one's scale.
      const __m256i pick =
          _mm256_setr_epi8(4 * j, 4 * j + 1, 4 * j, 4 * j + 1, 4 * j, 4 * j + 1, 4 * j, 4 * j + 1, 4 * j + 2, 4 * j + 3, 4 * j + 2, 4 * j + 3,
                           4 * j + 2, 4 * j + 3, 4 * j + 2, 4 * j + 3, 4 * j, 4 * j + 1, 4 * j, 4 * j + 1, 4 * j, 4 * j + 1, 4 * j, 4 * j + 1,
                           4 * j + 2, 4 * j + 3, 4 * j + 2, 4 * j + 3, 4 * j + 2, 4 * j + 3, 4 * j + 2, 4 * j + 3);
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_packs_epi32(p0, p1), _mm256_shuffle_epi8(sc16x2, pick)));
    }
    const int32_t isum = hsum_i32(acc);
    s = std::fma(xb[b].d, std::fma(h2f(d), (float)isum, -(h2f(dmin) * (float)imin)), s);
  }
  return s;
}

// A pshufb control that spreads 16-bit lanes: lane a to the low half's first four, b to its last four,
// c and d likewise in the high half.
inline __m256i spread16(int a, int b, int c, int d) {
  auto lo = [](int i) { return (char)(2 * i); };
  auto hi = [](int i) { return (char)(2 * i + 1); };
  return _mm256_setr_epi8(lo(a), hi(a), lo(a), hi(a), lo(a), hi(a), lo(a), hi(a), lo(b), hi(b), lo(b), hi(b), lo(b), hi(b), lo(b), hi(b), lo(c),
                          hi(c), lo(c), hi(c), lo(c), hi(c), lo(c), hi(c), lo(d), hi(d), lo(d), hi(d), lo(d), hi(d), lo(d), hi(d));
}

template <class UDot>
float qdot_q6_k(int64_t n, const void* w, const void* x) {
  const BlockQ6_K* wb = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  const __m256i low4 = _mm256_set1_epi8(0x0f), three = _mm256_set1_epi8(3);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* ql = wb[b].ql;
    const uint8_t* qh = wb[b].qh;
    const int8_t* sc = wb[b].scales;
    const int8_t* a = xb[b].qs;
    // The -32 offset through the activations' 16-sums: sum sc_k (q - 32) a = sum sc_k q a - 32 sum sc_k bsum_k
    // (16-bit multiply-adds: |sc| <= 128, |bsum| <= 2048).
    const __m128i sc_lo = _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc)));
    const __m128i sc_hi = _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 8)));
    __m128i off = _mm_add_epi32(_mm_madd_epi16(sc_lo, _mm_loadu_si128(reinterpret_cast<const __m128i*>(xb[b].bsums))),
                                _mm_madd_epi16(sc_hi, _mm_loadu_si128(reinterpret_cast<const __m128i*>(xb[b].bsums + 8))));
    off = _mm_add_epi32(off, _mm_shuffle_epi32(off, 0x4e));
    off = _mm_add_epi32(off, _mm_shuffle_epi32(off, 0xb1));
    const int32_t offset = _mm_cvtsi128_si32(off);
    __m256i acc = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, a += 128) {
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_slli_epi16(_mm256_and_si256(h, three), 4)),
          _mm256_or_si256(_mm256_and_si256(l1, low4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), three), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), three), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), three), 4)),
      };
      const __m256i sc16 = _mm256_broadcastsi128_si256(half ? sc_hi : sc_lo);  // this half's 8 scales
      for (int k = 0; k < 4; k += 2) {
        // 32 elements = sub-blocks 2k (elements 0..15: lanes 0..3) and 2k+1 (16..31: lanes 4..7), and the
        // same for k+1. |lane| <= 4 * 63 * 128 < 2^15, so both fit one vector of 16-bit values (packs: per
        // half, k's four lanes then k+1's), and one multiply-add applies the four sub-blocks' scales.
        const __m256i p0 = UDot::lanes(q[k], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 32 * k)));
        const __m256i p1 = UDot::lanes(q[k + 1], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 32 * (k + 1))));
        const __m256i scv = _mm256_shuffle_epi8(sc16, spread16(2 * k, 2 * k + 2, 2 * k + 1, 2 * k + 3));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_packs_epi32(p0, p1), scv));
      }
    }
    const int32_t isum = hsum_i32(acc) - 32 * offset;
    s = std::fma(xb[b].d, h2f(wb[b].d) * (float)isum, s);
  }
  return s;
}

// IQ4_NL: the nibbles index the 16-value table through a byte shuffle (signed values), then as qdot.
inline __m256i iq4_table() { return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues))); }

template <class UDot>
float qdot_iq4_nl(int64_t n, const void* w, const void* x) {
  const BlockIQ4_NL* wb = static_cast<const BlockIQ4_NL*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  const __m256i table = iq4_table();
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK4_NL; ++b) {
    const __m256i qw = _mm256_shuffle_epi8(table, unpack_nibbles(wb[b].qs));
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs));
    const __m256 lanes = _mm256_cvtepi32_ps(UDot::lanes(_mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qx, qw)));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(wb[b].d) * h2f(xb[b].d)), lanes, acc);
  }
  return hsum256(acc);
}

// IQ4_XS: 8 sub-blocks of 32 (one vector each) with 6-bit scales; exact integers per super-block.
template <class UDot>
float qdot_iq4_xs(int64_t n, const void* w, const void* x) {
  const BlockIQ4_XS* wb = static_cast<const BlockIQ4_XS*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  const __m256i table = iq4_table();
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* qs = wb[b].qs;
    const int8_t* a = xb[b].qs;
    __m256i acc = _mm256_setzero_si256();
    for (int ib = 0; ib < kQK_K / 32; ++ib, qs += 16, a += 32) {
      const int ls = ((wb[b].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((wb[b].scales_h >> 2 * ib) & 3) << 4);
      const __m256i qw = _mm256_shuffle_epi8(table, unpack_nibbles(qs));
      const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
      const __m256i p = UDot::lanes(_mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qx, qw));
      acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(p, _mm256_set1_epi32(ls - 32)));
    }
    s = std::fma(xb[b].d, h2f(wb[b].d) * (float)hsum_i32(acc), s);
  }
  return s;
}

// Q2_K: levels 0..3 (Q3_K's low bits) with 4-bit scales per 16; the mins through the activations' 16-sums.
template <class UDot>
float qdot_q2_k(int64_t n, const void* w, const void* x) {
  const BlockQ2_K* wb = static_cast<const BlockQ2_K*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  const __m256i three = _mm256_set1_epi8(3);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t imin = 0;
    for (int j = 0; j < 16; ++j) imin += (wb[b].scales[j] >> 4) * xb[b].bsums[j];
    const int8_t* a = xb[b].qs;
    __m256i acc = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].qs + 32 * half));
      for (int k = 0; k < 4; ++k, a += 32) {
        const __m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), three);
        const __m256i p = UDot::lanes(u, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a)));
        const int is = 8 * half + 2 * k;
        const __m256i scv = _mm256_set_m128i(_mm_set1_epi32(wb[b].scales[is + 1] & 0xF), _mm_set1_epi32(wb[b].scales[is] & 0xF));
        acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(p, scv));
      }
    }
    s = std::fma(xb[b].d, std::fma(h2f(wb[b].d), (float)hsum_i32(acc), -(h2f(wb[b].dmin) * (float)imin)), s);
  }
  return s;
}

// Q3_K: unsigned levels u = 2 low bits | high bit << 2 (0..7), value u - 4; the -4 goes through the
// activations' 16-sums as Q6_K's -32 does.
template <class UDot>
float qdot_q3_k(int64_t n, const void* w, const void* x) {
  const BlockQ3_K* wb = static_cast<const BlockQ3_K*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t sc[16];
    q3_k_scales(wb[b].scales, sc);
    int32_t offset = 0;
    for (int k = 0; k < 16; ++k) offset += sc[k] * xb[b].bsums[k];
    const __m256i hm = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].hmask));
    const int8_t* a = xb[b].qs;
    __m256i acc = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].qs + 32 * half));
      for (int k = 0; k < 4; ++k, a += 32) {
        const int bit = 4 * half + k;
        const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), three);
        const __m256i hi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, bit), one), 2);
        const __m256i p = UDot::lanes(_mm256_or_si256(lo, hi), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a)));
        const int is = 8 * half + 2 * k;
        acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(p, _mm256_set_m128i(_mm_set1_epi32(sc[is + 1]), _mm_set1_epi32(sc[is]))));
      }
    }
    s = std::fma(xb[b].d, h2f(wb[b].d) * (float)(hsum_i32(acc) - 4 * offset), s);
  }
  return s;
}

}  // namespace
}  // namespace pocket
