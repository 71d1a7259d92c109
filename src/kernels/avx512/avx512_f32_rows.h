// F32 weight rows against 1..kMaxXnTokens tokens per read of the rows (speculative verification,
// short appends, prompt batches). Part of the AVX-512 table (compiled with -mavx512f).
//
// Each (row, token) dot lives in one zmm whose low half is the AVX2 dot_f32's accumulator s0 and whose
// high half is its s1 (elements i..i+7 and i+8..i+15 of every 16-element step), so one 512-bit fma is
// exactly the two 256-bit fmas of dot_f32; the 8-element step is a masked fma into the low half, then
// s0 + s1 and the same horizontal sum (done for 8 tokens at once by shuffles, hsum8_f32, each add in
// hsum256's order) and the same scalar tail. Every result therefore equals vec_dot[F32]'s bit for bit.
// Measured on a Zen 4 VM (32000 x 288 rows from memory; bench notes in docs/correctness.md):
// - the loops are unrolled by pragma: GCC 12 -O2 otherwise keeps the accumulator array on the stack
//   (2.3x slower at 8 tokens in L2);
// - two rows at a time (2 weight loads for 2N fmas) was no faster in L2 and half as fast from memory;
// - a software prefetch 2 KiB ahead helps 3+ tokens (8 tokens: 12.9 -> 15.6 GB/s of weights) and
//   hurts one (30 -> 22 GB/s), so only N >= 3 issues it; one token stays on vec_dot (faster still).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.h"
#include "kernels/x86_simd.h"

namespace pocket {

// The horizontal sums of 8 accumulators at once, in hsum256(s0 + s1)'s order for each (every add keeps
// its operands in that order, so even NaN payloads agree): lane pairs, then 128-bit halves, then
// elements 0+2 / 1+3, then 0+1. Result t in lane t of the ymm.
// (Masked forms with full masks throughout: GCC 12 warns on the undefined pass-through of the plain ones.)
template <int Imm>
inline __m512 sh128(__m512 a, __m512 b) {
  return _mm512_maskz_shuffle_f32x4(0xFFFF, a, b, Imm);
}

inline __m256 hsum8_f32(const __m512* a) {
  __m512 p[4];
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) p[k] = _mm512_add_ps(sh128<0x44>(a[2 * k], a[2 * k + 1]), sh128<0xEE>(a[2 * k], a[2 * k + 1]));
  const __m512 q0 = _mm512_add_ps(sh128<0x88>(p[0], p[1]), sh128<0xDD>(p[0], p[1]));
  const __m512 q1 = _mm512_add_ps(sh128<0x88>(p[2], p[3]), sh128<0xDD>(p[2], p[3]));
  const __m512 u = _mm512_add_ps(_mm512_shuffle_ps(q0, q1, 0x44), _mm512_shuffle_ps(q0, q1, 0xEE));
  const __m512 v = _mm512_add_ps(u, _mm512_maskz_movehdup_ps(0xFFFF, u));
  const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 2, 6, 10, 14, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(_mm512_maskz_permutexvar_ps(0xFFFF, idx, v)), 0));
}

// How far ahead of the row being read the weights are prefetched (2 KiB: the rows that follow, as
// matrices are stored; a prefetch past the end is harmless). Measured on a Zen 4 VM, 32000 x 288 rows
// from memory, 8 tokens: 23 GFMA/s without, 34-35 with 256 or 512 floats, less at 1024 and 2048.
constexpr int64_t kXnPrefetchFloats = 512;

template <int N>
void f32_dot_tokens(int64_t n, const float* w, const uint8_t* x, size_t xs, float* out) {
  const float* xr[N];
  __m512 acc[8];
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) acc[j] = _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int j = 0; j < N; ++j) xr[j] = reinterpret_cast<const float*>(x + (size_t)j * xs);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 wv = _mm512_loadu_ps(w + i);
    if (N >= 3) _mm_prefetch(reinterpret_cast<const char*>(w + i + kXnPrefetchFloats), _MM_HINT_T0);
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) acc[j] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(xr[j] + i), acc[j]);
  }
  if (i + 8 <= n) {  // dot_f32's 8-element step, into s0 (the low half)
    const __m512 w8 = _mm512_maskz_loadu_ps(0xFF, w + i);
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) acc[j] = _mm512_mask3_fmadd_ps(w8, _mm512_maskz_loadu_ps(0xFF, xr[j] + i), acc[j], 0xFF);
    i += 8;
  }
  alignas(32) float sums[8];
  _mm256_store_ps(sums, hsum8_f32(acc));
#pragma GCC unroll 8
  for (int j = 0; j < N; ++j) out[j] = dot_tail_f32(w, xr[j], i, n, sums[j]);
}

inline void vec_dot_f32_tokens(int64_t n, const void* w, const void* x, size_t xs, int n_tok, float* out) {
  const float* wf = static_cast<const float*>(w);
  const uint8_t* xb = static_cast<const uint8_t*>(x);
  switch (n_tok) {
    case 1: return f32_dot_tokens<1>(n, wf, xb, xs, out);
    case 2: return f32_dot_tokens<2>(n, wf, xb, xs, out);
    case 3: return f32_dot_tokens<3>(n, wf, xb, xs, out);
    case 4: return f32_dot_tokens<4>(n, wf, xb, xs, out);
    case 5: return f32_dot_tokens<5>(n, wf, xb, xs, out);
    case 6: return f32_dot_tokens<6>(n, wf, xb, xs, out);
    case 7: return f32_dot_tokens<7>(n, wf, xb, xs, out);
    default: return f32_dot_tokens<8>(n, wf, xb, xs, out);
  }
}

}  // namespace pocket
