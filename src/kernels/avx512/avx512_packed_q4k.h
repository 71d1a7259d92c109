// Packed Q4_K rows (kernels/packed_rows.h) on AVX-512 VNNI: 16 rows in the 16 lanes of a zmm. Per
// super-block the scales and mins of all 16 rows unpack from three 64-byte words with word-wise
// operations (k_min_term's formulas, x86_kquants.h), each 64-byte step of nibbles is two vpdpbusd (low
// nibbles: sub-block 2c, high: 2c + 1) against one broadcast activation dword, and each sub-block's
// exact int32 sums meet their row's scale in one vpmulld. The mins' term is four vpdpwssd of the mins
// (as 16-bit pairs) against the activations' 32-sums. The integers are qdot_q45_k's, and the float
// formula is the same fma(dx, fma(d, isum, -(dmin * imin)), s) per row, so every result equals vec_dot's
// bit for bit. Included only by avx512_kernels.cpp (internal linkage, compiled for AVX-512).
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

constexpr size_t kQ4KPackedBlock = kPackRows * sizeof(BlockQ4_K);  // 2304

// The activations' 32-element sums of one Q8_K super-block as the dwords vpdpwssd broadcasts against
// the mins' 16-bit pairs: {s0 | s2 << 16, s1 | s3 << 16, s4 | s6 << 16, s5 | s7 << 16}.
inline void q8k_pair_sums(const BlockQ8_K& x, int32_t out[4]) {
  const __m128i s = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.bsums)),
                                   _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.bsums + 8)));  // s_j, j = 0..7
  const __m128i order = _mm_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_shuffle_epi8(s, order));
}

// One pass over a group's super-blocks for kTok tokens: out[j][r] for token j and row r.
template <int kTok>
inline void packed_q4k_pass(int64_t nb, const uint8_t* g, const BlockQ8_K* const* xb, float* const* out) {
  __m512 acc[kTok];
  for (auto& a : acc) a = _mm512_setzero_ps();
  const __m512i low4 = _mm512_set1_epi8(0x0f), low6 = _mm512_set1_epi8(0x3f), low2 = _mm512_set1_epi8(0x03), byte = _mm512_set1_epi32(0xff),
                even16 = _mm512_set1_epi32(0x00ff00ff);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = g + (size_t)b * kQ4KPackedBlock;
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)));
    const __m512i u0 = _mm512_loadu_si512(p + 64), u1 = _mm512_loadu_si512(p + 128), u2 = _mm512_loadu_si512(p + 192);
    // Bytes: scales 0..3 / 4..7 and mins 0..3 / 4..7 of each row (k_min_term's unpacking, per lane).
    const __m512i sc_lo = _mm512_and_si512(u0, low6), mn_lo = _mm512_and_si512(u1, low6);
    const __m512i sc_hi = _mm512_or_si512(_mm512_and_si512(u2, low4), _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(u0, 6), low2), 4));
    const __m512i mn_hi =
        _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(u2, 4), low4), _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(u1, 6), low2), 4));
    // The mins as 16-bit pairs: (m0, m2), (m1, m3), (m4, m6), (m5, m7).
    const __m512i mins[4] = {_mm512_and_si512(mn_lo, even16), _mm512_and_si512(_mm512_srli_epi32(mn_lo, 8), even16), _mm512_and_si512(mn_hi, even16),
                             _mm512_and_si512(_mm512_srli_epi32(mn_hi, 8), even16)};
    __m512i isum[kTok], imin[kTok];
    for (int j = 0; j < kTok; ++j) {
      int32_t ps[4];
      q8k_pair_sums(xb[j][b], ps);
      imin[j] = _mm512_setzero_si512();
      for (int k = 0; k < 4; ++k) imin[j] = _mm512_dpwssd_epi32(imin[j], mins[k], _mm512_set1_epi32(ps[k]));
      isum[j] = _mm512_setzero_si512();
    }
    const uint8_t* q = p + 256;
    for (int c = 0; c < 4; ++c) {
      const __m512i scw = c < 2 ? sc_lo : sc_hi;
      const __m512i sc_a = _mm512_and_si512(_mm512_srli_epi32(scw, 16 * (c & 1)), byte);      // sub-block 2c
      const __m512i sc_b = _mm512_and_si512(_mm512_srli_epi32(scw, 16 * (c & 1) + 8), byte);  // sub-block 2c + 1
      __m512i sa[kTok], sb[kTok];
      for (int j = 0; j < kTok; ++j) sa[j] = sb[j] = _mm512_setzero_si512();
      for (int k = 0; k < 8; ++k) {
        const __m512i raw = _mm512_loadu_si512(q + 64 * (8 * c + k));
        const __m512i wl = _mm512_and_si512(raw, low4), wh = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4);
        for (int j = 0; j < kTok; ++j) {
          int32_t xl, xh;
          std::memcpy(&xl, xb[j][b].qs + 64 * c + 4 * k, 4);
          std::memcpy(&xh, xb[j][b].qs + 64 * c + 32 + 4 * k, 4);
          sa[j] = _mm512_dpbusd_epi32(sa[j], wl, _mm512_set1_epi32(xl));
          sb[j] = _mm512_dpbusd_epi32(sb[j], wh, _mm512_set1_epi32(xh));
        }
      }
      for (int j = 0; j < kTok; ++j)
        isum[j] = _mm512_add_epi32(isum[j], _mm512_add_epi32(_mm512_mullo_epi32(sa[j], sc_a), _mm512_mullo_epi32(sb[j], sc_b)));
    }
    for (int j = 0; j < kTok; ++j) {
      const __m512 inner = _mm512_fmsub_ps(d, _mm512_cvtepi32_ps(isum[j]), _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(imin[j])));
      acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(xb[j][b].d), inner, acc[j]);
    }
  }
  for (int j = 0; j < kTok; ++j) _mm512_storeu_ps(out[j], acc[j]);
}

struct PackedQ4KPass {
  template <int kTok>
  static void run(int64_t nb, const uint8_t* g, const BlockQ8_K* const* xb, float* const* out) {
    packed_q4k_pass<kTok>(nb, g, xb, out);
  }
};

// KernelTable::vec_dot_packed for Q4_K: one group against n_tok tokens, four tokens at a time, then two, then one
// (no corrections). Four measured +7-10 % over two on TinyLlama Q4_K_M pp128 at 2 threads, equal at 1
// (AMD EPYC Zen 4 VM, 2026-12-03).
void qpacked_q4k(int64_t n, const uint8_t* w, const void* x, size_t xs, const int32_t* /*corr*/, size_t /*cs*/, int n_tok, float* out, size_t os) {
  packed_kquant_tokens<PackedQ4KPass, 4>(n, w, x, xs, n_tok, out, os);
}

}  // namespace
}  // namespace pocket

#pragma GCC diagnostic pop
