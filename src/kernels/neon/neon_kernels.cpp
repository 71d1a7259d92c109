// aarch64 NEON kernels (ARMv8.0 Advanced SIMD: every 64-bit phone core). Compiled with
// -march=armv8-a; the dot-product table (neon_dotprod_kernels.cpp) starts from this one.
#include <arm_neon.h>

#include <cmath>

#include "core/fp16.h"
#include "kernels/arm_kquants.h"
#include "kernels/arm_qdot.h"
#include "kernels/kernel_table.h"
#include "dtype/block_formats.h"

namespace pocket {
namespace {

// Plain NEON: smull/smull2 give 8 int16 products per half, pairwise adds fold them to the lane sums
// sdot would give (lane i = bytes 4i..4i+3 of each 16-byte half). |w*x| <= 128*128 fits int16.
struct MullDot {
  static int32x4_t half(int8x16_t a, int8x16_t b) {
    const int32x4_t p0 = vpaddlq_s16(vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    const int32x4_t p1 = vpaddlq_s16(vmull_high_s8(a, b));
    return vpaddq_s32(p0, p1);
  }
  static int32x4_t lanes(const Bytes32& w, const Bytes32& x) { return vaddq_s32(half(w.lo, x.lo), half(w.hi, x.hi)); }
};

// Four accumulators over 16-element steps, one 4-element step at a time after that, then a scalar
// tail. The 4-token version repeats exactly this order per token (batching never changes a result).
float dot_f32(const float* a, const float* b, int64_t n) {
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
    s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
  }
  for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
  float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void vec_dot_f32_x4(int64_t n, const void* wv, const void* xv, size_t xs, float* out) {
  const float* w = static_cast<const float*>(wv);
  const float* x[4];
  for (int j = 0; j < 4; ++j) x[j] = reinterpret_cast<const float*>(static_cast<const uint8_t*>(xv) + j * xs);
  float32x4_t s[4][4];
  for (auto& sj : s)
    for (auto& v : sj) v = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const float32x4_t w0 = vld1q_f32(w + i), w1 = vld1q_f32(w + i + 4), w2 = vld1q_f32(w + i + 8), w3 = vld1q_f32(w + i + 12);
    for (int j = 0; j < 4; ++j) {
      s[j][0] = vfmaq_f32(s[j][0], w0, vld1q_f32(x[j] + i));
      s[j][1] = vfmaq_f32(s[j][1], w1, vld1q_f32(x[j] + i + 4));
      s[j][2] = vfmaq_f32(s[j][2], w2, vld1q_f32(x[j] + i + 8));
      s[j][3] = vfmaq_f32(s[j][3], w3, vld1q_f32(x[j] + i + 12));
    }
  }
  const int64_t i4 = i;
  for (int j = 0; j < 4; ++j) {
    int64_t k = i4;
    for (; k + 4 <= n; k += 4) s[j][0] = vfmaq_f32(s[j][0], vld1q_f32(w + k), vld1q_f32(x[j] + k));
    float r = vaddvq_f32(vaddq_f32(vaddq_f32(s[j][0], s[j][1]), vaddq_f32(s[j][2], s[j][3])));
    for (; k < n; ++k) r += w[k] * x[j][k];
    out[j] = r;
  }
}

float vec_dot_f32(int64_t n, const void* w, const void* x) { return dot_f32(static_cast<const float*>(w), static_cast<const float*>(x), n); }

float vec_dot_f16(int64_t n, const void* w, const void* x) {
  const uint16_t* h = static_cast<const uint16_t*>(w);
  const float* a = static_cast<const float*>(x);
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x8_t hv = vreinterpretq_f16_u16(vld1q_u16(h + i));
    s0 = vfmaq_f32(s0, vcvt_f32_f16(vget_low_f16(hv)), vld1q_f32(a + i));
    s1 = vfmaq_f32(s1, vcvt_high_f32_f16(hv), vld1q_f32(a + i + 4));
  }
  float s = vaddvq_f32(vaddq_f32(s0, s1));
  for (; i < n; ++i) s += fp16_to_float(h[i]) * a[i];
  return s;
}

float vec_dot_bf16(int64_t n, const void* w, const void* x) {
  const uint16_t* h = static_cast<const uint16_t*>(w);
  const float* a = static_cast<const float*>(x);
  float32x4_t s0 = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t wv = vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(h + i), 16));
    s0 = vfmaq_f32(s0, wv, vld1q_f32(a + i));
  }
  float s = vaddvq_f32(s0);
  for (; i < n; ++i) s += bf16_to_float(h[i]) * a[i];
  return s;
}

// Q4_1: unsigned nibbles (0..15, fit int8) times signed activations, plus the block minimum times the
// activation sum.
float vec_dot_q4_1(int64_t n, const void* w, const void* x) {
  const BlockQ4_1* wb = static_cast<const BlockQ4_1*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  float32x4_t acc = vdupq_n_f32(0.0f);
  float macc = 0.0f;
  for (int64_t b = 0; b < n / kQK4_1; ++b) {
    const float dx = h2f(xb[b].d);
    const uint8x16_t raw = vld1q_u8(wb[b].qs);
    const Bytes32 qw = {vreinterpretq_s8_u8(vandq_u8(raw, vdupq_n_u8(0x0f))), vreinterpretq_s8_u8(vshrq_n_u8(raw, 4))};
    const Bytes32 qx = load_act_block(xb[b]);
    acc = vfmaq_n_f32(acc, block_lanes<MullDot>(qw, qx), h2f(wb[b].d) * dx);
    const int32_t sx = vaddlvq_s8(qx.lo) + vaddlvq_s8(qx.hi);
    macc += (float)sx * (h2f(wb[b].m) * dx);
  }
  return vaddvq_f32(acc) + macc;
}

// Same arithmetic as quantize_row_q8_0_act_ref: amax ignores NaN (maxnm against a running 0), scale
// 127 / amax, round to nearest even (fcvtns; NaN -> 0 as the reference), saturating narrow.
void quantize_q8_0(const float* x, void* y, int64_t n) {
  BlockQ8_0* out = static_cast<BlockQ8_0*>(y);
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float* xb = x + b * kQK8_0;
    float32x4_t v[8];
    float32x4_t amax = vdupq_n_f32(0.0f);
    for (int k = 0; k < 8; ++k) {
      v[k] = vld1q_f32(xb + 4 * k);
      amax = vmaxnmq_f32(amax, vabsq_f32(v[k]));
    }
    const float mx = vmaxvq_f32(amax);
    out[b].d = float_to_fp16(mx / 127.0f);
    const float32x4_t id = vdupq_n_f32(mx != 0.0f ? 127.0f / mx : 0.0f);
    for (int k = 0; k < 8; k += 2) {
      const int16x4_t a = vqmovn_s32(vcvtnq_s32_f32(vmulq_f32(v[k], id)));
      const int16x4_t c = vqmovn_s32(vcvtnq_s32_f32(vmulq_f32(v[k + 1], id)));
      vst1_s8(out[b].qs + 4 * k, vqmovn_s16(vcombine_s16(a, c)));
    }
  }
}

void axpy(float a, const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
  for (; i < n; ++i) y[i] += a * x[i];
}

void scale(float* y, float c, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_n_f32(vld1q_f32(y + i), c));
  for (; i < n; ++i) y[i] *= c;
}

// Fused attention for one head: one pass with an online softmax (running max m, running sum l,
// accumulator rescaled only when the max grows), no score buffer.
void attn_head(const float* q, const float* k, const float* v, int64_t stride, int n_pos, int64_t hd, float sc, float* out, float* /*scores*/) {
  float m = -INFINITY, l = 0.0f;
  for (int64_t i = 0; i < hd; ++i) out[i] = 0.0f;
  for (int p = 0; p < n_pos; ++p) {
    const float s = dot_f32(q, k + (size_t)p * stride, hd) * sc;
    if (s > m) {
      const float corr = std::exp(m - s);  // 0 on the first position (m = -inf)
      l *= corr;
      scale(out, corr, hd);
      m = s;
    }
    const float w = std::exp(s - m);
    l += w;
    axpy(w, v + (size_t)p * stride, out, hd);
  }
  scale(out, 1.0f / l, hd);
}

// One position's head slice of a KV row as floats: F16 by fcvtl, Q8 by widening and one multiply per
// group; Q4 through the reference decoder (it is 4x smaller to read; decoding is not the bound); F32 in place.
const float* decode_kv(const KvHeadRows& r, int p, int64_t hd, float* buf) {
  const uint8_t* d = r.data + (size_t)p * r.stride;
  switch (r.type) {
    case KvType::kF32: return reinterpret_cast<const float*>(d);
    case KvType::kF16: {
      const uint16_t* h = reinterpret_cast<const uint16_t*>(d);
      int64_t i = 0;
      for (; i + 4 <= hd; i += 4) vst1q_f32(buf + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h + i))));
      for (; i < hd; ++i) buf[i] = fp16_to_float(h[i]);
      return buf;
    }
    case KvType::kQ8: {
      const int8_t* q = reinterpret_cast<const int8_t*>(d);
      const uint16_t* sc = r.scales + (size_t)p * r.scale_stride;
      for (int64_t g0 = 0; g0 < hd; g0 += r.group) {
        const float s = fp16_to_float(sc[g0 / r.group]);
        int64_t i = g0;
        for (; i + 8 <= g0 + r.group; i += 8) {
          const int16x8_t w = vmovl_s8(vld1_s8(q + i));
          vst1q_f32(buf + i, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(w))), s));
          vst1q_f32(buf + i + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(w)), s));
        }
        for (; i < g0 + r.group; ++i) buf[i] = (float)q[i] * s;
      }
      return buf;
    }
    case KvType::kQ4: kv_decode(r.type, d, r.scales + (size_t)p * r.scale_stride, 0, hd, r.group, buf); return buf;
  }
  return buf;
}

void attn_head_kv(const float* q, const KvHeadRows& k, const KvHeadRows& v, int n_pos, int64_t hd, float sc, float* out, float* /*scores*/) {
  alignas(16) float kb[kMaxHeadDim], vb[kMaxHeadDim];
  float m = -INFINITY, l = 0.0f;
  for (int64_t i = 0; i < hd; ++i) out[i] = 0.0f;
  for (int p = 0; p < n_pos; ++p) {
    const float s = dot_f32(q, decode_kv(k, p, hd, kb), hd) * sc;
    if (s > m) {
      const float corr = std::exp(m - s);
      l *= corr;
      scale(out, corr, hd);
      m = s;
    }
    const float w = std::exp(s - m);
    l += w;
    axpy(w, decode_kv(v, p, hd, vb), out, hd);
  }
  scale(out, 1.0f / l, hd);
}

// RMSNorm and SwiGLU stay the reference (not hot; the reference's double accumulation keeps every table
// bit-identical on the activations that feed Q8_0 rounding).
KernelTable make() {
  KernelTable k = ref_kernels();
  k.name = "neon";
  k.vec_dot[(int)TensorType::F32] = vec_dot_f32;
  k.vec_dot[(int)TensorType::F16] = vec_dot_f16;
  k.vec_dot[(int)TensorType::BF16] = vec_dot_bf16;
  k.vec_dot[(int)TensorType::Q8_0] = qdot<false, MullDot>;
  k.vec_dot[(int)TensorType::Q4_0] = qdot<true, MullDot>;
  k.vec_dot[(int)TensorType::Q4_1] = vec_dot_q4_1;
  k.vec_dot[(int)TensorType::Q5_0] = qdot_q5_0<MullDot>;
  k.vec_dot[(int)TensorType::Q5_1] = qdot_q5_1<MullDot>;
  k.vec_dot[(int)TensorType::IQ4_NL] = qdot_iq4_nl<MullDot>;
  k.vec_dot[(int)TensorType::Q2_K] = qdot_q2_k<MullDot>;
  k.vec_dot[(int)TensorType::Q3_K] = qdot_q3_k<MullDot>;
  k.vec_dot[(int)TensorType::Q4_K] = qdot_q45_k<MullDot, false>;
  k.vec_dot[(int)TensorType::Q5_K] = qdot_q45_k<MullDot, true>;
  k.vec_dot[(int)TensorType::Q6_K] = qdot_q6_k<MullDot>;
  k.vec_dot[(int)TensorType::IQ4_XS] = qdot_iq4_xs<MullDot>;
  k.vec_dot_x4[(int)TensorType::F32] = vec_dot_f32_x4;
  k.vec_dot_x4[(int)TensorType::Q8_0] = qdot_x4<false, MullDot>;
  k.vec_dot_x4[(int)TensorType::Q4_0] = qdot_x4<true, MullDot>;
  k.vec_dot_r4[(int)TensorType::Q8_0] = qdot_r4<false, MullDot>;
  k.vec_dot_r4[(int)TensorType::Q4_0] = qdot_r4<true, MullDot>;
  k.quantize_q8_0 = quantize_q8_0;
  k.dot_f32 = dot_f32;
  k.axpy_f32 = axpy;
  k.attn_head_f32 = attn_head;
  k.attn_head_kv = attn_head_kv;
  return k;
}

}  // namespace

const KernelTable* neon_kernels() {
  static const KernelTable k = make();
  return &k;
}

}  // namespace pocket
