// Packed Q4_0 / Q8_0 rows (kernels/packed_rows.h): the layout holds every byte of the file's rows, the
// corrections are the offset times each lane's activations, and every table's vec_dot_packed equals
// vec_dot per (row, token) bit for bit: random rows, an all-zero row, an extreme value, a Q8_0 block of
// -128s and +127s (the unsigned offset at both ends), a NaN scale, 1..5 tokens (both the paired and the
// single-token pass), zero and extreme activations, widths 0..12 blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "dtype/block_formats.h"
#include "dtype/tensor_type.h"
#include "kernels/kernel_support.h"
#include "kernels/kernel_table.h"
#include "kernels/packed_rows.h"

namespace pocket {
namespace {

using test::random_vec;

// Rows in the file's layout, row_bytes apart, with the edge rows described above.
std::vector<uint8_t> make_rows(TensorType wt, int64_t rows, int64_t n, size_t rb, std::mt19937& rng) {
  const TypeTraits& tr = traits(wt);
  std::vector<uint8_t> wq(rows * rb);
  for (int64_t r = 0; r < rows; ++r) {
    auto w = random_vec(n, rng);
    if (r == 1) std::fill(w.begin(), w.end(), 0.0f);
    if (r == 2 && n > 0) w[0] = 1e30f;
    uint8_t* row = wq.data() + r * rb;
    tr.from_float(w.data(), row, n);
    if (r == 3 && n >= 64) {
      if (wt == TensorType::Q8_0) {
        std::memset(row + 2, 0x80, 32);  // first block: every weight -128
        std::memset(row + tr.block_bytes + 2, 0x7f, 32);
      }
      const uint16_t nan = 0x7E00;
      std::memcpy(row + tr.block_bytes, &nan, 2);  // second block: a NaN scale
    }
  }
  return wq;
}

TEST(PackedRows, LayoutHoldsEveryByteOfTheRows) {
  std::mt19937 rng(5);
  for (TensorType wt : {TensorType::Q8_0, TensorType::Q4_0}) {
    const int64_t n = 96, rows = 32;
    const size_t rb = row_bytes(traits(wt), n);
    ASSERT_EQ(packed_group_bytes(wt, n), kPackRows * rb);
    const auto wq = make_rows(wt, rows, n, rb, rng);
    std::vector<uint8_t> p(rows / kPackRows * packed_group_bytes(wt, n));
    pack_rows(wt, wq.data(), rb, rows, n, p.data());
    const int steps = wt == TensorType::Q4_0 ? 4 : 8;
    const size_t bb = 32 + 64 * steps, bsz = traits(wt).block_bytes;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t b = 0; b < n / 32; ++b) {
        const uint8_t* src = wq.data() + r * rb + b * bsz;
        const uint8_t* blk = p.data() + (r / kPackRows) * packed_group_bytes(wt, n) + b * bb;
        ASSERT_EQ(std::memcmp(blk + 2 * (r % kPackRows), src, 2), 0) << "scale of row " << r << " block " << b;
        for (int s = 0; s < steps; ++s)
          for (int i = 0; i < 4; ++i) {
            const uint8_t want = wt == TensorType::Q8_0 ? (uint8_t)(src[2 + 4 * s + i] + 128) : src[2 + 4 * s + i];
            ASSERT_EQ(blk[32 + 64 * s + 4 * (r % kPackRows) + i], want) << "row " << r << " block " << b << " step " << s;
          }
      }
  }
}

TEST(PackedRows, CorrectionsAreTheOffsetTimesEachLanesActivations) {
  std::vector<BlockQ8_0> x(2);
  for (int b = 0; b < 2; ++b)
    for (int i = 0; i < 32; ++i) x[b].qs[i] = (int8_t)(b == 0 ? -127 + 8 * i : 127 - i);
  std::vector<int32_t> c8(16), c128(16);
  packed_corrections(TensorType::Q4_0, x.data(), 64, c8.data());
  packed_corrections(TensorType::Q8_0, x.data(), 64, c128.data());
  for (int b = 0; b < 2; ++b)
    for (int l = 0; l < 8; ++l) {
      int32_t s = 0;
      for (int i = 0; i < 4; ++i) s += x[b].qs[4 * l + i];
      EXPECT_EQ(c8[b * 8 + l], -8 * s);
      EXPECT_EQ(c128[b * 8 + l], -128 * s);
    }
}

TEST(PackedRows, PackedDotEqualsSingleDotsBitForBit) {
  std::mt19937 rng(43);
  int checked = 0;
  for (const KernelTable* kt : test::kernel_tables()) {
    for (TensorType wt : {TensorType::Q8_0, TensorType::Q4_0}) {
      if (kt->vec_dot_packed[(int)wt] == nullptr) continue;
      for (int64_t n = 0; n <= 12 * 32; n += 32) {
        const size_t rb = row_bytes(traits(wt), n);
        const auto wq = make_rows(wt, kPackRows, n, rb, rng);
        std::vector<uint8_t> p(packed_group_bytes(wt, n) + 1);
        pack_rows(wt, wq.data(), rb, kPackRows, n, p.data() + 1);  // + 1: the kernel must not assume alignment
        for (int nt = 1; nt <= 5; ++nt) {
          const size_t xs = act_row_bytes(wt, n) + 6, cs = (size_t)n / 4 + 3;
          std::vector<uint8_t> x(nt * xs + 8);
          std::vector<int32_t> corr(nt * cs + 1);
          for (int t = 0; t < nt; ++t) {
            auto xf = random_vec(n, rng, t == 2 ? 100.0f : 1.0f);
            if (t == 1) std::fill(xf.begin(), xf.end(), 0.0f);
            if (t == 3 && n > 0) xf[0] = -1e30f;
            kt->quantize_q8_0(xf.data(), x.data() + 2 + t * xs, n);
            packed_corrections(wt, x.data() + 2 + t * xs, n, corr.data() + t * cs);
          }
          const size_t os = kPackRows + 3;
          std::vector<float> out(nt * os, -1.0f);
          kt->vec_dot_packed[(int)wt](n, p.data() + 1, x.data() + 2, xs, corr.data(), cs, nt, out.data(), os);
          for (int t = 0; t < nt; ++t) {
            for (int r = 0; r < kPackRows; ++r) {
              const float want = kt->vec_dot[(int)wt](n, wq.data() + r * rb, x.data() + 2 + t * xs);
              const float got = out[t * os + r];
              if (std::isnan(want))
                ASSERT_TRUE(std::isnan(got)) << kt->name << " " << traits(wt).name << " n=" << n << " row " << r << " token " << t;
              else
                ASSERT_EQ(got, want) << kt->name << " " << traits(wt).name << " n=" << n << " row " << r << " token " << t << " of " << nt;
            }
            for (size_t r = kPackRows; r < os; ++r) ASSERT_EQ(out[t * os + r], -1.0f) << "wrote outside the group";
          }
          ++checked;
        }
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no table with packed kernels on this CPU";
}

}  // namespace
}  // namespace pocket
