// Packed Q4_K rows (kernels/packed_rows.h) on AVX2: the 16-row groups AVX-512 uses, as two halves of 8 rows
// (one ymm lane per row). Per 4-byte step, maddubs(nibbles, activations) gives each row two 16-bit sums of
// two products (|.| <= 2 * 15 * 128 = 3840); a sub-block's 8 steps add up in 16 bits (|.| <= 30720, no
// wrap), and one madd against the row's scale in both 16-bit halves of its lane turns them into
// scale x the sub-block's sum in int32. The mins' term is four madds of the mins (16-bit pairs) against
// the activations' 32-sums, as on AVX-512 (avx512_packed_q4k.h). The integers are qdot_q45_k's, the float
// formula the reference's per lane, so every result equals vec_dot's bit for bit. Included only by
// avx2_kernels.cpp (internal linkage, compiled for AVX2).
#pragma once

#include <cstring>

#include "dtype/block_formats.h"
#include "kernels/packed_rows.h"
#include "kernels/x86_simd.h"

namespace pocket {
namespace {

constexpr size_t kQ4KPackedBlockAvx2 = kPackRows * sizeof(BlockQ4_K);  // 2304

// One half (8 rows) of a group against one token: out[r] for r = 0..7.
inline void packed_q4k_half(int64_t nb, const uint8_t* g, int half, const BlockQ8_K* xb, float* out) {
  __m256 acc = _mm256_setzero_ps();
  const __m256i low4 = _mm256_set1_epi8(0x0f), low6 = _mm256_set1_epi8(0x3f), low2 = _mm256_set1_epi8(0x03), byte = _mm256_set1_epi32(0xff),
                even16 = _mm256_set1_epi32(0x00ff00ff);
  const __m128i order = _mm_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = g + (size_t)b * kQ4KPackedBlockAvx2;
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * half)));
    const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32 + 16 * half)));
    auto word = [&](int w) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64 + 64 * w + 32 * half)); };
    const __m256i u0 = word(0), u1 = word(1), u2 = word(2);
    const __m256i sc_lo = _mm256_and_si256(u0, low6), mn_lo = _mm256_and_si256(u1, low6);
    const __m256i sc_hi = _mm256_or_si256(_mm256_and_si256(u2, low4), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u0, 6), low2), 4));
    const __m256i mn_hi =
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(u2, 4), low4), _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u1, 6), low2), 4));
    // The mins' term: (m0, m2), (m1, m3), (m4, m6), (m5, m7) against the matching pairs of 32-sums.
    int32_t ps[4];
    const __m128i s32 = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xb[b].bsums)),
                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(xb[b].bsums + 8)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(ps), _mm_shuffle_epi8(s32, order));
    __m256i imin = _mm256_madd_epi16(_mm256_and_si256(mn_lo, even16), _mm256_set1_epi32(ps[0]));
    imin = _mm256_add_epi32(imin, _mm256_madd_epi16(_mm256_and_si256(_mm256_srli_epi32(mn_lo, 8), even16), _mm256_set1_epi32(ps[1])));
    imin = _mm256_add_epi32(imin, _mm256_madd_epi16(_mm256_and_si256(mn_hi, even16), _mm256_set1_epi32(ps[2])));
    imin = _mm256_add_epi32(imin, _mm256_madd_epi16(_mm256_and_si256(_mm256_srli_epi32(mn_hi, 8), even16), _mm256_set1_epi32(ps[3])));
    __m256i isum = _mm256_setzero_si256();
    const uint8_t* q = p + 256 + 32 * half;
    const int8_t* a = xb[b].qs;
    for (int c = 0; c < 4; ++c) {
      const __m256i scw = c < 2 ? sc_lo : sc_hi;
      // The row's scale in both 16-bit halves of its lane: madd then gives scale x (both halves' sum).
      auto pair = [&](int shift) {
        const __m256i s = _mm256_and_si256(_mm256_srli_epi32(scw, shift), byte);
        return _mm256_or_si256(s, _mm256_slli_epi32(s, 16));
      };
      const __m256i sc_a = pair(16 * (c & 1)), sc_b = pair(16 * (c & 1) + 8);
      __m256i sa = _mm256_setzero_si256(), sb = _mm256_setzero_si256();
      for (int k = 0; k < 8; ++k) {
        const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * (8 * c + k)));
        int32_t xl, xh;
        std::memcpy(&xl, a + 64 * c + 4 * k, 4);
        std::memcpy(&xh, a + 64 * c + 32 + 4 * k, 4);
        sa = _mm256_add_epi16(sa, _mm256_maddubs_epi16(_mm256_and_si256(raw, low4), _mm256_set1_epi32(xl)));
        sb = _mm256_add_epi16(sb, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(raw, 4), low4), _mm256_set1_epi32(xh)));
      }
      isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_madd_epi16(sa, sc_a), _mm256_madd_epi16(sb, sc_b)));
    }
    const __m256 inner = _mm256_fmsub_ps(d, _mm256_cvtepi32_ps(isum), _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(imin)));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(xb[b].d), inner, acc);
  }
  _mm256_storeu_ps(out, acc);
}

// KernelTable::vec_dot_packed for Q4_K: one group against n_tok tokens, one token and one half at a time.
void qpacked_q4k_avx2(int64_t n, const uint8_t* w, const void* x, size_t xs, const int32_t* /*corr*/, size_t /*cs*/, int n_tok, float* out,
                      size_t os) {
  const uint8_t* xa = static_cast<const uint8_t*>(x);
  for (int t = 0; t < n_tok; ++t)
    for (int half = 0; half < 2; ++half)
      packed_q4k_half(n / kQK_K, w, half, reinterpret_cast<const BlockQ8_K*>(xa + t * xs), out + t * os + 8 * half);
}

}  // namespace
}  // namespace pocket
