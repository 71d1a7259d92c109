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

}  // namespace pocket
