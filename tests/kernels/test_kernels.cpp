// Every kernel table this CPU can run is checked against the reference table on random and
// edge-case inputs: lengths 0..2 blocks and odd tails, zeros, NaN, extremes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

#include "core/cpu_features.h"
#include "kernels/kernel_table.h"
#include "kernels/kernel_support.h"
#include "dtype/block_formats.h"
#include "dtype/tensor_type.h"

namespace pocket {
namespace {

using test::random_vec;

// Two summation orders of n products differ by at most ~2 * n * eps * sum |a_i b_i| (the gamma_n bound).
float dot_tolerance(int64_t n, double abs_sum) { return (float)(2.0 * (double)(n + 2) * std::numeric_limits<float>::epsilon() * abs_sum) + 1e-30f; }

TEST(Kernels, ReferenceIsAvailableAndSelected) {
  ASSERT_FALSE(test::kernel_tables().empty());
  EXPECT_STREQ(test::kernel_tables()[0]->name, "ref");
  EXPECT_NE(kernels().vec_dot[(int)TensorType::F32], nullptr);
}

bool has_table(const char* name) {
  for (const KernelTable* kt : test::kernel_tables())
    if (std::strcmp(kt->name, name) == 0) return true;
  return false;
}

// The tests below cover every table this CPU can run; make sure the ISA tables are among them, so a
// broken feature check cannot silently leave only the reference under test (and the best is chosen).
TEST(Kernels, EveryTableThisCpuRunsIsUnderTest) {
  const CpuFeatures& f = cpu_features();
#if defined(__aarch64__)
  ASSERT_TRUE(f.neon);  // ASIMD is mandatory on aarch64 Linux
  EXPECT_TRUE(has_table("neon"));
  EXPECT_EQ(has_table("neon-dotprod"), f.dotprod);
  if (std::getenv("POCKET_KERNELS") == nullptr) { EXPECT_STREQ(kernels().name, f.dotprod ? "neon-dotprod" : "neon"); }
#elif defined(__x86_64__)
  const bool avx2 = f.avx2 && f.fma && f.f16c;
  if (avx2) { EXPECT_TRUE(has_table("avx2")); }
  if (avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni) { EXPECT_TRUE(has_table("avx512vnni")); }
  if (std::getenv("POCKET_KERNELS") == nullptr) { EXPECT_STREQ(kernels().name, test::kernel_tables().back()->name); }
#else
  GTEST_SKIP() << "no ISA tables for this architecture";
#endif
}

// The activations a kernel multiplies, as floats (Q8_0 / Q8_K blocks dequantized, F32 as they are).
void dequantize_activations(TensorType wt, const void* xa, int64_t n, float* out) {
  if (n == 0) return;  // empty rows: out may be null (memcpy's arguments must not be)
  switch (act_type_for(wt)) {
    case TensorType::Q8_0: traits(TensorType::Q8_0).to_float(xa, out, n); break;
    case TensorType::Q8_K: {
      const BlockQ8_K* b = static_cast<const BlockQ8_K*>(xa);
      for (int64_t i = 0; i < n; ++i) out[i] = b[i / kQK_K].d * b[i / kQK_K].qs[i % kQK_K];
      break;
    }
    default: std::memcpy(out, xa, (size_t)n * sizeof(float));
  }
}

TEST(Kernels, VecDotAllTypesMatchReference) {
  const KernelTable& ref = ref_kernels();
  std::mt19937 rng(11);
  const TensorType types[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16,   TensorType::Q8_0,  TensorType::Q4_0,
                              TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1,   TensorType::Q4_K,  TensorType::Q5_K,
                              TensorType::Q6_K, TensorType::Q3_K, TensorType::IQ4_NL, TensorType::IQ4_XS};
  for (const KernelTable* kt : test::kernel_tables()) {
    for (TensorType wt : types) {
      const TypeTraits& tr = traits(wt);
      const int64_t step = tr.block_size;
      for (int64_t n = 0; n <= 2 * 256 + 3 * step; n += (step == 1 ? 1 : step)) {
        for (int rep = 0; rep < (n < 64 ? 3 : 1); ++rep) {
          const auto w = random_vec(n, rng), x = random_vec(n, rng);
          std::vector<uint8_t> wq(row_bytes(tr, n) + 1), xq(act_row_bytes(wt, n) + 1);
          tr.from_float(w.data(), wq.data(), n);
          const void* xa = quantize_activations(ref, wt, x.data(), xq.data(), n) ? (const void*)xq.data() : (const void*)x.data();
          // Tolerance from the dequantized operands the kernel actually multiplies.
          std::vector<float> wd((size_t)n), xd((size_t)n);
          tr.to_float(wq.data(), wd.data(), n);
          dequantize_activations(wt, xa, n, xd.data());
          double abs_sum = 0, exact = 0;
          for (int64_t i = 0; i < n; ++i) {
            abs_sum += std::fabs((double)wd[(size_t)i] * xd[(size_t)i]);
            exact += (double)wd[(size_t)i] * xd[(size_t)i];
          }
          const float want = ref.vec_dot[(int)wt](n, wq.data(), xa);
          const float got = kt->vec_dot[(int)wt](n, wq.data(), xa);
          ASSERT_NEAR(got, want, dot_tolerance(n, abs_sum)) << kt->name << " " << tr.name << " n=" << n;
          // The reference itself against the dot of what it multiplies, in double.
          ASSERT_NEAR(want, exact, dot_tolerance(n, abs_sum)) << "ref " << tr.name << " n=" << n;
        }
      }
    }
  }
}

// The K-quant kernels keep exact integer sums per super-block and the reference's float formula: every
// table must return the reference's value bit for bit, on random rows and on edge blocks (all zeros, the
// largest levels against +-127 activations, negative Q6_K scales).
TEST(Kernels, KQuantDotsAreBitIdenticalToTheReference) {
  const KernelTable& ref = ref_kernels();
  std::mt19937 rng(21);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const KernelTable* kt : test::kernel_tables()) {
    for (TensorType wt : {TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K, TensorType::Q2_K, TensorType::Q3_K, TensorType::IQ4_XS}) {
      const TypeTraits& tr = traits(wt);
      for (int rep = 0; rep < 24; ++rep) {
        const int64_t n = kQK_K * (1 + rep % 4);
        std::vector<float> w((size_t)n), x((size_t)n);
        for (int64_t i = 0; i < n; ++i) {
          w[(size_t)i] = rep % 6 == 1 ? 0.0f : nd(rng) * (rep % 3 == 0 ? 40.0f : 1.0f) + (rep % 5 == 0 ? 3.0f : 0.0f);
          x[(size_t)i] = rep % 6 == 2 ? (i % 2 ? 127.0f : -127.0f) : nd(rng) * (rep % 4 == 0 ? 1e3f : 1.0f);
        }
        std::vector<uint8_t> wq(row_bytes(tr, n)), xq(act_row_bytes(wt, n));
        tr.from_float(w.data(), wq.data(), n);
        if (rep % 6 == 3) std::memset(wq.data(), 0xff, wq.size() / 2);  // saturated levels and scales (fp16 NaN scales excluded below)
        // ... with finite fp16 scales where each format keeps them (Q6_K, Q3_K: at the end; the others: first).
        const bool d_last = wt == TensorType::Q6_K || wt == TensorType::Q3_K || wt == TensorType::Q2_K;
        if (rep % 6 == 3)
          for (int64_t b = 0; b < n / kQK_K; ++b)
            std::memset(wq.data() + b * tr.block_bytes + (d_last ? tr.block_bytes - (wt == TensorType::Q2_K ? 4 : 2) : 0), 0x10,
                        d_last ? (wt == TensorType::Q2_K ? 4 : 2) : (wt == TensorType::IQ4_XS ? 2 : 4));
        ASSERT_TRUE(quantize_activations(ref, wt, x.data(), xq.data(), n));
        const float want = ref.vec_dot[(int)wt](n, wq.data(), xq.data());
        const float got = kt->vec_dot[(int)wt](n, wq.data(), xq.data());
        ASSERT_EQ(std::memcmp(&got, &want, sizeof got), 0) << kt->name << " " << tr.name << " rep " << rep << ": " << got << " vs " << want;
      }
    }
  }
}

TEST(Kernels, QuantizeActivationsBitIdentical) {
  std::mt19937 rng(12);
  for (const KernelTable* kt : test::kernel_tables()) {
    for (int64_t n = 0; n <= 8 * 32; n += 32) {
      auto x = random_vec(n, rng, 3.0f);
      // Edge cases: exact halves (rounding ties), zeros, extremes, NaN, inf.
      if (n >= 32) {
        const float d = 1.0f;
        x[0] = 127.0f * d;
        x[1] = 0.5f;
        x[2] = -0.5f;
        x[3] = 2.5f;
        x[4] = 0.0f;
        x[5] = -0.0f;
      }
      if (n >= 64) { std::fill(x.begin() + 32, x.begin() + 64, 0.0f); }
      if (n >= 96) {
        x[64] = std::numeric_limits<float>::quiet_NaN();
        x[65] = 1e30f;
        x[66] = -1e-30f;
      }
      if (n >= 128) x[100] = INFINITY;
      std::vector<BlockQ8_0> a((size_t)n / 32 + 1), b((size_t)n / 32 + 1);
      ref_kernels().quantize_q8_0(x.data(), a.data(), n);
      kt->quantize_q8_0(x.data(), b.data(), n);
      ASSERT_EQ(std::memcmp(a.data(), b.data(), (size_t)n / 32 * sizeof(BlockQ8_0)), 0) << kt->name << " n=" << n;
    }
  }
}

TEST(Kernels, ElementwiseOpsMatchReference) {
  const KernelTable& ref = ref_kernels();
  std::mt19937 rng(13);
  for (const KernelTable* kt : test::kernel_tables()) {
    for (int64_t n = 1; n <= 300; n += (n < 40 ? 1 : 37)) {
      const auto x = random_vec(n, rng, 2.0f), w = random_vec(n, rng), y0 = random_vec(n, rng);
      double abs_sum = 0;
      for (int64_t i = 0; i < n; ++i) abs_sum += std::fabs((double)x[(size_t)i] * w[(size_t)i]);
      EXPECT_NEAR(kt->dot_f32(x.data(), w.data(), n), ref.dot_f32(x.data(), w.data(), n), dot_tolerance(n, abs_sum)) << kt->name;
      std::vector<float> ya = y0, yb = y0;
      ref.axpy_f32(0.7f, x.data(), ya.data(), n);
      kt->axpy_f32(0.7f, x.data(), yb.data(), n);
      for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(ya[(size_t)i], yb[(size_t)i], 2e-6f * (1 + std::fabs(ya[(size_t)i])));
      std::vector<float> ra((size_t)n), rb((size_t)n);
      ref.rmsnorm(x.data(), w.data(), ra.data(), n, 1e-5f);
      kt->rmsnorm(x.data(), w.data(), rb.data(), n, 1e-5f);
      for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(ra[(size_t)i], rb[(size_t)i], 1e-5f * (1 + std::fabs(ra[(size_t)i])));
      std::vector<float> ga = x, gb = x;
      ref.silu_mul(ga.data(), w.data(), n);
      kt->silu_mul(gb.data(), w.data(), n);
      for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(ga[(size_t)i], gb[(size_t)i], 1e-6f * (1 + std::fabs(ga[(size_t)i])));
    }
    // NaN propagates through a float dot product in every table.
    std::vector<float> a(37, 1.0f), b(37, 1.0f);
    a[20] = NAN;
    EXPECT_TRUE(std::isnan(kt->dot_f32(a.data(), b.data(), 37))) << kt->name;
    // Zeros give exactly zero.
    std::vector<float> z(64, 0.0f);
    EXPECT_EQ(kt->dot_f32(z.data(), b.data(), 37), 0.0f);
  }
}

}  // namespace
}  // namespace pocket

namespace pocket {
namespace {

TEST(Kernels, FusedAttentionMatchesReference) {
  std::mt19937 rng(21);
  for (const KernelTable* kt : test::kernel_tables()) {
    for (int64_t hd : {1, 7, 8, 16, 48, 64, 100, 128}) {
      for (int n_pos : {1, 2, 3, 17, 64, 300}) {
        const int64_t stride = hd * 3 + 5;  // rows of several heads interleaved, odd stride
        auto k = random_vec(stride * n_pos, rng, 2.0f), v = random_vec(stride * n_pos, rng), q = random_vec(hd, rng, 2.0f);
        if (n_pos > 2) k[(size_t)stride] = 40.0f;  // a dominating score makes the running max grow late
        std::vector<float> want((size_t)hd), got((size_t)hd), sc((size_t)n_pos);
        const float scale = 1.0f / std::sqrt((float)hd);
        ref_kernels().attn_head_f32(q.data(), k.data(), v.data(), stride, n_pos, hd, scale, want.data(), sc.data());
        kt->attn_head_f32(q.data(), k.data(), v.data(), stride, n_pos, hd, scale, got.data(), sc.data());
        // Softmax weights carry relative error ~ (hd + n_pos) eps (scores, exp, sum); outputs are convex
        // combinations of V entries (|v| <~ 4), so the bound scales with max|v|.
        const float tol = 8.0f * (float)(hd + n_pos) * std::numeric_limits<float>::epsilon() * 4.0f;
        for (int64_t i = 0; i < hd; ++i) ASSERT_NEAR(got[(size_t)i], want[(size_t)i], tol) << kt->name << " hd=" << hd << " n=" << n_pos;
      }
    }
  }
}

}  // namespace
}  // namespace pocket

namespace pocket {
namespace {

TEST(Kernels, FourTokenDotEqualsSingleDotsBitForBit) {
  std::mt19937 rng(31);
  for (const KernelTable* kt : test::kernel_tables()) {
    for (TensorType wt : {TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1, TensorType::F32}) {
      if (kt->vec_dot_x4[(int)wt] == nullptr) continue;
      const TypeTraits& tr = traits(wt);
      for (int64_t n = 0; n <= 12 * 32; n += (wt == TensorType::F32 ? 7 : 32)) {
        const auto w = random_vec(n, rng);
        std::vector<uint8_t> wq(row_bytes(tr, n) + 1);
        tr.from_float(w.data(), wq.data(), n);
        const size_t xs = act_row_bytes(wt, n) + 36;  // padded stride: rows need not be adjacent
        std::vector<uint8_t> x(4 * xs + 4);
        for (int j = 0; j < 4; ++j) {
          const auto xf = random_vec(n, rng);
          if (act_type_for(wt) == TensorType::Q8_0)
            kt->quantize_q8_0(xf.data(), x.data() + j * xs, n);
          else if (n > 0)
            std::memcpy(x.data() + j * xs, xf.data(), (size_t)n * sizeof(float));
        }
        float out[4];
        kt->vec_dot_x4[(int)wt](n, wq.data(), x.data(), xs, out);
        for (int j = 0; j < 4; ++j)
          ASSERT_EQ(out[j], kt->vec_dot[(int)wt](n, wq.data(), x.data() + j * xs)) << kt->name << " " << tr.name << " n=" << n;
      }
    }
  }
}

}  // namespace
}  // namespace pocket

namespace pocket {
namespace {

TEST(Kernels, TokenBlockDotEqualsSingleDotsBitForBit) {
  // vec_dot_xn against vec_dot for 1..kMaxXnTokens tokens: widths 0..300 (every 16-, 8- and scalar
  // tail), a zero token, an extreme weight (overflow to inf) and a NaN in one token. Compared as bits
  // (NaN included) so that nothing but an identical result passes.
  std::mt19937 rng(41);
  int checked = 0;
  auto same = [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b)); };
  for (const KernelTable* kt : test::kernel_tables()) {
    for (TensorType wt : {TensorType::F32, TensorType::Q8_0, TensorType::Q4_0}) {
      if (kt->vec_dot_xn[(int)wt] == nullptr) continue;
      const TypeTraits& tr = traits(wt);
      for (int64_t n = 0; n <= 300; n += (wt == TensorType::F32 ? 3 : 32)) {
        for (int edge = 0; edge < 3; ++edge) {
          auto w = random_vec(n, rng);
          if (edge == 1 && n > 0) w[(size_t)n / 2] = 3e38f;
          std::vector<uint8_t> wq(row_bytes(tr, n) + 4);
          tr.from_float(w.data(), wq.data() + 4, n);  // a row not 64-byte aligned
          const size_t xs = act_row_bytes(wt, n) + 20;
          std::vector<uint8_t> x(kMaxXnTokens * xs + 4);
          for (int j = 0; j < kMaxXnTokens; ++j) {
            auto xf = random_vec(n, rng, 3.0f);
            if (j == 2) std::fill(xf.begin(), xf.end(), 0.0f);
            if (edge == 2 && j == 5 && n > 0) xf[(size_t)n - 1] = std::numeric_limits<float>::quiet_NaN();
            if (act_type_for(wt) == TensorType::Q8_0)
              kt->quantize_q8_0(xf.data(), x.data() + 4 + j * xs, n);
            else if (n > 0)
              std::memcpy(x.data() + 4 + j * xs, xf.data(), (size_t)n * sizeof(float));
          }
          for (int nt = 1; nt <= kMaxXnTokens; ++nt) {
            float out[kMaxXnTokens];
            kt->vec_dot_xn[(int)wt](n, wq.data() + 4, x.data() + 4, xs, nt, out);
            for (int j = 0; j < nt; ++j) {
              const float want = kt->vec_dot[(int)wt](n, wq.data() + 4, x.data() + 4 + j * xs);
              ASSERT_TRUE(same(out[j], want)) << kt->name << " " << tr.name << " n=" << n << " tokens=" << nt << " token " << j << ": " << out[j]
                                              << " vs " << want;
              ++checked;
            }
          }
        }
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no table with an n-token kernel on this machine";
}

TEST(Kernels, FourRowDotEqualsSingleDotsBitForBit) {
  std::mt19937 rng(37);
  int checked = 0;
  for (const KernelTable* kt : test::kernel_tables()) {
    for (TensorType wt : {TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1, TensorType::F32}) {
      if (kt->vec_dot_r4[(int)wt] == nullptr) continue;
      const TypeTraits& tr = traits(wt);
      for (int64_t n = 0; n <= 12 * 32; n += (wt == TensorType::F32 ? 5 : 32)) {
        // Padded row stride, rows not 32-byte aligned (the block structs need only their own 2- or 4-byte alignment).
        const size_t ws = row_bytes(tr, n) + (n % 3) * 4 + 4;
        std::vector<uint8_t> wq(4 * ws + 8);
        for (int j = 0; j < 4; ++j) {
          auto w = random_vec(n, rng);
          if (j == 1 && n > 0) std::fill(w.begin(), w.end(), 0.0f);  // an all-zero row
          if (j == 2 && n > 0) w[0] = 1e30f;                         // an extreme value
          tr.from_float(w.data(), wq.data() + 4 + j * ws, n);
        }
        std::vector<uint8_t> x(act_row_bytes(wt, n) + 8);
        const auto xf = random_vec(n, rng);
        if (act_type_for(wt) == TensorType::Q8_0)
          kt->quantize_q8_0(xf.data(), x.data() + 4, n);
        else if (n > 0)
          std::memcpy(x.data() + 4, xf.data(), (size_t)n * sizeof(float));
        float out[4];
        kt->vec_dot_r4[(int)wt](n, wq.data() + 4, ws, x.data() + 4, out);
        for (int j = 0; j < 4; ++j) {
          const float want = kt->vec_dot[(int)wt](n, wq.data() + 4 + j * ws, x.data() + 4);
          if (std::isnan(want))
            ASSERT_TRUE(std::isnan(out[j]));
          else
            ASSERT_EQ(out[j], want) << kt->name << " " << tr.name << " n=" << n << " row " << j;
        }
        ++checked;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no table with a 4-row kernel on this CPU";
}

}  // namespace
}  // namespace pocket
