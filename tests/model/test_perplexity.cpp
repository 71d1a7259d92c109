// Perplexity against llama-perplexity's numbers in ../shared/golden/perplexity.md (same method, same
// file). Under sanitizers (POCKET_SANITIZE=1) only a few chunks run: the full numbers are checked in
// the normal build, the sanitizer run checks memory safety of the same code.
#include <cmath>

#include "eval/perplexity.h"
#include "model/model_support.h"

namespace pocket {
namespace {

TEST(Perplexity, Stories15MF32MatchesLlamaCpp) {
  auto e = test::load_engine(test::shared("golden/stories15M-f32.llamacpp.gguf"), 2, 256);
  const std::string text = test::read_file(test::shared("data/stories-eval.txt"));
  PerplexityOptions o;
  if (test::quick()) o.n_chunks = 3;
  auto r = compute_perplexity(*e, text, o);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r.value().n_scored, (int64_t)r.value().n_chunks * 127);
  if (test::quick()) return;
  // llama.cpp with an F32 KV cache: 4.2897 +/- 0.07829 over 116 chunks of 256.
  EXPECT_EQ(r.value().n_chunks, 116);
  EXPECT_NEAR(r.value().ppl, 4.2897, 0.0005);
  EXPECT_NEAR(r.value().ppl_err, 0.07829, 0.0001);
}

TEST(Perplexity, Q4_0WithKlDivergenceAgainstF32) {
  auto q = test::load_engine(test::shared("golden/stories15M-q4_0.llamacpp.gguf"), 2, 256);
  auto f = test::load_engine(test::shared("golden/stories15M-f32.llamacpp.gguf"), 2, 256);
  const std::string text = test::read_file(test::shared("data/stories-eval.txt"));
  PerplexityOptions o;
  if (test::quick()) o.n_chunks = 2;
  auto r = compute_perplexity(*q, text, o, f.get());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const PerplexityResult& p = r.value();
  EXPECT_TRUE(p.has_base);
  EXPECT_GT(p.kld_mean, 0.0);
  if (test::quick()) return;
  // llama.cpp (F16 KV cache, base log-probs stored in 16 bits): PPL 4.8046, mean KLD 0.1234 +/- 0.0013,
  // same top token 83.45 +/- 0.31 %. Our F32 KV cache and exact base shift these slightly.
  std::printf("[ q4_0 ] ppl %.4f +/- %.5f, base %.4f, KLD %.5f +/- %.5f, same top %.2f %%\n", p.ppl, p.ppl_err, p.base_ppl, p.kld_mean, p.kld_err,
              100 * p.same_top);
  EXPECT_NEAR(p.ppl, 4.8046, 0.005);
  EXPECT_NEAR(p.base_ppl, 4.2897, 0.0005);
  EXPECT_NEAR(p.kld_mean, 0.1234, 0.004);
  EXPECT_NEAR(p.same_top, 0.8345, 0.01);
}

TEST(Perplexity, TextShorterThanOneChunkIsAnError) {
  auto e = test::load_engine(test::shared("golden/stories260K-f32.llamacpp.gguf"), 1, 64, 128);
  auto r = compute_perplexity(*e, "Once upon a time", PerplexityOptions{});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("fewer than one chunk of 128"), std::string::npos);
}

}  // namespace
}  // namespace pocket
