#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/fp16.h"
#include "format/gguf_reader.h"
#include "dtype/block_formats.h"
#include "dtype/tensor_type.h"
#include "test_support.h"

namespace pocket {
namespace {

std::vector<float> random_vec(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

TEST(Quant, Q8_0RoundTripWithinHalfAStep) {
  const auto x = random_vec(32 * 64, 1);
  std::vector<BlockQ8_0> q(64);
  quantize_row_q8_0_ref(x.data(), q.data(), (int64_t)x.size());
  std::vector<float> y(x.size());
  dequantize_row_q8_0_ref(q.data(), y.data(), (int64_t)x.size());
  for (size_t b = 0; b < 64; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    const float d = fp16_to_float(q[b].d);
    EXPECT_NEAR(d, amax / 127, amax / 127 * 1e-3);  // s = max|W| / 127, stored as fp16
    for (int j = 0; j < 32; ++j) EXPECT_LE(std::fabs(x[b * 32 + j] - y[b * 32 + j]), 0.5f * d + amax * 2e-3f);
  }
}

TEST(Quant, Q4_0LayoutAndBounds) {
  // Element j of a block lives in the low nibble of byte j (j < 16) or the high nibble of byte j-16.
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = (float)(j - 16);  // max-magnitude value -16 -> d = 2
  BlockQ4_0 q;
  quantize_row_q4_0_ref(x, &q, 32);
  EXPECT_EQ(fp16_to_float(q.d), 2.0f);
  EXPECT_EQ(q.qs[0] & 0x0f, 0);  // -16 / 2 + 8 = 0
  EXPECT_EQ(q.qs[0] >> 4, 8);    // element 16: 0 -> 8
  float y[32];
  dequantize_row_q4_0_ref(&q, y, 32);
  for (int j = 0; j < 32; ++j) EXPECT_LE(std::fabs(x[j] - y[j]), 1.0f);
}

TEST(Quant, Q4_1RoundTrip) {
  const auto x = random_vec(32 * 8, 2);
  std::vector<BlockQ4_1> q(8);
  quantize_row_q4_1_ref(x.data(), q.data(), (int64_t)x.size());
  std::vector<float> y(x.size());
  dequantize_row_q4_1_ref(q.data(), y.data(), (int64_t)x.size());
  for (size_t b = 0; b < 8; ++b)
    for (int j = 0; j < 32; ++j) EXPECT_LE(std::fabs(x[b * 32 + j] - y[b * 32 + j]), 0.5f * fp16_to_float(q[b].d) + 1e-2f);
}

TEST(Quant, ZerosAndNaNAreDefined) {
  float z[32] = {};
  BlockQ8_0 q;
  quantize_row_q8_0_ref(z, &q, 32);
  EXPECT_EQ(q.d, 0);
  for (int8_t v : q.qs) EXPECT_EQ(v, 0);
  z[3] = NAN;
  z[4] = 1.0f;
  quantize_row_q8_0_ref(z, &q, 32);
  EXPECT_EQ(q.qs[3], 0);
  EXPECT_EQ(q.qs[4], 127);
}

// The reference quantizers must reproduce llama.cpp's files byte for byte: requantize the F32
// weights and compare with llama-quantize's Q8_0 / Q4_0 output of the same model.
void expect_same_as_llamacpp(const char* quant_file, TensorType expect_type) {
  auto f32 = GgufFile::open(test::shared("golden/stories15M-f32.llamacpp.gguf"));
  auto qf = GgufFile::open(test::shared(quant_file));
  ASSERT_TRUE(f32.is_ok() && qf.is_ok());
  int checked = 0;
  for (const TensorView& qt : qf.value()->tensors()) {
    if (qt.type != expect_type) continue;
    // The F32 file ties the output head to the embedding; llama-quantize wrote it out as output.weight.
    const TensorView* src = f32.value()->find_tensor(qt.name == "output.weight" ? "token_embd.weight" : qt.name);
    ASSERT_NE(src, nullptr) << qt.name;
    const TypeTraits& tt = traits(qt.type);
    std::vector<uint8_t> mine(qt.nbytes);
    const size_t rb = row_bytes(tt, qt.ne[0]);
    for (int64_t r = 0; r < qt.n_rows(); ++r) tt.from_float(reinterpret_cast<const float*>(src->data) + r * qt.ne[0], mine.data() + r * rb, qt.ne[0]);
    ASSERT_EQ(std::memcmp(mine.data(), qt.data, qt.nbytes), 0) << qt.name << " differs from llama.cpp's " << tt.name;
    ++checked;
  }
  EXPECT_GT(checked, 40);
}

TEST(Quant, Q8_0MatchesLlamaCppBytes) { expect_same_as_llamacpp("golden/stories15M-q8_0.llamacpp.gguf", TensorType::Q8_0); }
TEST(Quant, Q4_0MatchesLlamaCppBytes) { expect_same_as_llamacpp("golden/stories15M-q4_0.llamacpp.gguf", TensorType::Q4_0); }

TEST(Quant, TypeNames) {
  EXPECT_EQ(type_from_name("q8_0"), TensorType::Q8_0);
  EXPECT_EQ(type_from_name("F16"), TensorType::F16);
  EXPECT_FALSE(type_from_name("q9_9").has_value());
  EXPECT_EQ(type_traits(99), nullptr);
  EXPECT_EQ(type_traits(14)->block_bytes, 210u);  // Q6_K
  EXPECT_NE(type_traits(14)->to_float, nullptr);
  EXPECT_EQ(type_traits(10)->block_bytes, 84u);  // Q2_K
  EXPECT_NE(type_traits(10)->to_float, nullptr);
  EXPECT_EQ(type_traits(9)->block_bytes, 36u);  // Q8_1: layout known, not computable (llama.cpp's activation type)
  EXPECT_EQ(type_traits(9)->to_float, nullptr);
}

}  // namespace
}  // namespace pocket
