// Prefill tile for Q8_0 / Q4_0 weights on AVX-512 VNNI: 4 weight rows x 8 tokens per call, two tokens
// per zmm (their blocks side by side, the weight block broadcast to both halves), so one vpdpbusd
// serves two (row, token) pairs and each weight block is loaded and unpacked once for 8 tokens, each
// activation block once for 4 rows.
//
// vpdpbusd wants unsigned x signed bytes. qdot (x86_qdot.h) gets there with |w| and x carrying w's
// sign; here the activation is offset instead, x + 128 as an unsigned byte, and 128 * (the 4 weights of
// each lane) is taken off again: sum w (x + 128) - 128 sum w = sum w x, the same int32 lane sums
// exactly (the sum starts at -128 * sum w). What follows is qdot's float arithmetic per pair, in its order (scale dw * dx rounded to
// float, one fma per block into 8 lanes, hsum256), so every result equals vec_dot's bit for bit.
// Included only by avx512_kernels.cpp (internal linkage, compiled for AVX-512).
#pragma once

#include "dtype/block_formats.h"
#include "kernels/x86_qdot.h"
#include "kernels/x86_simd.h"

// GCC 12 warns that the undefined upper halves inside its insert/extract intrinsics are uninitialized
// (GCC bug 105593); they are never read.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace pocket {
namespace {

inline __m512i join256(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_zextsi256_si512(lo), hi, 1); }
inline __m512 join256(__m256 lo, __m256 hi) {
  return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_zextpd256_pd512(_mm256_castps_pd(lo)), _mm256_castps_pd(hi), 1));
}

// 4 rows x 2 * kPairs tokens (out[t * os + r]).
template <bool kQ4, int kPairs>
void qtile(int64_t n, const void* w, size_t ws, const void* x, size_t xs, float* out, size_t os) {
  constexpr int kTokens = 2 * kPairs;
  const uint8_t* wr[4];
  const BlockQ8_0* xb[kTokens];
  for (int j = 0; j < 4; ++j) wr[j] = static_cast<const uint8_t*>(w) + j * ws;
  for (int t = 0; t < kTokens; ++t) xb[t] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(x) + t * xs);
  const __m512i offset = _mm512_set1_epi8((char)0x80);
  __m512 acc[4][kPairs];  // [row][token pair]: token 2p in the low half, 2p + 1 in the high half
  for (auto& a : acc)
    for (auto& v : a) v = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b) {
    __m512i xu[kPairs];
    __m512 dx[kPairs];
    for (int p = 0; p < kPairs; ++p) {
      const BlockQ8_0& lo = xb[2 * p][b];
      const BlockQ8_0& hi = xb[2 * p + 1][b];
      xu[p] = _mm512_xor_si512(
          join256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo.qs)), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi.qs))), offset);
      dx[p] = join256(_mm256_set1_ps(h2f(lo.d)), _mm256_set1_ps(h2f(hi.d)));
    }
    for (int r = 0; r < 4; ++r) {
      float dw;
      const __m512i qw = _mm512_broadcast_i64x4(load_weight_block<kQ4>(wr[r], b, &dw));
      // -128 * the lane's 4 weights: the sum starts there, so vpdpbusd leaves sum w x.
      const __m512i start = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), offset, qw));
      const __m512 dwv = _mm512_set1_ps(dw);
      for (int p = 0; p < kPairs; ++p) {
        const __m512i lanes = _mm512_dpbusd_epi32(start, xu[p], qw);
        acc[r][p] = _mm512_fmadd_ps(_mm512_mul_ps(dwv, dx[p]), _mm512_cvtepi32_ps(lanes), acc[r][p]);
      }
    }
  }
  for (int r = 0; r < 4; ++r)
    for (int p = 0; p < kPairs; ++p) {
      out[(size_t)(2 * p) * os + r] = hsum256(_mm512_castps512_ps256(acc[r][p]));
      out[(size_t)(2 * p + 1) * os + r] = hsum256(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r][p]), 1)));
    }
}

}  // namespace
}  // namespace pocket

#pragma GCC diagnostic pop
