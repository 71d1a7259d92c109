// Q8_0 / Q4_0 dot products against Q8_0 activations for aarch64, written once for both ARM tables.
// The only thing an ISA changes is how 32 signed x signed byte products become 4 int32 lane sums
// (`SDot::lanes`): plain NEON (ARMv8.0, every phone) widens with smull/smull2 and pairwise-adds,
// the dot-product extension (ARMv8.2 `sdot`) does it in one instruction per 16 bytes. Both give lane
// i = the sum of bytes 4i..4i+3 of each half, the same integers, so both tables return bit-identical
// results. Internal linkage: each table's translation unit compiles its own copy for its own ISA.
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "dtype/block_formats.h"

namespace pocket {
namespace {

// Half-precision bits to float: one fcvt (the value fp16_to_float gives; aarch64 has native __fp16).
inline float h2f(uint16_t h) {
  __fp16 v;
  std::memcpy(&v, &h, sizeof v);
  return (float)v;
}

// One 32-element block as two signed-byte vectors (elements 0..15, 16..31).
struct Bytes32 {
  int8x16_t lo, hi;
};

// Weight block as signed bytes: Q8_0 as stored, Q4_0 unpacked (low nibbles 0..15, high 16..31) minus 8.
template <bool kQ4>
inline Bytes32 load_weight_block(const void* w, int64_t b, float* d) {
  if constexpr (kQ4) {
    const BlockQ4_0& blk = static_cast<const BlockQ4_0*>(w)[b];
    *d = h2f(blk.d);
    const uint8x16_t raw = vld1q_u8(blk.qs);
    const int8x16_t eight = vdupq_n_s8(8);
    return {vsubq_s8(vreinterpretq_s8_u8(vandq_u8(raw, vdupq_n_u8(0x0f))), eight), vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(raw, 4)), eight)};
  } else {
    const BlockQ8_0& blk = static_cast<const BlockQ8_0*>(w)[b];
    *d = h2f(blk.d);
    return {vld1q_s8(blk.qs), vld1q_s8(blk.qs + 16)};
  }
}

inline Bytes32 load_act_block(const BlockQ8_0& xb) { return {vld1q_s8(xb.qs), vld1q_s8(xb.qs + 16)}; }

// sum(w_i * x_i) over one block as 4 float lanes.
template <class SDot>
inline float32x4_t block_lanes(const Bytes32& w, const Bytes32& x) {
  return vcvtq_f32_s32(SDot::lanes(w, x));
}

template <bool kQ4, class SDot>
float qdot(int64_t n, const void* w, const void* x) {
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < n / 32; ++b) {
    float dw;
    const Bytes32 qw = load_weight_block<kQ4>(w, b, &dw);
    acc = vfmaq_n_f32(acc, block_lanes<SDot>(qw, load_act_block(xb[b])), dw * h2f(xb[b].d));
  }
  return vaddvq_f32(acc);
}

// One weight row against 4 tokens' activations (x_stride bytes apart): the weight block is loaded and
// unpacked once; per token the arithmetic is qdot's exactly.
template <bool kQ4, class SDot>
void qdot_x4(int64_t n, const void* w, const void* x, size_t xs, float* out) {
  const BlockQ8_0* xb[4];
  for (int j = 0; j < 4; ++j) xb[j] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(x) + j * xs);
  float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  for (int64_t b = 0; b < n / 32; ++b) {
    float dw;
    const Bytes32 qw = load_weight_block<kQ4>(w, b, &dw);
    for (int j = 0; j < 4; ++j) acc[j] = vfmaq_n_f32(acc[j], block_lanes<SDot>(qw, load_act_block(xb[j][b])), dw * h2f(xb[j][b].d));
  }
  for (int j = 0; j < 4; ++j) out[j] = vaddvq_f32(acc[j]);
}

// Four weight rows (w_stride bytes apart) against one token's activations: the activation block is
// loaded once; per row the arithmetic is qdot's exactly.
template <bool kQ4, class SDot>
void qdot_r4(int64_t n, const void* w, size_t ws, const void* x, float* out) {
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  const uint8_t* wr[4];
  for (int j = 0; j < 4; ++j) wr[j] = static_cast<const uint8_t*>(w) + j * ws;
  float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  for (int64_t b = 0; b < n / 32; ++b) {
    const float dx = h2f(xb[b].d);
    const Bytes32 qx = load_act_block(xb[b]);
    for (int j = 0; j < 4; ++j) {
      float dw;
      const Bytes32 qw = load_weight_block<kQ4>(wr[j], b, &dw);
      acc[j] = vfmaq_n_f32(acc[j], block_lanes<SDot>(qw, qx), dw * dx);
    }
  }
  for (int j = 0; j < 4; ++j) out[j] = vaddvq_f32(acc[j]);
}

}  // namespace
}  // namespace pocket
