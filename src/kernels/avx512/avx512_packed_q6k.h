// Packed Q6_K rows (kernels/packed_rows.h) on AVX-512 VNNI: 16 rows in the 16 lanes of a zmm. Per 4-byte
// step of a half super-block, two ql words and one qh word give the 6-bit values of four sub-blocks
// (qdot_q6_k's q1..q4, x86_kquants.h), each one vpdpbusd against a broadcast activation dword; each
// sub-block's exact int32 sum meets its row's sign-extended scale in one vpmulld. The -32 offset is
// 32 x sum of scale x the activations' 16-sums: eight vpdpwssd of the scales (as 16-bit pairs). The
// integers are qdot_q6_k's, the float formula its fma(dx, d * isum, s) per row, so every result equals
// vec_dot's bit for bit. Included only by avx512_kernels.cpp (internal linkage, compiled for AVX-512).
#pragma once

#include <cstring>

#include "dtype/block_formats.h"
#include "kernels/avx512/avx512_packed_kquant.h"
#include "kernels/packed_rows.h"
#include "kernels/x86_simd.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace pocket {
namespace {

constexpr size_t kQ6KPackedBlock = kPackRows * sizeof(BlockQ6_K);  // 3360

// The activations' 16 sums of one Q8_K super-block as the dwords vpdpwssd broadcasts against the scales'
// 16-bit pairs: per word w, {s[4w] | s[4w+2] << 16, s[4w+1] | s[4w+3] << 16}.
inline void q8k_scale_pair_sums(const BlockQ8_K& x, int32_t out[8]) {
  const __m128i order = _mm_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15);
  for (int h = 0; h < 2; ++h)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4 * h),
                     _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.bsums + 8 * h)), order));
}

// One pass over a group's super-blocks for kTok tokens: out[j][r] for token j and row r.
template <int kTok>
inline void packed_q6k_pass(int64_t nb, const uint8_t* g, const BlockQ8_K* const* xb, float* const* out) {
  __m512 acc[kTok];
  for (auto& a : acc) a = _mm512_setzero_ps();
  const __m512i low4 = _mm512_set1_epi8(0x0f), three = _mm512_set1_epi8(3);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = g + (size_t)b * kQ6KPackedBlock;
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    __m512i scw[4];
    for (int w = 0; w < 4; ++w) scw[w] = _mm512_loadu_si512(p + 32 + 64 * w);
    __m512i isum[kTok];
    for (int j = 0; j < kTok; ++j) {
      int32_t ps[8];
      q8k_scale_pair_sums(xb[j][b], ps);
      __m512i off = _mm512_setzero_si512();
      for (int w = 0; w < 4; ++w) {
        const __m512i even = _mm512_srai_epi16(_mm512_slli_epi16(scw[w], 8), 8), odd = _mm512_srai_epi16(scw[w], 8);
        off = _mm512_dpwssd_epi32(off, even, _mm512_set1_epi32(ps[2 * w]));
        off = _mm512_dpwssd_epi32(off, odd, _mm512_set1_epi32(ps[2 * w + 1]));
      }
      isum[j] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(off, 5));  // -32 x offset
    }
    const uint8_t* steps = p + 288;
    for (int h = 0; h < 2; ++h) {
      for (int m = 0; m < 2; ++m) {
        // Sub-blocks 8h + m + 2i (i = 0..3: q1..q4) over steps k = 4m..4m+3.
        __m512i s[kTok][4];
        for (auto& t : s)
          for (auto& v : t) v = _mm512_setzero_si512();
        for (int k = 4 * m; k < 4 * m + 4; ++k) {
          const uint8_t* st = steps + 192 * (8 * h + k);
          const __m512i l0 = _mm512_loadu_si512(st), l1 = _mm512_loadu_si512(st + 64), hb = _mm512_loadu_si512(st + 128);
          const __m512i q[4] = {
              _mm512_or_si512(_mm512_and_si512(l0, low4), _mm512_slli_epi16(_mm512_and_si512(hb, three), 4)),
              _mm512_or_si512(_mm512_and_si512(l1, low4), _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hb, 2), three), 4)),
              _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l0, 4), low4),
                              _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hb, 4), three), 4)),
              _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l1, 4), low4),
                              _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hb, 6), three), 4)),
          };
          for (int j = 0; j < kTok; ++j)
            for (int i = 0; i < 4; ++i) {
              int32_t xv;
              std::memcpy(&xv, xb[j][b].qs + 128 * h + 32 * i + 4 * k, 4);
              s[j][i] = _mm512_dpbusd_epi32(s[j][i], q[i], _mm512_set1_epi32(xv));
            }
        }
        for (int i = 0; i < 4; ++i) {
          const int sb = 8 * h + m + 2 * i;  // the sub-block: its scale is byte sb % 4 of word sb / 4
          const __m512i sc = _mm512_srai_epi32(_mm512_slli_epi32(scw[sb / 4], 24 - 8 * (sb % 4)), 24);
          for (int j = 0; j < kTok; ++j) isum[j] = _mm512_add_epi32(isum[j], _mm512_mullo_epi32(s[j][i], sc));
        }
      }
    }
    for (int j = 0; j < kTok; ++j) acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(xb[j][b].d), _mm512_mul_ps(d, _mm512_cvtepi32_ps(isum[j])), acc[j]);
  }
  for (int j = 0; j < kTok; ++j) _mm512_storeu_ps(out[j], acc[j]);
}

struct PackedQ6KPass {
  template <int kTok>
  static void run(int64_t nb, const uint8_t* g, const BlockQ8_K* const* xb, float* const* out) {
    packed_q6k_pass<kTok>(nb, g, xb, out);
  }
};

// KernelTable::vec_dot_packed for Q6_K: one group against n_tok tokens, two tokens at a time, then one (no
// corrections). Not four: by register count, four tokens keep 24 accumulators live beside the weights.
void qpacked_q6k(int64_t n, const uint8_t* w, const void* x, size_t xs, const int32_t* /*corr*/, size_t /*cs*/, int n_tok, float* out, size_t os) {
  packed_kquant_tokens<PackedQ6KPass, 2>(n, w, x, xs, n_tok, out, os);
}

}  // namespace
}  // namespace pocket

#pragma GCC diagnostic pop
