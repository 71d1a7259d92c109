// Fused attention for one query head over F32 cache rows on AVX2: an online softmax over blocks of 8
// positions. Per block: 8 scores at once (8 dot products reduced by one hadd tree), one running-max
// update, 8 weights through one vector exp, and the 8 value rows folded into the output in one pass
// over it. Before, each position paid a libm expf, a horizontal sum and a load/store of the output;
// prompt attention (pp512) spent a third of its time there. Included only by avx2_kernels.cpp
// (internal linkage, compiled for AVX2 + FMA).
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>

namespace pocket {
namespace {

// exp(x) for x <= 0 (softmax arguments; larger x are not clamped), NaN propagated, below -87.3 flushed
// to 0 (the normal range ends there). Cephes' expf: n = round(x log2 e), r = x - n ln 2 in two parts, a
// degree-6 polynomial, times 2^n by the exponent bits; within 2 ulp of exp over (-87.3, 0].
inline __m256 exp_nonpositive(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.3f);
  const __m256 xc = _mm256_max_ps(lo, x);  // NaN stays x (maxps returns its second operand then)
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  const __m256 v = _mm256_mul_ps(y, _mm256_castsi256_ps(e));
  return _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LT_OQ), v);  // x < -87.3 (and -inf): 0
}

// The 8 vectors' horizontal sums as one vector [sum a0, ..., sum a7].
inline __m256 hsums8(const __m256* a) {
  const __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
  const __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 q0 = _mm256_hadd_ps(h01, h23), q1 = _mm256_hadd_ps(h45, h67);  // [0..3 low | 0..3 high], [4..7 ..]
  return _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20), _mm256_permute2f128_ps(q0, q1, 0x31));
}

// Scores of positions p0 .. p0 + nb - 1 (nb <= 8) times scale; lanes past nb are -inf.
inline __m256 block_scores(const float* q, const float* k, int64_t stride, int p0, int nb, int64_t hd, float scale) {
  __m256 acc[8];
  float tail[8];
  for (int j = 0; j < 8; ++j) {
    acc[j] = _mm256_setzero_ps();
    tail[j] = 0.0f;
    if (j >= nb) continue;
    const float* kr = k + (size_t)(p0 + j) * stride;
    int64_t i = 0;
    for (; i + 8 <= hd; i += 8) acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(kr + i), acc[j]);
    for (; i < hd; ++i) tail[j] += q[i] * kr[i];
  }
  const __m256 s = _mm256_mul_ps(_mm256_add_ps(hsums8(acc), _mm256_loadu_ps(tail)), _mm256_set1_ps(scale));
  const __m256 valid = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(nb), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
  return _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), s, valid);
}

void attn_head_blocked(const float* q, const float* k, const float* v, int64_t stride, int n_pos, int64_t hd, float scale, float* out,
                       float* /*scores*/) {
  float m = -INFINITY, l = 0.0f;
  for (int64_t i = 0; i < hd; ++i) out[i] = 0.0f;
  for (int p0 = 0; p0 < n_pos; p0 += 8) {
    const int nb = n_pos - p0 < 8 ? n_pos - p0 : 8;
    const __m256 s = block_scores(q, k, stride, p0, nb, hd, scale);
    alignas(32) float sv[8];
    _mm256_store_ps(sv, s);
    float bm = m;
    for (int j = 0; j < nb; ++j)
      if (sv[j] > bm) bm = sv[j];
    float corr = 1.0f;
    if (bm > m) {
      corr = std::exp(m - bm);  // 0 on the first block (m = -inf)
      l *= corr;
      m = bm;
    }
    alignas(32) float w[8];
    const __m256 wv = exp_nonpositive(_mm256_sub_ps(s, _mm256_set1_ps(m)));
    _mm256_store_ps(w, wv);
    __m128 ws = _mm_add_ps(_mm256_castps256_ps128(wv), _mm256_extractf128_ps(wv, 1));
    ws = _mm_add_ps(ws, _mm_movehl_ps(ws, ws));
    l += _mm_cvtss_f32(_mm_add_ss(ws, _mm_movehdup_ps(ws)));
    // out = out * corr + sum_j w_j v_j, one pass over out.
    const __m256 cv = _mm256_set1_ps(corr);
    int64_t i = 0;
    for (; i + 8 <= hd; i += 8) {
      __m256 o = _mm256_mul_ps(_mm256_loadu_ps(out + i), cv);
      for (int j = 0; j < nb; ++j) o = _mm256_fmadd_ps(_mm256_set1_ps(w[j]), _mm256_loadu_ps(v + (size_t)(p0 + j) * stride + i), o);
      _mm256_storeu_ps(out + i, o);
    }
    for (; i < hd; ++i) {
      float o = out[i] * corr;
      for (int j = 0; j < nb; ++j) o += w[j] * v[(size_t)(p0 + j) * stride + i];
      out[i] = o;
    }
  }
  const float inv = 1.0f / l;
  const __m256 iv = _mm256_set1_ps(inv);
  int64_t i = 0;
  for (; i + 8 <= hd; i += 8) _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(out + i), iv));
  for (; i < hd; ++i) out[i] *= inv;
}

}  // namespace
}  // namespace pocket
