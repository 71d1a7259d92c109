// AVX-512 VNNI kernels: the integer dot products use vpdpbusd (u8 x s8 -> s32 in one instruction)
// instead of AVX2's maddubs + madd pair. Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni;
// chosen only when the CPU reports all four. Everything not overridden here is the AVX2 table.
#include <immintrin.h>

#include "kernels/kernel_table.h"
#include "kernels/avx512/avx512_f32_rows.h"
#include "kernels/avx512/avx512_packed.h"
#include "kernels/avx512/avx512_packed_q4k.h"
#include "kernels/avx512/avx512_packed_q6k.h"
#include "kernels/x86_kquants.h"
#include "kernels/x86_qdot.h"
#include "kernels/x86_simd.h"

namespace pocket {
namespace {

// vpdpbusd: unsigned x signed bytes straight to int32 lane sums, the same integers as AVX2's pair.
struct VnniDot {
  static __m256i lanes(__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); }
};

KernelTable make() {
  KernelTable k = *avx2_kernels();
  k.name = "avx512vnni";
  k.vec_dot[(int)TensorType::Q8_0] = qdot<false, VnniDot>;
  k.vec_dot[(int)TensorType::Q4_0] = qdot<true, VnniDot>;
  k.vec_dot[(int)TensorType::Q5_0] = qdot_q5_0<VnniDot>;
  k.vec_dot[(int)TensorType::Q5_1] = qdot_q5_1<VnniDot>;
  k.vec_dot[(int)TensorType::Q4_K] = qdot_q45_k<VnniDot, false>;
  k.vec_dot[(int)TensorType::Q5_K] = qdot_q45_k<VnniDot, true>;
  k.vec_dot[(int)TensorType::Q6_K] = qdot_q6_k<VnniDot>;
  k.vec_dot[(int)TensorType::Q2_K] = qdot_q2_k<VnniDot>;
  k.vec_dot[(int)TensorType::Q3_K] = qdot_q3_k<VnniDot>;
  k.vec_dot[(int)TensorType::IQ4_NL] = qdot_iq4_nl<VnniDot>;
  k.vec_dot[(int)TensorType::IQ4_XS] = qdot_iq4_xs<VnniDot>;
  k.vec_dot_x4[(int)TensorType::Q8_0] = qdot_x4<false, VnniDot>;
  k.vec_dot_x4[(int)TensorType::Q4_0] = qdot_x4<true, VnniDot>;
  k.vec_dot_r4[(int)TensorType::Q8_0] = qdot_r4<false, VnniDot>;
  k.vec_dot_r4[(int)TensorType::Q4_0] = qdot_r4<true, VnniDot>;
  k.vec_dot_xn[(int)TensorType::F32] = vec_dot_f32_tokens;
  k.vec_dot_packed[(int)TensorType::Q8_0] = qpacked<false>;
  k.vec_dot_packed[(int)TensorType::Q4_0] = qpacked<true>;
  k.vec_dot_packed[(int)TensorType::Q4_K] = qpacked_q4k;
  k.vec_dot_packed[(int)TensorType::Q6_K] = qpacked_q6k;
  return k;
}

}  // namespace

const KernelTable* avx512_kernels() {
  static const KernelTable k = make();
  return &k;
}

}  // namespace pocket
