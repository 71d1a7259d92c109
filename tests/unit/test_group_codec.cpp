// Group codec: at g32 it is the GGUF format (byte-identical to the reference quantizers); larger
// groups and per-channel share one scale; partial last groups; bad sizes are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "dtype/block_formats.h"
#include "dtype/group_codec.h"

namespace pocket {
namespace {

std::vector<float> random_row(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> x((size_t)n);
  for (float& v : x) v = nd(rng);
  return x;
}

TEST(GroupCodec, G32IsTheGgufFormatByteForByte) {
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1}) {
    const TypeTraits& tt = traits(t);
    for (int64_t n : {32, 64, 288, 768}) {
      std::vector<std::vector<float>> rows = {random_row(n, 1), random_row(n, 2, 1e-3f), random_row(n, 3, 1e4f), std::vector<float>((size_t)n, 0.0f)};
      std::vector<float> edge = random_row(n, 4);
      edge[0] = std::numeric_limits<float>::quiet_NaN();
      edge[(size_t)n - 1] = -65000.0f;
      rows.push_back(edge);
      for (const auto& x : rows) {
        auto c = GroupCodec::make(t, 32, n);
        ASSERT_TRUE(c.is_ok());
        std::vector<uint8_t> ours(row_bytes(tt, n)), ref(row_bytes(tt, n));
        c.value().quantize_row(x.data(), ours.data());
        tt.from_float(x.data(), ref.data(), n);
        EXPECT_EQ(ours, ref) << tt.name << " n=" << n;
        // fake quantization = dequantize(quantize)
        std::vector<float> fq((size_t)n), dq((size_t)n);
        c.value().fake_quantize_row(x.data(), fq.data());
        tt.to_float(ref.data(), dq.data(), n);
        for (int64_t i = 0; i < n; ++i) EXPECT_EQ(std::memcmp(&fq[(size_t)i], &dq[(size_t)i], 4), 0) << tt.name << " i=" << i;
      }
    }
  }
}

TEST(GroupCodec, LargerGroupsShareOneScale) {
  const int64_t n = 288;  // g128: groups of 128, 128 and a last one of 32
  const std::vector<float> x = random_row(n, 7);
  auto c = GroupCodec::make(TensorType::Q4_0, 128, n);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c.value().n_groups(), 3);
  EXPECT_EQ(c.value().group_len(2), 32);
  std::vector<BlockQ4_0> b((size_t)n / 32);
  c.value().quantize_row(x.data(), b.data());
  for (int k = 0; k < 4; ++k) EXPECT_EQ(b[(size_t)k].d, b[0].d);
  for (int k = 4; k < 8; ++k) EXPECT_EQ(b[(size_t)k].d, b[4].d);
  EXPECT_NE(b[0].d, b[4].d);
  // The scale is the group's signed maximum over -8 and every value is within half a step of x.
  float mx = 0, amax = 0;
  for (int i = 0; i < 128; ++i)
    if (std::fabs(x[(size_t)i]) > amax) {
      amax = std::fabs(x[(size_t)i]);
      mx = x[(size_t)i];
    }
  EXPECT_EQ(b[0].d, float_to_fp16(mx / -8.0f));
  std::vector<float> y((size_t)n);
  dequantize_row_q4_0_ref(b.data(), y.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const float d = std::fabs(fp16_to_float(b[(size_t)i / 32].d));
    EXPECT_LE(std::fabs(y[(size_t)i] - x[(size_t)i]), 0.5f * d * 1.01f + 1e-6f) << i;
  }
  // Per channel: one scale for the whole row.
  auto pc = GroupCodec::make(TensorType::Q8_0, 0, n);
  ASSERT_TRUE(pc.is_ok());
  EXPECT_EQ(pc.value().n_groups(), 1);
  std::vector<BlockQ8_0> q((size_t)n / 32);
  pc.value().quantize_row(x.data(), q.data());
  for (const BlockQ8_0& blk : q) EXPECT_EQ(blk.d, q[0].d);
  EXPECT_NEAR(pc.value().native_bits_per_weight(), 8.0 + 16.0 / 288.0, 1e-12);
}

TEST(GroupCodec, ClippingShrinksTheRange) {
  const std::vector<float> x = random_row(64, 9);
  auto c = GroupCodec::make(TensorType::Q8_0, 32, 64).value();
  const GroupParams full = c.params(x.data(), 32), half = c.params(x.data(), 32, 0.5f);
  EXPECT_NEAR(half.d, full.d * 0.5f, full.d * 0.002f);
  // Clamped codes stay in range.
  EXPECT_EQ(c.quantize(1e9f, half), 127);
  EXPECT_EQ(c.quantize(-1e9f, half), -127);
  auto c4 = GroupCodec::make(TensorType::Q4_0, 32, 64).value();
  const GroupParams p4 = c4.params(x.data(), 32);
  EXPECT_GE(c4.quantize(1e9f, p4), 0);
  EXPECT_LE(c4.quantize(1e9f, p4), 15);
  EXPECT_GE(c4.quantize(-1e9f, p4), 0);
}

TEST(GroupCodec, BadSizesAreRefused) {
  EXPECT_FALSE(GroupCodec::make(TensorType::Q4_0, 48, 96).is_ok());
  EXPECT_FALSE(GroupCodec::make(TensorType::Q4_0, 32, 100).is_ok());
  EXPECT_FALSE(GroupCodec::make(TensorType::F16, 32, 64).is_ok());
  auto r = GroupCodec::make(TensorType::Q4_0, 16, 64);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("multiple of 32"), std::string::npos);
}

}  // namespace
}  // namespace pocket
