// AVX2 + FMA + F16C kernels. Compiled with -mavx2 -mfma -mf16c; only called when the CPU has them.
#include <immintrin.h>

#include <cmath>

#include "core/fp16.h"
#include "kernels/avx2/avx2_attention.h"
#include "kernels/avx2/avx2_packed.h"
#include "kernels/avx2/avx2_packed_q4k.h"
#include "kernels/kernel_table.h"
#include "kernels/x86_kquants.h"
#include "kernels/x86_qdot.h"
#include "kernels/x86_simd.h"
#include "dtype/block_formats.h"

namespace pocket {
namespace {

// Two accumulators over 16-element steps, then one 8-element step, then a scalar tail. The 4-token
// version below repeats exactly this order per token (so batching never changes a result).
float dot_f32(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  if (i + 8 <= n) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    i += 8;
  }
  return dot_tail_f32(a, b, i, n, hsum256(_mm256_add_ps(s0, s1)));
}

void vec_dot_f32_x4(int64_t n, const void* wv, const void* xv, size_t xs, float* out) {
  const float* w = static_cast<const float*>(wv);
  const float* x[4];
  for (int j = 0; j < 4; ++j) x[j] = reinterpret_cast<const float*>(static_cast<const uint8_t*>(xv) + j * xs);
  __m256 s0[4], s1[4];
  for (int j = 0; j < 4; ++j) s0[j] = s1[j] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 w0 = _mm256_loadu_ps(w + i), w1 = _mm256_loadu_ps(w + i + 8);
    for (int j = 0; j < 4; ++j) {
      s0[j] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[j] + i), s0[j]);
      s1[j] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[j] + i + 8), s1[j]);
    }
  }
  const bool step8 = i + 8 <= n;
  if (step8) {
    const __m256 w0 = _mm256_loadu_ps(w + i);
    for (int j = 0; j < 4; ++j) s0[j] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[j] + i), s0[j]);
    i += 8;
  }
  for (int j = 0; j < 4; ++j) { out[j] = dot_tail_f32(w, x[j], i, n, hsum256(_mm256_add_ps(s0[j], s1[j]))); }
}

float vec_dot_f32(int64_t n, const void* w, const void* x) { return dot_f32(static_cast<const float*>(w), static_cast<const float*>(x), n); }

float vec_dot_f16(int64_t n, const void* w, const void* x) {
  const uint16_t* h = static_cast<const uint16_t*>(w);
  const float* a = static_cast<const float*>(x);
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i)));
    const __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i + 8)));
    s0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(a + i), s0);
    s1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(a + i + 8), s1);
  }
  float s = hsum256(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) s += fp16_to_float(h[i]) * a[i];
  return s;
}

float vec_dot_bf16(int64_t n, const void* w, const void* x) {
  const uint16_t* h = static_cast<const uint16_t*>(w);
  const float* a = static_cast<const float*>(x);
  __m256 s0 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i wi = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))), 16);
    s0 = _mm256_fmadd_ps(_mm256_castsi256_ps(wi), _mm256_loadu_ps(a + i), s0);
  }
  float s = hsum256(s0);
  for (; i < n; ++i) s += bf16_to_float(h[i]) * a[i];
  return s;
}

// AVX2: unsigned x signed bytes -> int16 pair sums -> int32 lane sums (no saturation for |w| <= 127).
struct MaddubsDot {
  static __m256i lanes(__m256i u, __m256i s) { return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)); }
};

float vec_dot_q4_1(int64_t n, const void* w, const void* x) {
  const BlockQ4_1* wb = static_cast<const BlockQ4_1*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  __m256 acc = _mm256_setzero_ps();
  float macc = 0.0f;
  const __m256i ones8 = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < n / kQK4_1; ++b) {
    const float dx = h2f(xb[b].d);
    const __m256i qw = unpack_nibbles(wb[b].qs);  // unsigned 0..15
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs));
    const __m256i p16 = _mm256_maddubs_epi16(qw, qx);
    const __m256 p = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(wb[b].d) * dx), p, acc);
    const __m256i sx = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, qx), _mm256_set1_epi16(1));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sx), _mm256_extracti128_si256(sx, 1));
    s4 = _mm_hadd_epi32(s4, s4);
    s4 = _mm_hadd_epi32(s4, s4);
    macc += (float)_mm_cvtsi128_si32(s4) * (h2f(wb[b].m) * dx);
  }
  return hsum256(acc) + macc;
}

// Same arithmetic as quantize_row_q8_0_act_ref (scale 127 / max|x|, round half to even), so both
// tables produce bit-identical activation blocks.
void quantize_q8_0(const float* x, void* y, int64_t n) {
  BlockQ8_0* out = static_cast<BlockQ8_0*>(y);
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float* xb = x + b * kQK8_0;
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm256_loadu_ps(xb + 8 * k);
      amax = _mm256_max_ps(_mm256_andnot_ps(sign_mask, v[k]), amax);  // NaN lanes keep amax, as the reference
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float mx = _mm_cvtss_f32(m);
    out[b].d = float_to_fp16(mx / 127.0f);
    const __m256 idv = _mm256_set1_ps(mx != 0.0f ? 127.0f / mx : 0.0f);
    __m256i q32[4];
    for (int k = 0; k < 4; ++k) {
      const __m256 s = _mm256_mul_ps(v[k], idv);
      const __m256 r = _mm256_round_ps(s, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      q32[k] = _mm256_cvtps_epi32(_mm256_and_ps(r, _mm256_cmp_ps(s, s, _CMP_ORD_Q)));  // NaN -> 0
    }
    const __m256i q16a = _mm256_packs_epi32(q32[0], q32[1]);
    const __m256i q16b = _mm256_packs_epi32(q32[2], q32[3]);
    __m256i q8 = _mm256_packs_epi16(q16a, q16b);
    q8 = _mm256_permutevar8x32_epi32(q8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[b].qs), q8);
  }
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

// One position's head slice of a KV row as floats: F16 by F16C, Q8 and Q4 by sign extension and one
// multiply per group (Q4 groups not a multiple of 16 through the reference decoder); F32 in place.
const float* decode_kv(const KvHeadRows& r, int p, int64_t hd, float* buf) {
  const uint8_t* d = r.data + (size_t)p * r.stride;
  switch (r.type) {
    case KvType::kF32: return reinterpret_cast<const float*>(d);
    case KvType::kF16: {
      const uint16_t* h = reinterpret_cast<const uint16_t*>(d);
      int64_t i = 0;
      for (; i + 8 <= hd; i += 8) _mm256_storeu_ps(buf + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
      for (; i < hd; ++i) buf[i] = fp16_to_float(h[i]);
      return buf;
    }
    case KvType::kQ8: {
      const int8_t* q = reinterpret_cast<const int8_t*>(d);
      const uint16_t* sc = r.scales + (size_t)p * r.scale_stride;
      for (int64_t g0 = 0; g0 < hd; g0 += r.group) {
        const float s = fp16_to_float(sc[g0 / r.group]);
        const __m256 sv = _mm256_set1_ps(s);
        int64_t i = g0;
        for (; i + 8 <= g0 + r.group; i += 8) {
          const __m256i w = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i)));
          _mm256_storeu_ps(buf + i, _mm256_mul_ps(_mm256_cvtepi32_ps(w), sv));
        }
        for (; i < g0 + r.group; ++i) buf[i] = (float)q[i] * s;
      }
      return buf;
    }
    case KvType::kQ4: {
      const uint16_t* sc = r.scales + (size_t)p * r.scale_stride;
      if (r.group % 16 != 0) {
        kv_decode(r.type, d, sc, 0, hd, r.group, buf);
        return buf;
      }
      const __m128i low = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
      for (int64_t i = 0; i < hd; i += 16) {  // 8 bytes = 16 values: element 2j low nibble, 2j+1 high
        const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(d + i / 2));
        const __m128i lo = _mm_and_si128(bytes, low), hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), low);
        const __m128i q = _mm_sub_epi8(_mm_unpacklo_epi8(lo, hi), eight);
        const __m256 sv = _mm256_set1_ps(fp16_to_float(sc[i / r.group]));
        _mm256_storeu_ps(buf + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), sv));
        _mm256_storeu_ps(buf + i + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q, 8))), sv));
      }
      return buf;
    }
  }
  return buf;
}

// Attention over any KV type: an online softmax position by position, rows decoded one at a time.
void attn_head_kv(const float* q, const KvHeadRows& k, const KvHeadRows& v, int n_pos, int64_t hd, float scale, float* out, float* /*scores*/) {
  alignas(32) float kb[kMaxHeadDim], vb[kMaxHeadDim];
  float m = -INFINITY, l = 0.0f;
  for (int64_t i = 0; i < hd; ++i) out[i] = 0.0f;
  for (int p = 0; p < n_pos; ++p) {
    const float s = dot_f32(q, decode_kv(k, p, hd, kb), hd) * scale;
    if (s > m) {
      const float corr = std::exp(m - s);
      l *= corr;
      for (int64_t i = 0; i < hd; ++i) out[i] *= corr;
      m = s;
    }
    const float w = std::exp(s - m);
    l += w;
    axpy(w, decode_kv(v, p, hd, vb), out, hd);
  }
  const float inv = 1.0f / l;
  for (int64_t i = 0; i < hd; ++i) out[i] *= inv;
}

// Not a hot op: the reference (double accumulation) keeps both tables bit-identical here.
KernelTable make() {
  KernelTable k = ref_kernels();  // anything not overridden stays the reference
  k.name = "avx2";
  k.vec_dot[(int)TensorType::F32] = vec_dot_f32;
  k.vec_dot[(int)TensorType::F16] = vec_dot_f16;
  k.vec_dot[(int)TensorType::BF16] = vec_dot_bf16;
  k.vec_dot[(int)TensorType::Q8_0] = qdot<false, MaddubsDot>;
  k.vec_dot[(int)TensorType::Q4_0] = qdot<true, MaddubsDot>;
  k.vec_dot[(int)TensorType::Q4_1] = vec_dot_q4_1;
  k.vec_dot[(int)TensorType::Q5_0] = qdot_q5_0<MaddubsDot>;
  k.vec_dot[(int)TensorType::Q5_1] = qdot_q5_1<MaddubsDot>;
  k.vec_dot[(int)TensorType::Q4_K] = qdot_q45_k<MaddubsDot, false>;
  k.vec_dot[(int)TensorType::Q5_K] = qdot_q45_k<MaddubsDot, true>;
  k.vec_dot[(int)TensorType::Q6_K] = qdot_q6_k<MaddubsDot>;
  k.vec_dot[(int)TensorType::Q2_K] = qdot_q2_k<MaddubsDot>;
  k.vec_dot[(int)TensorType::Q3_K] = qdot_q3_k<MaddubsDot>;
  k.vec_dot[(int)TensorType::IQ4_NL] = qdot_iq4_nl<MaddubsDot>;
  k.vec_dot[(int)TensorType::IQ4_XS] = qdot_iq4_xs<MaddubsDot>;
  k.vec_dot_x4[(int)TensorType::F32] = vec_dot_f32_x4;
  // No 4-row F32 kernel: F32 rows stream from memory, and 4 interleaved streams measured 25 % slower
  // than one (the prefetchers follow one sequential stream better); the quantized rows gain 20-30 %.
  k.vec_dot_r4[(int)TensorType::Q8_0] = qdot_r4<false, MaddubsDot>;
  k.vec_dot_r4[(int)TensorType::Q4_0] = qdot_r4<true, MaddubsDot>;
  k.vec_dot_x4[(int)TensorType::Q8_0] = qdot_x4<false, MaddubsDot>;
  k.vec_dot_x4[(int)TensorType::Q4_0] = qdot_x4<true, MaddubsDot>;
  k.vec_dot_packed[(int)TensorType::Q8_0] = qpacked_avx2<false>;
  k.vec_dot_packed[(int)TensorType::Q4_0] = qpacked_avx2<true>;
  k.vec_dot_packed[(int)TensorType::Q4_K] = qpacked_q4k_avx2;
  k.quantize_q8_0 = quantize_q8_0;
  k.dot_f32 = dot_f32;
  k.axpy_f32 = axpy;
  k.attn_head_f32 = attn_head_blocked;
  k.attn_head_kv = attn_head_kv;
  return k;
}

}  // namespace

const KernelTable* avx2_kernels() {
  static const KernelTable k = make();
  return &k;
}

}  // namespace pocket
