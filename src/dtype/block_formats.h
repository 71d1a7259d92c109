// Block layouts of the quantized weight formats, byte-compatible with GGML/GGUF.
// The *_ref functions in quant_ref.cpp are the definition of each format.
#pragma once

#include <cstdint>

namespace pocket {

constexpr int kQK8_0 = 32;
constexpr int kQK4_0 = 32;
constexpr int kQK4_1 = 32;

struct BlockQ8_0 {
  uint16_t d;         // fp16 scale
  int8_t qs[kQK8_0];  // value = qs[i] * d
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must be 34 bytes");

struct BlockQ4_0 {
  uint16_t d;              // fp16 scale
  uint8_t qs[kQK4_0 / 2];  // low nibble = element j, high nibble = element j+16; value = (q-8)*d
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must be 18 bytes");

struct BlockQ4_1 {
  uint16_t d;              // fp16 scale
  uint16_t m;              // fp16 minimum
  uint8_t qs[kQK4_1 / 2];  // value = q*d + m
};
static_assert(sizeof(BlockQ4_1) == 20, "Q4_1 block must be 20 bytes");

constexpr int kQK5_0 = 32;
constexpr int kQK5_1 = 32;
constexpr int kQK_K = 256;  // super-block of the K-quants
constexpr int kKScaleSize = 12;

struct BlockQ5_0 {
  uint16_t d;              // fp16 scale
  uint8_t qh[4];           // fifth bit of each element (bit j: element j)
  uint8_t qs[kQK5_0 / 2];  // low nibbles as Q4_0 (element j, element j+16); value = (q-16)*d
};
static_assert(sizeof(BlockQ5_0) == 22, "Q5_0 block must be 22 bytes");

struct BlockQ5_1 {
  uint16_t d, m;  // fp16 scale and minimum; value = q*d + m
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};
static_assert(sizeof(BlockQ5_1) == 24, "Q5_1 block must be 24 bytes");

// 8 sub-blocks of 32 with 6-bit scales and mins (packed in `scales` as get_scale_min_k4 reads them);
// value = d * scale_j * q - dmin * min_j, q in 0..15.
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qs[kQK_K / 2];  // per 64 elements: 32 bytes, low nibbles the first 32, high nibbles the next 32
};
static_assert(sizeof(BlockQ4_K) == 144, "Q4_K block must be 144 bytes");

// As Q4_K with a fifth bit per element in qh (q in 0..31).
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176, "Q5_K block must be 176 bytes");

// 16 sub-blocks of 16 with int8 scales; value = d * scale_j * (q - 32), q in 0..63 (4 low bits in ql,
// 2 high bits in qh).
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210, "Q6_K block must be 210 bytes");

// 16 sub-blocks of 16 with 4-bit scales and mins (scales[j]: scale low nibble, min high nibble);
// value = d * scale_j * q - dmin * min_j, q in 0..3 (qs laid out as Q3_K's low bits).
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d, dmin;
};
static_assert(sizeof(BlockQ2_K) == 84, "Q2_K block must be 84 bytes");

// 16 sub-blocks of 16 with 6-bit scales; value = d * (scale_j - 32) * (q - 4), q in 0..7 (2 low bits in qs,
// the third in hmask: bit k of hmask[l] for element 32k + l).
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[kKScaleSize];
  uint16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110, "Q3_K block must be 110 bytes");

// Non-linear 4-bit: value = d * kIq4nlValues[q].
constexpr int kQK4_NL = 32;
constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
struct BlockIQ4_NL {
  uint16_t d;
  uint8_t qs[kQK4_NL / 2];  // as Q4_0: element j low nibble, j+16 high nibble
};
static_assert(sizeof(BlockIQ4_NL) == 18, "IQ4_NL block must be 18 bytes");

// IQ4_NL values in 8 sub-blocks of 32 with 6-bit scales (4 low bits in scales_l, 2 high in scales_h);
// value = d * (scale_j - 32) * kIq4nlValues[q].
struct BlockIQ4_XS {
  uint16_t d;
  uint16_t scales_h;
  uint8_t scales_l[kQK_K / 64];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockIQ4_XS) == 136, "IQ4_XS block must be 136 bytes");

// The K-quants' activations: one float scale per 256, int8 values, and the sums of each 16 (the mins' term).
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8_K) == 292, "Q8_K block must be 292 bytes");

// Reference (de)quantizers: n is a multiple of the block size.
void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, int64_t n);
// Activations (converted on the fly before an integer dot product): same block, but scaled by
// 127 / max|x| and rounded half to even, exactly as llama.cpp's CPU backend does at run time, so
// quantized models reproduce its logits bit for bit where the float inputs agree.
void quantize_row_q8_0_act_ref(const float* x, BlockQ8_0* y, int64_t n);
void dequantize_row_q8_0_ref(const BlockQ8_0* x, float* y, int64_t n);
void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, int64_t n);
void dequantize_row_q4_0_ref(const BlockQ4_0* x, float* y, int64_t n);
void quantize_row_q4_1_ref(const float* x, BlockQ4_1* y, int64_t n);
void dequantize_row_q4_1_ref(const BlockQ4_1* x, float* y, int64_t n);
void quantize_row_q5_0_ref(const float* x, BlockQ5_0* y, int64_t n);
void dequantize_row_q5_0_ref(const BlockQ5_0* x, float* y, int64_t n);
void quantize_row_q5_1_ref(const float* x, BlockQ5_1* y, int64_t n);
void dequantize_row_q5_1_ref(const BlockQ5_1* x, float* y, int64_t n);
// K-quants (quant_ref_k.cpp): the quantizers llama-quantize uses without an importance matrix.
void quantize_row_q4_k_ref(const float* x, BlockQ4_K* y, int64_t n);
void dequantize_row_q4_k_ref(const BlockQ4_K* x, float* y, int64_t n);
void quantize_row_q5_k_ref(const float* x, BlockQ5_K* y, int64_t n);
void dequantize_row_q5_k_ref(const BlockQ5_K* x, float* y, int64_t n);
void quantize_row_q6_k_ref(const float* x, BlockQ6_K* y, int64_t n);
void dequantize_row_q6_k_ref(const BlockQ6_K* x, float* y, int64_t n);
void quantize_row_q2_k_ref(const float* x, BlockQ2_K* y, int64_t n);
void dequantize_row_q2_k_ref(const BlockQ2_K* x, float* y, int64_t n);
void quantize_row_q3_k_ref(const float* x, BlockQ3_K* y, int64_t n);
void dequantize_row_q3_k_ref(const BlockQ3_K* x, float* y, int64_t n);
// The 16 signed 6-bit scales (scale - 32) of a Q3_K block.
void q3_k_scales(const uint8_t* packed, int8_t* out16);
// IQ4_NL / IQ4_XS (quant_ref_iq.cpp): llama-quantize's quantizers without an importance matrix.
void quantize_row_iq4_nl_ref(const float* x, BlockIQ4_NL* y, int64_t n);
void dequantize_row_iq4_nl_ref(const BlockIQ4_NL* x, float* y, int64_t n);
void quantize_row_iq4_xs_ref(const float* x, BlockIQ4_XS* y, int64_t n);
void dequantize_row_iq4_xs_ref(const BlockIQ4_XS* x, float* y, int64_t n);
// Activations for the K-quants' dot products (as ggml's CPU backend rounds them).
void quantize_row_q8_k_ref(const float* x, BlockQ8_K* y, int64_t n);
// The 6-bit scale and min of sub-block j (0..7) from a Q4_K/Q5_K scales array.
inline void k_scale_min(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

}  // namespace pocket
