// aarch64 dot-product kernels (ARMv8.2 `sdot`: Cortex-A55/A76 and later, i.e. phones since 2018).
// Compiled with -march=armv8.2-a+dotprod; chosen only when the kernel reports HWCAP_ASIMDDP.
// Everything not overridden here is the plain NEON table.
#include <arm_neon.h>

#include "kernels/arm_kquants.h"
#include "kernels/arm_qdot.h"
#include "kernels/kernel_table.h"

namespace pocket {
namespace {

// sdot: 4 signed byte products summed into each int32 lane, the same integers as the NEON widening pair.
struct SdotDot {
  static int32x4_t lanes(const Bytes32& w, const Bytes32& x) { return vdotq_s32(vdotq_s32(vdupq_n_s32(0), w.lo, x.lo), w.hi, x.hi); }
};

KernelTable make() {
  KernelTable k = *neon_kernels();
  k.name = "neon-dotprod";
  k.vec_dot[(int)TensorType::Q8_0] = qdot<false, SdotDot>;
  k.vec_dot[(int)TensorType::Q4_0] = qdot<true, SdotDot>;
  k.vec_dot[(int)TensorType::Q5_0] = qdot_q5_0<SdotDot>;
  k.vec_dot[(int)TensorType::Q5_1] = qdot_q5_1<SdotDot>;
  k.vec_dot[(int)TensorType::IQ4_NL] = qdot_iq4_nl<SdotDot>;
  k.vec_dot[(int)TensorType::Q2_K] = qdot_q2_k<SdotDot>;
  k.vec_dot[(int)TensorType::Q3_K] = qdot_q3_k<SdotDot>;
  k.vec_dot[(int)TensorType::Q4_K] = qdot_q45_k<SdotDot, false>;
  k.vec_dot[(int)TensorType::Q5_K] = qdot_q45_k<SdotDot, true>;
  k.vec_dot[(int)TensorType::Q6_K] = qdot_q6_k<SdotDot>;
  k.vec_dot[(int)TensorType::IQ4_XS] = qdot_iq4_xs<SdotDot>;
  k.vec_dot_x4[(int)TensorType::Q8_0] = qdot_x4<false, SdotDot>;
  k.vec_dot_x4[(int)TensorType::Q4_0] = qdot_x4<true, SdotDot>;
  k.vec_dot_r4[(int)TensorType::Q8_0] = qdot_r4<false, SdotDot>;
  k.vec_dot_r4[(int)TensorType::Q4_0] = qdot_r4<true, SdotDot>;
  return k;
}

}  // namespace

const KernelTable* neon_dotprod_kernels() {
  static const KernelTable k = make();
  return &k;
}

}  // namespace pocket
