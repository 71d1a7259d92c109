// KV cache types on real weights: f16/q8 caches keep stories15M's greedy text; the accounting equals
// the formula 2 x n_layer x n_head_kv x d_head x T x bytes (scales reported apart); a q8 cache costs
// (almost) no perplexity; the GQA model (stories260K, 8 heads / 4 KV heads) stores 4 heads per row.
#include "eval/perplexity.h"
#include "model/model_support.h"

namespace pocket {
namespace {

std::unique_ptr<Engine> load_kv(const std::string& path, KvType t, int n_ctx = 0) {
  EngineOptions o;
  o.n_threads = 2;
  o.max_batch = 256;
  o.n_ctx = n_ctx;
  o.kv_k_type = o.kv_v_type = t;
  auto e = Engine::load(path, o);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return e.is_ok() ? std::move(e.value()) : nullptr;
}

std::vector<int32_t> greedy(Engine& e, const std::string& prompt, int n) {
  GenerateOptions go;
  go.n_predict = n;
  go.sampling.temperature = 0.0f;
  std::vector<int32_t> ids;
  auto r = e.generate(
      prompt, go, [](const std::string&) { return true; }, &ids);
  EXPECT_TRUE(r.is_ok());
  return ids;
}

TEST(KvTypes, F16AndQ8KeepTheGreedyText) {
  const std::string m = test::shared("golden/stories15M-f32.llamacpp.gguf");
  const std::vector<int32_t> want = greedy(*load_kv(m, KvType::kF32), "Once upon a time", 40);
  ASSERT_EQ(want.size(), 40u);
  EXPECT_EQ(greedy(*load_kv(m, KvType::kF16), "Once upon a time", 40), want);
  EXPECT_EQ(greedy(*load_kv(m, KvType::kQ8), "Once upon a time", 40), want);
  EXPECT_EQ(greedy(*load_kv(m, KvType::kQ4), "Once upon a time", 40).size(), 40u);  // runs; its cost is in the perplexity table
}

TEST(KvTypes, BytesFollowTheFormula) {
  const std::string m = test::shared("golden/stories260K-f32.llamacpp.gguf");
  for (KvType t : {KvType::kF32, KvType::kF16, KvType::kQ8, KvType::kQ4}) {
    auto e = load_kv(m, t, 100);
    const ModelConfig& c = e->model().config();
    ASSERT_EQ(c.n_head_kv, 4);  // GQA: the cache holds 4 heads, not 8
    const double bytes_per_value = t == KvType::kF32 ? 4 : t == KvType::kF16 ? 2 : t == KvType::kQ8 ? 1 : 0.5;
    EXPECT_EQ((double)e->kv().data_bytes(), 2.0 * c.n_layer * c.n_head_kv * c.head_dim * 100 * bytes_per_value) << kv_type_name(t);
    const double scales = (t == KvType::kQ8 || t == KvType::kQ4) ? 2.0 * c.n_layer * 100 * (c.n_head_kv * c.head_dim / kv_group(c.head_dim)) * 2 : 0;
    EXPECT_EQ((double)e->kv().scale_bytes(), scales);
    EXPECT_FALSE(greedy(*e, "", 20).empty());
  }
  // The examples: a 7B model (32 layers, 32 heads of 128) at T = 2048.
  KvCacheConfig c7;
  c7.n_layer = 32;
  c7.n_head_kv = 32;
  c7.head_dim = 128;
  c7.n_ctx = 2048;
  size_t data = 0, sc = 0;
  c7.k_type = c7.v_type = KvType::kF16;
  kv_cache_bytes(c7, &data, &sc);
  EXPECT_EQ(data, 1073741824u);  // 1.07 GB
  c7.k_type = c7.v_type = KvType::kQ8;
  kv_cache_bytes(c7, &data, &sc);
  EXPECT_EQ(data, 536870912u);  // 536 MB, plus one fp16 scale per 32 values:
  EXPECT_EQ(sc, 536870912u / 16);
}

TEST(KvTypes, Q8CacheCostsAlmostNoPerplexity) {
  const std::string m = test::shared("golden/stories15M-f32.llamacpp.gguf");
  auto q = load_kv(m, KvType::kQ8), f = load_kv(m, KvType::kF32);
  PerplexityOptions o;
  o.n_chunks = test::quick() ? 1 : 8;
  auto r = compute_perplexity(*q, test::read_file(test::shared("data/stories-eval.txt")), o, f.get());
  ASSERT_TRUE(r.is_ok());
  const PerplexityResult& p = r.value();
  EXPECT_LT(p.kld_mean, 0.001);
  EXPECT_LE(std::fabs(p.delta_ppl()), 0.0005 * p.base_ppl + 3 * p.delta_ppl_err());
}

}  // namespace
}  // namespace pocket
