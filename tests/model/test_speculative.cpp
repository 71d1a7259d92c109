// Speculative decoding: greedy output identical to plain greedy decoding for every drafter, draft
// length and thread count; speculative sampling leaves the target's distribution unchanged
// (chi-square against the exact target probabilities); rollback leaves the cache as if only the kept
// tokens had been evaluated; a different vocabulary is refused; drafters and the adaptive controller.
#include <cmath>
#include <map>

#include "speculative/draft_control.h"
#include "speculative/speculative.h"
#include "model/model_support.h"

namespace pocket {
namespace {

const std::string k15 = "golden/stories15M-f32.llamacpp.gguf";
const std::string k15q4 = "golden/stories15M-q4_0.llamacpp.gguf";
const std::string k260 = "golden/stories260K-f32.llamacpp.gguf";
// Under the sanitizers (POCKET_SANITIZE=1) the suite runs smaller versions of the slow tests.

std::vector<int32_t> plain_greedy(Engine& e, const std::vector<int32_t>& prompt, int n) {
  GenerateOptions go;
  go.n_predict = n;
  go.sampling.temperature = 0;
  go.stop_on_bos = false;
  std::vector<int32_t> ids;
  auto st = e.generate_tokens(prompt, go, nullptr, &ids);
  EXPECT_TRUE(st.is_ok()) << st.status().message();
  return ids;
}

std::vector<int32_t> spec_greedy(Engine& e, Drafter& d, const std::vector<int32_t>& prompt, int n, const SpeculativeOptions& so,
                                 SpeculativeStats* ss = nullptr) {
  GenerateOptions go;
  go.n_predict = n;
  go.sampling.temperature = 0;
  go.stop_on_bos = false;
  std::vector<int32_t> ids;
  auto st = generate_speculative(e, d, prompt, go, so, nullptr, &ids, ss);
  EXPECT_TRUE(st.is_ok()) << st.status().message();
  return ids;
}

std::unique_ptr<Drafter> drafter_for(const std::string& mode, const std::string& target_path, Engine& target) {
  DraftSpec ds;
  if (mode == "q4_0 file")
    ds.model = test::shared(k15q4);
  else if (mode == "lookup")
    ds.lookup = true;
  else if (mode == "layers")
    ds.self_layers = 1;
  else if (mode == "self q8_0")
    ds.self_type = "q8_0";
  else if (mode == "self q4_0")
    ds.self_type = "q4_0";
  else if (mode == "layers 3")
    ds.self_layers = 3;
  else if (mode == "layers 3, 128-token draft vocabulary") {
    ds.self_layers = 3;
    ds.vocab = 128;
    ds.vocab_text = test::shared("data/stories-calib.txt");
  } else if (mode == "self q8_0, 1024-token draft vocabulary") {
    ds.self_type = "q8_0";
    ds.vocab = 1024;
    ds.vocab_text = test::shared("data/stories-calib.txt");
  }
  EngineOptions eo;
  auto d = make_drafter(ds, target_path, target, eo);
  EXPECT_TRUE(d.is_ok()) << mode << ": " << d.status().message();
  return d.is_ok() ? std::move(d.value()) : nullptr;
}

TEST(Speculative, GreedyOutputEqualsPlainGreedy) {
  const std::string path = test::shared(test::quick() ? k260 : k15);
  const int n = 40;
  for (int threads : {1, 2}) {
    auto target = test::load_engine(path, threads);
    ASSERT_TRUE(target);
    const std::vector<std::string> prompts = {"The little dog was very happy because", "Tom and Sam went to the park. Tom and Sam"};
    for (const std::string mode : {"q4_0 file", "lookup", "layers", "self q8_0", "self q8_0, 1024-token draft vocabulary"}) {
      if (test::quick() && mode == "q4_0 file") continue;  // a stories15M file
      auto drafter = drafter_for(mode, path, *target);
      ASSERT_TRUE(drafter);
      for (const std::string& p : prompts) {
        const std::vector<int32_t> prompt = target->tokenizer().encode(p, true, false);
        const std::vector<int32_t> want = plain_greedy(*target, prompt, n);
        for (int k : {1, 3, 8}) {
          for (bool adaptive : {false, true}) {
            if (threads == 2 && (k != 3 || adaptive)) continue;  // thread coverage without doubling the time
            SpeculativeOptions so;
            so.draft_max = k;
            so.adaptive = adaptive;
            SpeculativeStats ss;
            EXPECT_EQ(spec_greedy(*target, *drafter, prompt, n, so, &ss), want)
                << mode << " k=" << k << " adaptive=" << adaptive << " threads=" << threads << " prompt '" << p << "'";
            if (!adaptive && mode != "lookup") { EXPECT_GT(ss.drafted, 0) << mode; }
          }
        }
      }
    }
  }
}

TEST(Speculative, DraftsAreAcceptedAndSaveTargetPasses) {
  const std::string path = test::shared(k15);
  auto target = test::load_engine(path);
  ASSERT_TRUE(target);
  auto drafter = drafter_for("q4_0 file", path, *target);
  const std::vector<int32_t> prompt = target->tokenizer().encode("The little dog was very happy because", true, false);
  SpeculativeOptions so;
  so.adaptive = false;
  so.draft_max = 4;
  SpeculativeStats ss;
  spec_greedy(*target, *drafter, prompt, 100, so, &ss);
  // A Q4_0 copy agrees with its F32 original most of the time: far fewer target passes than tokens.
  EXPECT_GT(ss.acceptance(), 0.5);
  EXPECT_LT(ss.rounds, 60);
  EXPECT_NEAR(ss.tokens_per_verification(), (double)(ss.accepted + ss.verifications) / ss.verifications, 1e-12);
}

TEST(Speculative, RollbackLeavesTheCacheOfTheKeptTokens) {
  const std::string path = test::shared(k260);
  auto target = test::load_engine(path);
  auto fresh = test::load_engine(path);
  ASSERT_TRUE(target && fresh);
  auto drafter = drafter_for("layers", path, *target);  // a weak draft: many rejections and rollbacks
  const std::vector<int32_t> prompt = target->tokenizer().encode("Once upon a time", true, false);
  SpeculativeOptions so;
  so.adaptive = false;
  so.draft_max = 6;
  SpeculativeStats ss;
  const std::vector<int32_t> out = spec_greedy(*target, *drafter, prompt, 40, so, &ss);
  ASSERT_EQ(out.size(), 40u);
  ASSERT_GT(ss.drafted, ss.accepted);  // there were rejections
  // The cache holds the prompt and every generated token but the last (still pending).
  EXPECT_EQ(target->kv().seq_len(0), (int)(prompt.size() + out.size() - 1));
  // Continuing from it gives the logits a fresh evaluation of the whole sequence gives.
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), out.begin(), out.end());
  Batch b;
  b.add(all.back(), (int32_t)all.size() - 1, 0, true);
  std::vector<float> cont;
  ASSERT_TRUE(target->eval(b, &cont).is_ok());
  const std::vector<float> ref = test::all_logits(*fresh, all);
  const int64_t nv = target->model().config().n_vocab;
  for (int64_t i = 0; i < nv; ++i) ASSERT_NEAR(cont[(size_t)i], ref[(all.size() - 1) * (size_t)nv + (size_t)i], 1e-4f) << i;
}

TEST(Speculative, VocabularyMismatchIsAnError) {
  auto target = test::load_engine(test::shared(k15));
  ASSERT_TRUE(target);
  DraftSpec ds;
  ds.model = test::shared(k260);
  auto d = make_drafter(ds, test::shared(k15), *target, EngineOptions{});
  ASSERT_FALSE(d.is_ok());
  EXPECT_NE(d.status().message().find("same vocabulary"), std::string::npos) << d.status().message();
  EXPECT_NE(d.status().message().find("stories260K"), std::string::npos) << d.status().message();
  DraftSpec two;
  two.lookup = true;
  two.self_layers = 2;
  EXPECT_FALSE(make_drafter(two, test::shared(k15), *target, EngineOptions{}).is_ok());
}

// Upper critical value of chi-square with df degrees of freedom at p = 0.001 (Wilson-Hilferty).
double chi2_critical(int df) {
  const double z = 3.0902, a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

std::vector<double> softmax_row(const float* x, int64_t n) {
  std::vector<double> p((size_t)n);
  const float mx = *std::max_element(x, x + n);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += (p[(size_t)i] = std::exp((double)(x[i] - mx)));
  for (double& v : p) v /= s;
  return p;
}

// Chi-square statistic of observed counts against probabilities p (bins with expectation < 5 merged).
double chi2(const std::map<int32_t, int>& counts, const std::vector<double>& p, int total, int* df) {
  double stat = 0, rest_e = 0;
  int rest_o = 0, bins = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double e = p[i] * total;
    auto it = counts.find((int32_t)i);
    const int o = it == counts.end() ? 0 : it->second;
    if (e >= 5) {
      stat += (o - e) * (o - e) / e;
      ++bins;
    } else {
      rest_e += e;
      rest_o += o;
    }
  }
  if (rest_e > 0) {
    stat += (rest_o - rest_e) * (rest_o - rest_e) / std::max(rest_e, 1e-9);
    ++bins;
  }
  *df = bins - 1;
  return stat;
}

TEST(Speculative, SamplingKeepsTheTargetDistribution) {
  const std::string path = test::shared(k260);
  auto target = test::load_engine(path);
  ASSERT_TRUE(target);
  const int64_t nv = target->model().config().n_vocab;
  const std::vector<int32_t> prompt =
      target->tokenizer().encode("Once upon a time, there was a little girl. Once upon a time, there was a", true, false);
  // The target's first token is from a plain step; the second is the first one speculated. Condition on
  // the most likely first token t1 and compare the second against p(. | prompt, t1).
  std::vector<int32_t> ctx = prompt;
  const std::vector<float> l1 = test::all_logits(*target, ctx);
  const int32_t t1 = test::argmax(l1.data() + (ctx.size() - 1) * (size_t)nv, nv);
  ctx.push_back(t1);
  const std::vector<float> l2 = test::all_logits(*target, ctx);
  const std::vector<double> p2 = softmax_row(l2.data() + (ctx.size() - 1) * (size_t)nv, nv);

  for (const std::string mode : {"self q4_0", "layers 3", "lookup", "layers 3, 128-token draft vocabulary"}) {
    auto drafter = drafter_for(mode, path, *target);
    ASSERT_TRUE(drafter);
    GenerateOptions go;
    go.n_predict = 3;  // round 1: a plain step; round 2 drafts one token for position 2
    go.stop_on_bos = false;
    go.sampling.temperature = 1.0f;
    go.sampling.top_k = 0;
    go.sampling.top_p = 1.0f;
    go.sampling.min_p = 0.0f;
    SpeculativeOptions so;
    so.adaptive = false;
    so.draft_max = 2;
    std::map<int32_t, int> counts;
    int total = 0, drafted_rounds = 0, accepted = 0;
    const int n_samples = test::quick() ? 2500 : 6000;
    for (int s = 0; s < n_samples; ++s) {
      go.sampling.seed = (uint64_t)s * 7919u + 1;
      std::vector<int32_t> ids;
      SpeculativeStats ss;
      ASSERT_TRUE(generate_speculative(*target, *drafter, prompt, go, so, nullptr, &ids, &ss).is_ok());
      if (ids.size() >= 2 && ids[0] == t1) {
        drafted_rounds += ss.verifications;
        accepted += (int)ss.accepted;
        ++counts[ids[1]];
        ++total;
      }
    }
    ASSERT_GT(total, n_samples / 10) << mode;
    // The test means something only if drafts are proposed and both paths (keep the draft; draw from the
    // residual max(0, p - q)) are taken often.
    EXPECT_GT(drafted_rounds, total * 9 / 10) << mode << ": the drafter must propose";
    EXPECT_GT(accepted, drafted_rounds / 5) << mode;
    EXPECT_LT(accepted, drafted_rounds * 19 / 20) << mode;
    int df = 0;
    const double stat = chi2(counts, p2, total, &df);
    std::printf("%s: chi-square %.1f, %d degrees of freedom (critical %.1f), %d samples, %d drafts accepted\n", mode.c_str(), stat, df,
                chi2_critical(df), total, accepted);
    EXPECT_LT(stat, chi2_critical(df)) << mode << ": chi-square " << stat << " with " << df << " degrees of freedom over " << total << " samples";
  }
}

TEST(Speculative, PromptLookupProposesWhatFollowedTheLastMatch) {
  PromptLookupDrafter d(3, 1);
  Draft out;
  ASSERT_TRUE(d.propose({5, 1, 2, 3, 4, 9, 1, 2}, 3, &out).is_ok());
  EXPECT_EQ(out.tokens, (std::vector<int32_t>{3, 4, 9}));
  ASSERT_TRUE(d.propose({7, 8, 9}, 4, &out).is_ok());
  EXPECT_TRUE(out.tokens.empty());
  // The longest n-gram wins over a more recent shorter match.
  ASSERT_TRUE(d.propose({1, 2, 3, 50, 9, 3, 60, 1, 2, 3}, 1, &out).is_ok());
  EXPECT_EQ(out.tokens, (std::vector<int32_t>{50}));
}

TEST(Speculative, ControllerSwitchesOffWhenDraftsFailAndBackOnWhenTheyWork) {
  DraftController c(8, true, false, 16);
  // Target passes cost 10 ms (+0.5 ms per extra position), draft tokens 3 ms; rounds take exactly that.
  auto round = [&](int acc_rate_pct) {
    const int k = c.choose(8);
    const int accepted = k * acc_rate_pct / 100;
    const double draft = 0.003 * k, verify = 0.010 + 0.0005 * k;
    c.record(k, accepted, draft, k, k + 1, verify, draft + verify, accepted + 1);
    return k;
  };
  for (int i = 0; i < 40; ++i) round(0);
  EXPECT_FALSE(c.speculating());
  int speculative_rounds = 0;
  for (int i = 0; i < 64; ++i) speculative_rounds += round(0) > 0 ? 1 : 0;
  EXPECT_LE(speculative_rounds, 3);  // only the periodic probes, at growing intervals (16, 32, 64)
  EXPECT_GT(c.speculative_token_seconds(), c.plain_token_seconds());
  for (int i = 0; i < 200; ++i) round(100);  // the next probe comes within 16 x 2^k rounds
  EXPECT_TRUE(c.speculating());
  EXPECT_LT(c.speculative_token_seconds(), c.plain_token_seconds());
  EXPECT_GE(c.choose(8), 4);  // a perfect, cheap draft: long drafts
  // Drafts that are accepted but cost more than they save in practice (the model's estimate is
  // optimistic: rounds take twice what it predicts) are switched off by the measured cost.
  DraftController m(4, true, false, 16);
  for (int i = 0; i < 60; ++i) {
    const int k = m.choose(4);
    const double verify = 0.010 + 0.0005 * k, draft = 0.003 * k;
    m.record(k, k / 2, draft, k, k + 1, verify, k > 0 ? 3 * (draft + verify) : verify, k / 2 + 1);
  }
  EXPECT_FALSE(m.speculating());
  DraftController fixed(5, false, false);
  EXPECT_EQ(fixed.choose(8), 5);
  EXPECT_EQ(fixed.choose(2), 2);
}

}  // namespace
}  // namespace pocket
