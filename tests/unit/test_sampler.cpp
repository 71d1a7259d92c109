#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "sampling/sampler.h"

namespace pocket {
namespace {

TEST(Sampler, GreedyPicksArgmaxLowestIdOnTies) {
  SamplingParams p;
  p.temperature = 0;
  Sampler s(p, 5);
  const float logits[5] = {1, 3, 3, -1, 2};
  EXPECT_EQ(s.sample(logits), 1);
}

TEST(Sampler, SameSeedSameTokens) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 42;
  std::vector<float> logits(50);
  for (int i = 0; i < 50; ++i) logits[i] = std::sin((float)i);
  Sampler a(p, 50), b(p, 50);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.sample(logits.data()), b.sample(logits.data()));
}

TEST(Sampler, DrawsFollowTheSoftmax) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 7;
  const float logits[4] = {0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};  // p = 0.1 .. 0.4
  Sampler s(p, 4);
  const int n = 40000;
  int counts[4] = {};
  for (int i = 0; i < n; ++i) counts[s.sample(logits)]++;
  double chi2 = 0;
  for (int k = 0; k < 4; ++k) {
    const double e = n * (k + 1) / 10.0;
    chi2 += (counts[k] - e) * (counts[k] - e) / e;
  }
  EXPECT_LT(chi2, 16.27);  // chi-square, 3 degrees of freedom, p = 0.001
}

TEST(Sampler, TopKTopPMinPRestrictTheSupport) {
  const float logits[6] = {5, 4, 3, 2, 1, 0};
  auto support = [&](SamplingParams p) {
    p.seed = 3;
    Sampler s(p, 6);
    std::map<int, int> seen;
    for (int i = 0; i < 3000; ++i) seen[s.sample(logits)]++;
    return seen.size();
  };
  SamplingParams p;
  p.temperature = 5.0f;  // flatten so every allowed token shows up
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  EXPECT_EQ(support(p), 6u);
  p.top_k = 2;
  EXPECT_EQ(support(p), 2u);
  p.top_k = 0;
  p.top_p = 0.9f;  // untempered softmax: 0.636, 0.234, 0.086 -> 3 tokens reach 0.9
  EXPECT_EQ(support(p), 3u);
  p.top_p = 1.0f;
  p.min_p = 0.1f;  // keep p >= 0.1 * p_max: logits >= 5 + ln 0.1 = 2.70 -> 3 tokens
  EXPECT_EQ(support(p), 3u);
}

TEST(Sampler, RepetitionPenaltyDiscouragesRepeats) {
  SamplingParams p;
  p.temperature = 0;
  p.repeat_penalty = 2.0f;
  Sampler s(p, 3);
  const float logits[3] = {2.0f, 1.5f, -1.0f};
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(0);
  EXPECT_EQ(s.sample(logits), 1);  // 2.0 / 2 = 1.0 < 1.5
  SamplingParams q;
  q.temperature = 0;
  q.presence_penalty = 1.0f;
  q.frequency_penalty = 0.5f;
  Sampler t(q, 3);
  t.accept(1);
  const float l2[3] = {1.0f, 2.0f, 0.0f};
  EXPECT_EQ(t.sample(l2), 0);  // 2.0 - 0.5 - 1.0 = 0.5 < 1.0
}

TEST(Sampler, ValidateRejectsNonsense) {
  SamplingParams p;
  p.top_p = 0.0f;
  EXPECT_FALSE(p.validate().is_ok());
  p = SamplingParams();
  p.temperature = NAN;
  EXPECT_FALSE(p.validate().is_ok());
  p = SamplingParams();
  p.repeat_penalty = 0.0f;
  EXPECT_FALSE(p.validate().is_ok());
  EXPECT_TRUE(SamplingParams().validate().is_ok());
}

}  // namespace
}  // namespace pocket
