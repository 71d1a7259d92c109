// Attention over a quantized KV cache (f16/q8/q4 rows decoded on the fly) on every kernel table:
// (1) with f32 rows it equals the f32 attention kernel; (2) every table agrees with the reference
// table on the same quantized rows; (3) against exact f32 attention the error stays within the bound
// derived from the rounding of K and V (below).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/kernel_support.h"
#include "dtype/kv_row.h"

namespace pocket {
namespace {

// A cache of n_pos rows of kv_dim values (n_head_kv heads of hd) encoded in one type.
struct Rows {
  std::vector<uint8_t> data;
  std::vector<uint16_t> scales;
  std::vector<float> decoded;  // what the encoding represents, [n_pos, kv_dim]
  KvHeadRows head(KvType t, int64_t g, int64_t hd, int64_t kv_dim, int64_t group) const {
    KvHeadRows r{t,    data.data(), kv_row_data_bytes(t, kv_dim), scales.empty() ? nullptr : scales.data(), (size_t)kv_row_scales(t, kv_dim, group),
                 group};
    r.data += kv_row_data_bytes(t, g * hd);
    if (r.scales) r.scales += g * hd / group;
    return r;
  }
};

Rows encode(KvType t, const std::vector<float>& x, int n_pos, int64_t kv_dim, int64_t group) {
  Rows r;
  const size_t rb = kv_row_data_bytes(t, kv_dim);
  const int64_t ns = kv_row_scales(t, kv_dim, group);
  r.data.resize(rb * n_pos);
  r.scales.resize((size_t)(ns * n_pos));
  r.decoded.resize(x.size());
  for (int p = 0; p < n_pos; ++p) {
    kv_encode_row(t, &x[(size_t)p * kv_dim], kv_dim, group, &r.data[p * rb], r.scales.data() + p * ns);
    kv_decode(t, &r.data[p * rb], r.scales.data() + p * ns, 0, kv_dim, group, &r.decoded[(size_t)p * kv_dim]);
  }
  return r;
}

TEST(KvAttention, QuantizedCacheWithinDerivedBound) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int64_t hd : {32, 48, 64, 128}) {
    const int64_t n_head_kv = 3, kv_dim = hd * n_head_kv, group = kv_group(hd);
    for (int n_pos : {1, 5, 33, 200}) {
      std::vector<float> k((size_t)(n_pos * kv_dim)), v(k.size()), q((size_t)hd);
      for (float& x : k) x = 2.0f * nd(rng);
      for (float& x : v) x = nd(rng);
      for (float& x : q) x = nd(rng);
      if (n_pos > 1) k[(size_t)kv_dim + 1] = 30.0f;  // an outlier that sets its group's scale
      const float scale = 1.0f / std::sqrt((float)hd);
      for (KvType t : {KvType::kF32, KvType::kF16, KvType::kQ8, KvType::kQ4}) {
        const Rows kr = encode(t, k, n_pos, kv_dim, group), vr = encode(t, v, n_pos, kv_dim, group);
        const Rows kf = encode(KvType::kF32, k, n_pos, kv_dim, group), vf = encode(KvType::kF32, v, n_pos, kv_dim, group);
        for (int64_t g = 0; g < n_head_kv; ++g) {
          std::vector<float> exact((size_t)hd), ref((size_t)hd), got((size_t)hd), sc((size_t)n_pos);
          const KernelTable& R = ref_kernels();
          R.attn_head_kv(q.data(), kf.head(KvType::kF32, g, hd, kv_dim, group), vf.head(KvType::kF32, g, hd, kv_dim, group), n_pos, hd, scale,
                         exact.data(), sc.data());
          R.attn_head_kv(q.data(), kr.head(t, g, hd, kv_dim, group), vr.head(t, g, hd, kv_dim, group), n_pos, hd, scale, ref.data(), sc.data());
          if (t == KvType::kF32) {  // the generic kernel on f32 rows is the f32 kernel
            std::vector<float> f((size_t)hd);
            R.attn_head_f32(q.data(), k.data() + g * hd, v.data() + g * hd, kv_dim, n_pos, hd, scale, f.data(), sc.data());
            for (int64_t i = 0; i < hd; ++i) ASSERT_EQ(f[(size_t)i], ref[(size_t)i]);
          }
          // Bound: with |dk| <= ek and |dv| <= ev per element, each score moves by at most
          // e = scale * sum|q| * ek, the softmax weights by a factor within e^(+-2e), so
          // |out - exact| <= ev + max|v| * (e^(2e) - 1) (+ float rounding).
          double ek = 0, ev = 0, vmax = 0, q1 = 0;
          for (int p = 0; p < n_pos; ++p)
            for (int64_t i = 0; i < hd; ++i) {
              const size_t j = (size_t)(p * kv_dim + g * hd + i);
              ek = std::max(ek, (double)std::fabs(kr.decoded[j] - k[j]));
              ev = std::max(ev, (double)std::fabs(vr.decoded[j] - v[j]));
              vmax = std::max(vmax, (double)std::fabs(v[j]));
            }
          for (float x : q) q1 += std::fabs(x);
          const double e = scale * q1 * ek;
          const double bound = ev + vmax * (std::exp(2 * e) - 1) + 1e-4;
          for (int64_t i = 0; i < hd; ++i)
            ASSERT_LE(std::fabs(ref[(size_t)i] - exact[(size_t)i]), bound) << kv_type_name(t) << " hd=" << hd << " n=" << n_pos;
          // Every table agrees with the reference on the same rows (summation order only).
          for (const KernelTable* kt : test::kernel_tables()) {
            kt->attn_head_kv(q.data(), kr.head(t, g, hd, kv_dim, group), vr.head(t, g, hd, kv_dim, group), n_pos, hd, scale, got.data(), sc.data());
            const float tol = 8.0f * (float)(hd + n_pos) * std::numeric_limits<float>::epsilon() * 4.0f;
            for (int64_t i = 0; i < hd; ++i) ASSERT_NEAR(got[(size_t)i], ref[(size_t)i], tol) << kt->name << " " << kv_type_name(t);
          }
        }
      }
    }
  }
}

TEST(KvAttention, RowEncodingEdgeCases) {
  const int64_t kv_dim = 64, group = 32;
  std::vector<float> x((size_t)kv_dim, 0.0f);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  x[40] = -1e30f;
  for (KvType t : {KvType::kQ8, KvType::kQ4}) {
    std::vector<uint8_t> d(kv_row_data_bytes(t, kv_dim));
    std::vector<uint16_t> s((size_t)kv_row_scales(t, kv_dim, group));
    std::vector<float> y((size_t)kv_dim);
    kv_encode_row(t, x.data(), kv_dim, group, d.data(), s.data());
    kv_decode(t, d.data(), s.data(), 0, kv_dim, group, y.data());
    for (int64_t i = 0; i < 32; ++i) EXPECT_EQ(y[(size_t)i], 0.0f) << i;  // all-zero group (NaN codes as 0)
    EXPECT_TRUE(std::isfinite(y[40]));                                    // fp16 scale saturates, never NaN
  }
  EXPECT_EQ(kv_row_data_bytes(KvType::kQ4, 64), 32u);
  EXPECT_EQ(kv_row_scales(KvType::kQ8, 96, 48), 2);
  EXPECT_EQ(kv_type_from_name("q8"), KvType::kQ8);
  EXPECT_FALSE(kv_type_from_name("q5").has_value());
}

}  // namespace
}  // namespace pocket
