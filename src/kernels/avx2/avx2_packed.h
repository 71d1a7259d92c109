// Packed Q8_0 / Q4_0 rows (kernels/packed_rows.h) on AVX2: the 16-row groups AVX-512 uses, run as two
// halves of 8 rows (one ymm lane per row). Per block and row the int32 block sum is qdot's (x86_qdot.h)
// exactly:
//   Q4_0: maddubs(q, x) of the block's 8 steps summed in int16 (q the stored nibble 0..15: a pair is at
//         most 2 * 15 * 128 = 3840 in magnitude, 8 of them 30720 < 2^15, so nothing saturates or wraps),
//         one madd against ones, plus the token's block correction -8 * sum x;
//   Q8_0: the weight back to signed (stored + 128), then |w| x sign(x, w) maddubs + madd per step (no
//         correction; |w| <= 128, |x| <= 127 cannot saturate), summed in int32.
// Then the x86 float order of x86_qdot.h: dw * dx rounded to float, one fma per block into chain b mod 4,
// (c0 + c2) + (c1 + c3). Every result equals vec_dot's bit for bit. Included only by avx2_kernels.cpp
// (internal linkage, compiled for AVX2).
#pragma once

#include <cstring>

#include "dtype/block_formats.h"
#include "kernels/packed_rows.h"
#include "kernels/x86_simd.h"

namespace pocket {
namespace {

// As the AVX-512 kernel (avx512_packed.h): software prefetch ahead of decode's stream, in blocks.
template <bool kQ4>
constexpr size_t kPackedPrefetchBlocksAvx2 = kQ4 ? 16 : 28;

// One half (8 rows) of a group against one token: out[r] for r = 0..7.
template <bool kQ4>
inline void packed_half(int64_t nb, const uint8_t* g, int half, const BlockQ8_0* xb, const int32_t* corr, float* out) {
  constexpr int kSteps = kQ4 ? 4 : 8;
  constexpr size_t kBlock = kPackRows * 2 + kSteps * 64;
  __m256 f[4];
  for (__m256& v : f) v = _mm256_setzero_ps();
  const __m256i low = _mm256_set1_epi8(0x0f);
  const __m256i ones = _mm256_set1_epi16(1);
  auto block = [&](int64_t b, __m256& chain) {
    const uint8_t* p = g + (size_t)b * kBlock;
    if (half == 0)
      for (size_t o = 0; o < kBlock; o += 64)
        _mm_prefetch(reinterpret_cast<const char*>(p + kPackedPrefetchBlocksAvx2<kQ4> * kBlock + o), _MM_HINT_T0);
    const uint8_t* q = p + kPackRows * 2 + 32 * half;
    auto xdword = [&](int l) {
      int32_t v;
      std::memcpy(&v, xb[b].qs + 4 * l, 4);
      return _mm256_set1_epi32(v);
    };
    __m256i sum;
    if constexpr (kQ4) {
      __m256i s16 = _mm256_setzero_si256();
      for (int s = 0; s < kSteps; ++s) {
        const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * s));
        s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_and_si256(raw, low), xdword(s)));
        s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(raw, 4), low), xdword(s + 4)));
      }
      sum = _mm256_add_epi32(_mm256_madd_epi16(s16, ones), _mm256_set1_epi32(corr[b]));
    } else {
      __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
      for (int s = 0; s < kSteps; ++s) {
        const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * s));
        const __m256i w = _mm256_xor_si256(raw, _mm256_set1_epi8((char)0x80));
        const __m256i l = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(xdword(s), w)), ones);
        if (s % 2 == 0)
          s0 = _mm256_add_epi32(s0, l);
        else
          s1 = _mm256_add_epi32(s1, l);
      }
      sum = _mm256_add_epi32(s0, s1);
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * half)));
    chain = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(h2f(xb[b].d))), _mm256_cvtepi32_ps(sum), chain);
  };
  for (int64_t b = 0; b < nb; b += 4) {
    block(b, f[0]);
    if (b + 1 < nb) block(b + 1, f[1]);
    if (b + 2 < nb) block(b + 2, f[2]);
    if (b + 3 < nb) block(b + 3, f[3]);
  }
  _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(f[0], f[2]), _mm256_add_ps(f[1], f[3])));
}

// KernelTable::vec_dot_packed: one group against n_tok tokens, one token and one half at a time.
template <bool kQ4>
void qpacked_avx2(int64_t n, const uint8_t* w, const void* x, size_t xs, const int32_t* corr, size_t cs, int n_tok, float* out, size_t os) {
  const uint8_t* xa = static_cast<const uint8_t*>(x);
  for (int t = 0; t < n_tok; ++t)
    for (int half = 0; half < 2; ++half)
      packed_half<kQ4>(n / 32, w, half, reinterpret_cast<const BlockQ8_0*>(xa + t * xs), corr + t * cs, out + t * os + 8 * half);
}

}  // namespace
}  // namespace pocket
