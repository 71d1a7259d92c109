// Paged KV cache: the same logits as the contiguous cache (bit for bit with the reference kernels),
// a shared prompt prefix stored once (blocks counted), copy on write when sequences diverge, rollback
// then re-decode identical, and a clear error when the pool runs out.
#include "kernels/kernel_table.h"
#include "model/forward.h"
#include "model/model_support.h"

namespace pocket {
namespace {

struct Rig {
  std::unique_ptr<Model> model;
  std::unique_ptr<Scratch> scratch;
  ThreadPool pool{2};
  ForwardOptions fo;

  explicit Rig(const KernelTable* kt) {
    auto m = Model::load(test::shared("golden/stories260K-f32.llamacpp.gguf"));  // 8 heads / 4 KV heads
    EXPECT_TRUE(m.is_ok());
    model = std::move(m.value());
    scratch = std::make_unique<Scratch>(model->config(), 32, 128, pool.size());
    fo.kernels = kt;
  }
  KvCacheConfig kv_config(int n_seq) const {
    const ModelConfig& c = model->config();
    KvCacheConfig k;
    k.n_layer = (int)c.n_layer;
    k.n_head_kv = c.n_head_kv;
    k.head_dim = c.head_dim;
    k.n_ctx = 128;
    k.n_seq = n_seq;
    return k;
  }
  // Runs tokens[0..n) of seq from position start, every entry wanting logits.
  std::vector<float> run(KvCache& kv, int seq, int start, const std::vector<int32_t>& tokens) {
    Batch b;
    for (size_t i = 0; i < tokens.size(); ++i) b.add(tokens[i], start + (int)i, seq, true);
    std::vector<float> logits;
    const Status s = forward(*model, b, kv, *scratch, pool, &logits, fo);
    EXPECT_TRUE(s.is_ok()) << s.message();
    return logits;
  }
};

std::vector<int32_t> toks(int n, int salt) {
  std::vector<int32_t> t((size_t)n);
  for (int i = 0; i < n; ++i) t[(size_t)i] = 1 + (i * 37 + salt * 11) % 500;
  return t;
}

TEST(KvPaged, SameLogitsAsContiguous) {
  for (bool ref : {true, false}) {
    Rig rig(ref ? &ref_kernels() : nullptr);
    ContiguousKvCache flat(rig.kv_config(1));
    PagedKvCache paged(rig.kv_config(1), 16, 8);
    const std::vector<int32_t> prompt = toks(45, 1);
    std::vector<float> a = rig.run(flat, 0, 0, prompt), b = rig.run(paged, 0, 0, prompt);
    for (int i = 0; i < 10; ++i) {  // decode steps across a block boundary
      const std::vector<float> x = rig.run(flat, 0, 45 + i, {(int32_t)(7 + i)}), y = rig.run(paged, 0, 45 + i, {(int32_t)(7 + i)});
      a.insert(a.end(), x.begin(), x.end());
      b.insert(b.end(), y.begin(), y.end());
    }
    ASSERT_EQ(a.size(), b.size());
    if (ref) {
      EXPECT_EQ(a, b);  // the reference attention and the paged path share every operation and order
    } else {
      for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4f * (1.0f + std::fabs(a[i]))) << i;
    }
    EXPECT_EQ(paged.blocks_in_use(), 4);  // 55 positions in blocks of 16
  }
}

TEST(KvPaged, SharedPrefixStoredOnceAndCopiedOnWrite) {
  Rig rig(&ref_kernels());
  PagedKvCache paged(rig.kv_config(4), 16, 32);
  const std::vector<int32_t> prompt = toks(40, 2);
  rig.run(paged, 0, 0, prompt);
  EXPECT_EQ(paged.blocks_in_use(), 3);
  for (int s = 1; s < 4; ++s) paged.fork(0, s);
  EXPECT_EQ(paged.blocks_in_use(), 3);  // the prefix is stored once for 4 sequences
  std::vector<std::vector<float>> got(4);
  for (int s = 0; s < 4; ++s) got[(size_t)s] = rig.run(paged, s, 40, {(int32_t)(100 + s)});
  // Each sequence wrote into the shared third block: three of them got a copy, the last owned it.
  EXPECT_EQ(paged.blocks_in_use(), 6);
  EXPECT_EQ(paged.block_table(0)[0], paged.block_table(3)[0]);  // untouched blocks stay shared
  for (int s = 0; s < 4; ++s) {                                 // every branch equals its own single-sequence run
    ContiguousKvCache flat(rig.kv_config(1));
    rig.run(flat, 0, 0, prompt);
    EXPECT_EQ(rig.run(flat, 0, 40, {(int32_t)(100 + s)}), got[(size_t)s]) << s;
  }
}

TEST(KvPaged, RollbackThenRedecodeIsIdentical) {
  Rig rig(&ref_kernels());
  PagedKvCache paged(rig.kv_config(1), 8, 16);
  rig.run(paged, 0, 0, toks(30, 3));
  const std::vector<int32_t> draft = toks(8, 4);
  const std::vector<float> first = rig.run(paged, 0, 30, draft);
  EXPECT_EQ(paged.blocks_in_use(), 5);  // 38 positions in blocks of 8
  paged.truncate(0, 30);
  EXPECT_EQ(paged.blocks_in_use(), 4);  // the block holding only rolled-back positions is free again
  EXPECT_EQ(rig.run(paged, 0, 30, draft), first);
}

TEST(KvPaged, OutOfBlocksIsAnErrorBeforeAnyWork) {
  Rig rig(&ref_kernels());
  PagedKvCache paged(rig.kv_config(1), 16, 2);
  Batch b;
  for (int i = 0; i < 40; ++i) b.add(1 + i, i, 0, false);
  std::vector<float> logits;
  const Status s = forward(*rig.model, b, paged, *rig.scratch, rig.pool, &logits, rig.fo);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("needs 3 more blocks"), std::string::npos) << s.message();
  EXPECT_EQ(paged.seq_len(0), 0);
}

}  // namespace
}  // namespace pocket
