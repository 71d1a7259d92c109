// Packed Q4_0 / Q8_0 / Q4_K rows (kernels/packed_rows.h): the layout holds every byte of the file's rows,
// the corrections are the offset times each lane's activations, and every table's vec_dot_packed equals
// vec_dot per (row, token) bit for bit, and for Q4_K the reference table's too: random rows, an all-zero
// row, an extreme value, a Q8_0 block of -128s and +127s (the unsigned offset at both ends), a NaN scale,
// Q4_K super-blocks with every scale and min at 63 and every nibble at 15, 1..5 tokens (both the paired
// and the single-token pass), zero and extreme activations, widths 0..12 blocks (Q4_K: 0..5 super-blocks).
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
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
    if (wt == TensorType::Q4_K && r == 4 && n >= 256) {
      std::memset(row + 4, 0xff, 12 + 128);  // first super-block: every 6-bit scale and min 63, every nibble 15
    }
    if (wt == TensorType::Q6_K && r == 4 && n >= 256) {
      std::memset(row, 0xff, 128 + 64);  // first super-block: every 6-bit value 63 (+31 after the -32)
      std::memset(row + 192, 0x80, 8);   // scales -128 and +127
      std::memset(row + 200, 0x7f, 8);
    }
    if (r == 3 && n >= 2 * tr.block_size) {
      if (wt == TensorType::Q8_0) {
        std::memset(row + 2, 0x80, 32);  // first block: every weight -128
        std::memset(row + tr.block_bytes + 2, 0x7f, 32);
      }
      const uint16_t nan = 0x7E00;
      const size_t d_at = wt == TensorType::Q6_K ? offsetof(BlockQ6_K, d) : 0;
      std::memcpy(row + tr.block_bytes + d_at, &nan, 2);  // second block: a NaN scale
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

TEST(PackedRows, CorrectionsAreTheOffsetTimesEachBlocksActivations) {
  std::vector<BlockQ8_0> x(2);
  for (int b = 0; b < 2; ++b)
    for (int i = 0; i < 32; ++i) x[b].qs[i] = (int8_t)(b == 0 ? -127 + 8 * i : 127 - i);
  std::vector<int32_t> c8(2), c128(2);
  packed_corrections(TensorType::Q4_0, x.data(), 64, c8.data());
  packed_corrections(TensorType::Q8_0, x.data(), 64, c128.data());
  for (int b = 0; b < 2; ++b) {
    int32_t s = 0;
    for (int i = 0; i < 32; ++i) s += x[b].qs[i];
    EXPECT_EQ(c8[b], -8 * s);
    EXPECT_EQ(c128[b], -128 * s);
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
          const size_t xs = act_row_bytes(wt, n) + 6, cs = (size_t)n / 32 + 3;
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

TEST(PackedRows, Q4KLayoutHoldsEveryByteOfTheRows) {
  std::mt19937 rng(6);
  const TensorType wt = TensorType::Q4_K;
  const int64_t n = 512, rows = 32;
  const size_t rb = row_bytes(traits(wt), n);
  ASSERT_EQ(packed_group_bytes(wt, n), kPackRows * rb);
  ASSERT_FALSE(packed_needs_corrections(wt));
  const auto wq = make_rows(wt, rows, n, rb, rng);
  std::vector<uint8_t> p(rows / kPackRows * packed_group_bytes(wt, n));
  pack_rows(wt, wq.data(), rb, rows, n, p.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < n / 256; ++b) {
      const uint8_t* src = wq.data() + r * rb + b * sizeof(BlockQ4_K);
      const uint8_t* blk = p.data() + (r / kPackRows) * packed_group_bytes(wt, n) + b * kPackRows * sizeof(BlockQ4_K);
      const int lane = (int)(r % kPackRows);
      ASSERT_EQ(std::memcmp(blk + 2 * lane, src, 2), 0) << "d of row " << r;
      ASSERT_EQ(std::memcmp(blk + 32 + 2 * lane, src + 2, 2), 0) << "dmin of row " << r;
      for (int w = 0; w < 3; ++w) ASSERT_EQ(std::memcmp(blk + 64 + 64 * w + 4 * lane, src + 4 + 4 * w, 4), 0) << "scales of row " << r;
      for (int s = 0; s < 32; ++s)
        ASSERT_EQ(std::memcmp(blk + 256 + 64 * s + 4 * lane, src + 16 + 4 * s, 4), 0) << "qs step " << s << " of row " << r;
    }
}

TEST(PackedRows, Q6KLayoutHoldsEveryByteOfTheRows) {
  std::mt19937 rng(7);
  const TensorType wt = TensorType::Q6_K;
  const int64_t n = 512, rows = 32;
  const size_t rb = row_bytes(traits(wt), n);
  ASSERT_EQ(packed_group_bytes(wt, n), kPackRows * rb);
  ASSERT_FALSE(packed_needs_corrections(wt));
  const auto wq = make_rows(wt, rows, n, rb, rng);
  std::vector<uint8_t> p(rows / kPackRows * packed_group_bytes(wt, n));
  pack_rows(wt, wq.data(), rb, rows, n, p.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < n / 256; ++b) {
      const BlockQ6_K* src = reinterpret_cast<const BlockQ6_K*>(wq.data() + r * rb) + b;
      const uint8_t* blk = p.data() + (r / kPackRows) * packed_group_bytes(wt, n) + b * kPackRows * sizeof(BlockQ6_K);
      const int lane = (int)(r % kPackRows);
      ASSERT_EQ(std::memcmp(blk + 2 * lane, &src->d, 2), 0) << "d of row " << r;
      for (int w = 0; w < 4; ++w) ASSERT_EQ(std::memcmp(blk + 32 + 64 * w + 4 * lane, src->scales + 4 * w, 4), 0) << "scales of row " << r;
      for (int h = 0; h < 2; ++h)
        for (int k = 0; k < 8; ++k) {
          const uint8_t* step = blk + 288 + 192 * (8 * h + k) + 4 * lane;
          ASSERT_EQ(std::memcmp(step, src->ql + 64 * h + 4 * k, 4), 0) << "ql low, half " << h << " step " << k << " of row " << r;
          ASSERT_EQ(std::memcmp(step + 64, src->ql + 64 * h + 32 + 4 * k, 4), 0) << "ql high, half " << h << " step " << k << " of row " << r;
          ASSERT_EQ(std::memcmp(step + 128, src->qh + 32 * h + 4 * k, 4), 0) << "qh, half " << h << " step " << k << " of row " << r;
        }
    }
}

TEST(PackedRows, PackedKQuantDotEqualsSingleDotsBitForBit) {
  std::mt19937 rng(44);
  int checked = 0;
  for (const KernelTable* kt : test::kernel_tables())
    for (TensorType wt : {TensorType::Q4_K, TensorType::Q6_K}) {
      if (kt->vec_dot_packed[(int)wt] == nullptr) continue;
      for (int64_t n = 0; n <= 5 * 256; n += 256) {
        const size_t rb = row_bytes(traits(wt), n);
        const auto wq = make_rows(wt, kPackRows, n, rb, rng);
        std::vector<uint8_t> p(packed_group_bytes(wt, n) + 1);
        pack_rows(wt, wq.data(), rb, kPackRows, n, p.data() + 1);  // + 1: the kernel must not assume alignment
        for (int nt = 1; nt <= 5; ++nt) {
          const size_t xs = act_row_bytes(wt, n) + 8;  // Q8_K rows stay 4-byte aligned (their float d)
          std::vector<uint8_t> xbuf(nt * xs + 16);
          uint8_t* x = xbuf.data() + (4 - reinterpret_cast<uintptr_t>(xbuf.data()) % 4) % 4;
          for (int t = 0; t < nt; ++t) {
            auto xf = random_vec(n, rng, t == 2 ? 100.0f : 1.0f);
            if (t == 1) std::fill(xf.begin(), xf.end(), 0.0f);
            if (t == 3 && n > 0) xf[0] = -1e30f;
            ASSERT_TRUE(quantize_activations(*kt, wt, xf.data(), x + t * xs, n));
          }
          const size_t os = kPackRows + 3;
          std::vector<float> out(nt * os, -1.0f);
          kt->vec_dot_packed[(int)wt](n, p.data() + 1, x, xs, nullptr, 0, nt, out.data(), os);
          for (int t = 0; t < nt; ++t) {
            for (int r = 0; r < kPackRows; ++r) {
              const float want = kt->vec_dot[(int)wt](n, wq.data() + r * rb, x + t * xs);
              const float ref = ref_kernels().vec_dot[(int)wt](n, wq.data() + r * rb, x + t * xs);
              const float got = out[t * os + r];
              const std::string where = std::string(kt->name) + " " + traits(wt).name + " n=" + std::to_string(n) + " row " + std::to_string(r) +
                                        " token " + std::to_string(t);
              if (std::isnan(want)) {
                ASSERT_TRUE(std::isnan(got)) << where;
                ASSERT_TRUE(std::isnan(ref)) << where;
              } else {
                ASSERT_EQ(got, want) << where << " of " << nt;
                ASSERT_EQ(got, ref) << where << " (reference table)";
              }
            }
            for (size_t r = kPackRows; r < os; ++r) ASSERT_EQ(out[t * os + r], -1.0f) << "wrote outside the group";
          }
          ++checked;
        }
      }
    }
  if (checked == 0) GTEST_SKIP() << "no table with packed K-quant kernels on this CPU";
}

}  // namespace
}  // namespace pocket
