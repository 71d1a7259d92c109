// AVX-512 VNNI kernels: the integer dot products use vpdpbusd (u8 x s8 -> s32 in one instruction)
// instead of AVX2's maddubs + madd pair. Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni;
// chosen only when the CPU reports all four. Everything not overridden here is the AVX2 table.
#include <immintrin.h>

#include "core/fp16.h"
#include "kernels/kernel_table.h"
#include "kernels/x86_simd.h"
#include "quant/block_formats.h"

namespace pocket {
namespace {

// 8 int32 lanes of sum(a_i * b_i) over 32 signed bytes, as float. Same lane sums as AVX2's
// maddubs/madd pair (no int16 saturation occurs for |a| <= 127), so results stay bit-identical.
inline __m256 dot_i8_lanes(__m256i a, __m256i b) {
  const __m256i ua = _mm256_sign_epi8(a, a);
  const __m256i sb = _mm256_sign_epi8(b, a);
  return _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), ua, sb));
}

inline __m256i unpack_q4_0(const uint8_t* qs) { return _mm256_sub_epi8(unpack_nibbles(qs), _mm256_set1_epi8(8)); }

float vec_dot_q8_0(int64_t n, const void* w, const void* x) {
  const BlockQ8_0* wb = static_cast<const BlockQ8_0*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const __m256 d = _mm256_set1_ps(h2f(wb[b].d) * h2f(xb[b].d));
    const __m256i qw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].qs));
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs));
    acc = _mm256_fmadd_ps(d, dot_i8_lanes(qw, qx), acc);
  }
  return hsum256(acc);
}

float vec_dot_q4_0(int64_t n, const void* w, const void* x) {
  const BlockQ4_0* wb = static_cast<const BlockQ4_0*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    const __m256 d = _mm256_set1_ps(h2f(wb[b].d) * h2f(xb[b].d));
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs));
    acc = _mm256_fmadd_ps(d, dot_i8_lanes(unpack_q4_0(wb[b].qs), qx), acc);
  }
  return hsum256(acc);
}

template <bool kQ4>
void vec_dot_x4(int64_t n, const void* w, const void* x, size_t xs, float* out) {
  const BlockQ8_0* xb[4];
  for (int j = 0; j < 4; ++j) xb[j] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(x) + j * xs);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t b = 0; b < n / 32; ++b) {
    float dw;
    __m256i qw;
    if constexpr (kQ4) {
      const BlockQ4_0& blk = static_cast<const BlockQ4_0*>(w)[b];
      dw = h2f(blk.d);
      qw = unpack_q4_0(blk.qs);
    } else {
      const BlockQ8_0& blk = static_cast<const BlockQ8_0*>(w)[b];
      dw = h2f(blk.d);
      qw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs));
    }
    const __m256i uw = _mm256_sign_epi8(qw, qw);
    for (int j = 0; j < 4; ++j) {
      const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[j][b].qs));
      const __m256 p = _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), uw, _mm256_sign_epi8(qx, qw)));
      acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dw * h2f(xb[j][b].d)), p, acc[j]);
    }
  }
  for (int j = 0; j < 4; ++j) out[j] = hsum256(acc[j]);
}

KernelTable make() {
  KernelTable k = *avx2_kernels();
  k.name = "avx512vnni";
  k.vec_dot[(int)TensorType::Q8_0] = vec_dot_q8_0;
  k.vec_dot[(int)TensorType::Q4_0] = vec_dot_q4_0;
  k.vec_dot_x4[(int)TensorType::Q8_0] = vec_dot_x4<false>;
  k.vec_dot_x4[(int)TensorType::Q4_0] = vec_dot_x4<true>;
  return k;
}

}  // namespace

const KernelTable* avx512_kernels() {
  static const KernelTable k = make();
  return &k;
}

}  // namespace pocket
