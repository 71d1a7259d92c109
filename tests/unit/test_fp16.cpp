#include <gtest/gtest.h>

#include <cmath>

#include "core/fp16.h"

namespace pocket {
namespace {

TEST(Fp16, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_float((uint16_t)h);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(fp16_to_float(float_to_fp16(f))));
      continue;
    }
    EXPECT_EQ(float_to_fp16(f), h) << "half 0x" << std::hex << h;
  }
}

TEST(Fp16, MidpointsRoundToEven) {
  // Between two adjacent finite halves the exact midpoint must round to the one with an even mantissa.
  for (uint32_t h = 0; h < 0x7bff; ++h) {
    const float a = fp16_to_float((uint16_t)h), b = fp16_to_float((uint16_t)(h + 1));
    const float mid = (a + b) / 2;  // exact in float
    const uint16_t got = float_to_fp16(mid);
    EXPECT_EQ(got, (h % 2 == 0) ? h : h + 1) << "between 0x" << std::hex << h << " and the next half";
    EXPECT_EQ(float_to_fp16(-mid), (uint16_t)(got | 0x8000));
  }
}

TEST(Fp16, OverflowAndUnderflow) {
  EXPECT_EQ(float_to_fp16(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_fp16(65520.0f), 0x7c00);  // rounds up to infinity
  EXPECT_EQ(float_to_fp16(1e10f), 0x7c00);
  EXPECT_EQ(float_to_fp16(-INFINITY), 0xfc00);
  EXPECT_EQ(float_to_fp16(1e-10f), 0x0000);
  EXPECT_EQ(float_to_fp16(5.9604645e-8f), 0x0001);  // smallest subnormal
}

TEST(Bf16, RoundTripAndRounding) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = bf16_to_float((uint16_t)h);
    if (!std::isnan(f)) { EXPECT_EQ(float_to_bf16(f), h); }
  }
  EXPECT_EQ(float_to_bf16(bits_to_float(0x3f808000u)), 0x3f80);  // tie -> even
  EXPECT_EQ(float_to_bf16(bits_to_float(0x3f818000u)), 0x3f82);
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(NAN))));
}

}  // namespace
}  // namespace pocket
