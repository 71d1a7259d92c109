// F32 weight rows against 1..kMaxXnTokens tokens per read of the row (speculative verification,
// short appends, prompt batches). Part of the AVX-512 table (compiled with -mavx512f).
//
// Each (row, token) dot lives in one zmm whose low half is the AVX2 dot_f32's accumulator s0 and whose
// high half is its s1 (elements i..i+7 and i+8..i+15 of every 16-element step), so one 512-bit fma is
// exactly the two 256-bit fmas of dot_f32; the 8-element step goes into the low half, then s0 + s1, the
// same horizontal sum and the same scalar tail. Every result therefore equals vec_dot[F32]'s bit for
// bit. (The halves come out through maskz_extract: GCC 12 warns on the undefined source of the plain
// extract and cast.) Per 16 elements: one weight load for up to 8 tokens (the 4-token AVX2 kernel: two loads for 4),
// so the row's bytes come from memory once and the fmas, not the loads, bound it.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.h"
#include "kernels/x86_simd.h"

namespace pocket {

template <int N>
void f32_dot_tokens(int64_t n, const float* w, const uint8_t* x, size_t xs, float* out) {
  const float* xr[N];
  __m512 acc[N];
  for (int j = 0; j < N; ++j) {
    xr[j] = reinterpret_cast<const float*>(x + (size_t)j * xs);
    acc[j] = _mm512_setzero_ps();
  }
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 wv = _mm512_loadu_ps(w + i);
    for (int j = 0; j < N; ++j) acc[j] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(xr[j] + i), acc[j]);
  }
  const bool step8 = i + 8 <= n;
  const __m256 w8 = step8 ? _mm256_loadu_ps(w + i) : _mm256_setzero_ps();
  for (int j = 0; j < N; ++j) {
    __m256 s0 = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(acc[j]), 0));
    const __m256 s1 = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(acc[j]), 1));
    if (step8) s0 = _mm256_fmadd_ps(w8, _mm256_loadu_ps(xr[j] + i), s0);
    out[j] = dot_tail_f32(w, xr[j], step8 ? i + 8 : i, n, hsum256(_mm256_add_ps(s0, s1)));
  }
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
