// GPTQ and AWQ on a synthetic linear layer whose inputs have a few loud, correlated channels (as
// real activations do): both must cut the layer's output error ||(W - Q) X||^2 below round-to-nearest.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "quantize/awq.h"
#include "quantize/gptq.h"
#include "quantize/prune.h"

namespace pocket {
namespace {

struct Layer {
  int64_t rows = 64, cols = 256;
  std::vector<float> w;   // [rows, cols]
  std::vector<double> h;  // [cols, cols]
  SiteStats st;
};

Layer make_layer(uint32_t seed) {
  Layer L;
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  L.w.resize((size_t)(L.rows * L.cols));
  for (float& v : L.w) v = 0.05f * nd(rng);
  const int64_t n = 1024;
  std::vector<float> x((size_t)(n * L.cols));
  std::vector<float> mag((size_t)L.cols, 1.0f);
  for (int64_t c = 0; c < L.cols; c += 37) mag[(size_t)c] = 12.0f;  // outlier channels
  for (int64_t t = 0; t < n; ++t) {
    const float common = nd(rng);  // correlation across channels
    for (int64_t c = 0; c < L.cols; ++c) x[(size_t)(t * L.cols + c)] = mag[(size_t)c] * (0.6f * nd(rng) + 0.4f * common);
  }
  L.st.cols = L.cols;
  L.st.n = n;
  L.st.h.assign((size_t)(L.cols * L.cols), 0.0);
  L.st.sum_abs.assign((size_t)L.cols, 0.0);
  for (int64_t t = 0; t < n; ++t) {
    const float* xt = &x[(size_t)(t * L.cols)];
    for (int64_t i = 0; i < L.cols; ++i) {
      L.st.sum_abs[(size_t)i] += std::fabs(xt[i]);
      for (int64_t j = 0; j < L.cols; ++j) L.st.h[(size_t)(i * L.cols + j)] += (double)xt[i] * xt[j];
    }
  }
  L.h = L.st.h;
  return L;
}

std::vector<float> dequant(TensorType t, const std::vector<uint8_t>& bytes, int64_t rows, int64_t cols) {
  std::vector<float> y((size_t)(rows * cols));
  traits(t).to_float(bytes.data(), y.data(), rows * cols);
  return y;
}

double rtn_error(const Layer& L, const GroupCodec& c) {
  std::vector<float> q((size_t)(L.rows * L.cols));
  for (int64_t r = 0; r < L.rows; ++r) c.fake_quantize_row(&L.w[(size_t)(r * L.cols)], &q[(size_t)(r * L.cols)]);
  return output_error(L.w.data(), q.data(), L.rows, L.cols, L.h.data());
}

TEST(Gptq, BeatsRoundToNearestOnCorrelatedInputs) {
  const Layer L = make_layer(1);
  for (TensorType t : {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q8_0}) {
    for (int64_t g : {32, 128}) {
      for (bool act_order : {false, true}) {
        const GroupCodec c = GroupCodec::make(t, g, L.cols).value();
        std::vector<uint8_t> bytes((size_t)L.rows * row_bytes(traits(t), L.cols));
        GptqOptions o;
        o.act_order = act_order;
        o.n_threads = 2;
        ASSERT_TRUE(gptq_quantize(c, L.w.data(), L.rows, L.h.data(), o, bytes.data()).is_ok());
        const double e_gptq = output_error(L.w.data(), dequant(t, bytes, L.rows, L.cols).data(), L.rows, L.cols, L.h.data());
        const double e_rtn = rtn_error(L, c);
        EXPECT_LT(e_gptq, 0.7 * e_rtn) << traits(t).name << " g" << g << " act_order " << act_order;
      }
    }
  }
}

TEST(Gptq, ReducesToRoundToNearestWhenInputsAreWhite) {
  // H = I: no correlation to exploit, so GPTQ's updates vanish and it is RTN, byte for byte.
  Layer L = make_layer(2);
  std::fill(L.h.begin(), L.h.end(), 0.0);
  for (int64_t i = 0; i < L.cols; ++i) L.h[(size_t)(i * L.cols + i)] = 1.0;
  const GroupCodec c = GroupCodec::make(TensorType::Q4_0, 32, L.cols).value();
  const size_t rb = row_bytes(traits(TensorType::Q4_0), L.cols);
  std::vector<uint8_t> g((size_t)L.rows * rb), r((size_t)L.rows * rb);
  GptqOptions o;
  o.clip_grid = 0;
  ASSERT_TRUE(gptq_quantize(c, L.w.data(), L.rows, L.h.data(), o, g.data()).is_ok());
  for (int64_t row = 0; row < L.rows; ++row) c.quantize_row(&L.w[(size_t)(row * L.cols)], r.data() + (size_t)row * rb);
  EXPECT_EQ(g, r);
}

TEST(Gptq, DeadInputsAndSingularHessian) {
  Layer L = make_layer(3);
  std::fill(L.h.begin(), L.h.end(), 0.0);  // nothing ever reached this layer
  const GroupCodec c = GroupCodec::make(TensorType::Q8_0, 32, L.cols).value();
  std::vector<uint8_t> bytes((size_t)L.rows * row_bytes(traits(TensorType::Q8_0), L.cols));
  ASSERT_TRUE(gptq_quantize(c, L.w.data(), L.rows, L.h.data(), GptqOptions{}, bytes.data()).is_ok());
  for (float v : dequant(TensorType::Q8_0, bytes, L.rows, L.cols)) EXPECT_EQ(v, 0.0f);
}

TEST(Awq, ScalesAndClippingBeatRoundToNearest) {
  const Layer L = make_layer(4);
  const GroupCodec c = GroupCodec::make(TensorType::Q4_0, 32, L.cols).value();
  AwqOptions o;
  const AwqSiteResult r = awq_search_scale({L.w.data()}, {L.rows}, {&c}, L.st, o);
  EXPECT_NEAR(r.err_rtn, rtn_error(L, c), 1e-6 * r.err_rtn);
  EXPECT_LT(r.err_awq, 0.9 * r.err_rtn);
  EXPECT_GT(r.alpha, 0.0);
  // The scaled weights with the inverse scale folded into the inputs compute the same function, and
  // their rounding error (measured in the original space) is what the search reported.
  std::vector<float> ws(L.w.size()), q(L.w.size());
  for (size_t i = 0; i < ws.size(); ++i) ws[i] = L.w[i] * r.s[i % (size_t)L.cols];
  for (int64_t row = 0; row < L.rows; ++row) c.fake_quantize_row(&ws[(size_t)(row * L.cols)], &q[(size_t)(row * L.cols)]);
  for (size_t i = 0; i < q.size(); ++i) q[i] /= r.s[i % (size_t)L.cols];
  EXPECT_NEAR(output_error(L.w.data(), q.data(), L.rows, L.cols, L.h.data()), r.err_awq, 1e-3 * r.err_awq);
  // Clipping never makes the per-group error worse than no clipping.
  const std::vector<float> clips = awq_search_clip(c, L.w.data(), L.rows, L.h, o);
  ASSERT_EQ(clips.size(), (size_t)(L.rows * c.n_groups()));
  std::vector<float> qc(L.w.size());
  for (int64_t row = 0; row < L.rows; ++row)
    c.fake_quantize_row(&L.w[(size_t)(row * L.cols)], &qc[(size_t)(row * L.cols)], &clips[(size_t)(row * c.n_groups())]);
  EXPECT_LT(output_error(L.w.data(), qc.data(), L.rows, L.cols, L.h.data()), rtn_error(L, c));
}

TEST(Prune, TwoOfFourAndUnstructured) {
  std::vector<float> w = {4, -1, 3, 2, /**/ 0.1f, 0.2f, -0.3f, 0.4f, /**/ 1, 1, 1, 1, /**/ NAN, 5, 6, 7};
  std::vector<float> m = w;
  PruneOptions o;
  o.method = PruneMethod::kMagnitude;
  o.pattern = PrunePattern::k2of4;
  prune_matrix(m.data(), 1, 16, nullptr, o);
  const std::vector<float> want = {4, 0, 3, 0, 0, 0, -0.3f, 0.4f, 0, 0, 1, 1, 0, 0, 6, 7};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(m[i], want[i]) << i;
  // Wanda: a loud input channel keeps its small weight.
  std::vector<float> wa = {0.1f, 1.0f, 1.0f, 1.0f};
  const double x_sq[4] = {10000.0, 1.0, 1.0, 1.0};
  o.method = PruneMethod::kWanda;
  prune_matrix(wa.data(), 1, 4, x_sq, o);
  EXPECT_EQ(wa[0], 0.1f);
  EXPECT_EQ((wa[1] == 0) + (wa[2] == 0) + (wa[3] == 0), 2);
  // Unstructured: exactly floor(sparsity * cols) per row.
  std::vector<float> u(3 * 10);
  for (size_t i = 0; i < u.size(); ++i) u[i] = (float)(i % 7) - 3.0f + 0.01f * (float)i;
  o.method = PruneMethod::kMagnitude;
  o.pattern = PrunePattern::kUnstructured;
  o.sparsity = 0.5;
  prune_matrix(u.data(), 3, 10, nullptr, o);
  for (int r = 0; r < 3; ++r) {
    int zeros = 0;
    for (int c = 0; c < 10; ++c) zeros += u[(size_t)(r * 10 + c)] == 0.0f;
    EXPECT_EQ(zeros, 5);
  }
}

}  // namespace
}  // namespace pocket
