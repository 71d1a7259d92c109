// The decode kernel variant (single-row vec_dot or 4-row vec_dot_r4, kernels/kernel_choice) changes
// speed only: forcing either gives bit-identical logits through a whole model, for prompt tails (tokens
// outside groups of 4) and decode steps, with 1 and 2 threads, in every kernel table this CPU runs.
#include <cstring>

#include "kernels/kernel_choice.h"
#include "kernels/kernel_support.h"
#include "model/model_support.h"

namespace pocket {
namespace {

TEST(DecodeVariants, SingleAndMultiRowGiveBitIdenticalLogits) {
  int compared = 0;
  for (const char* f : {"golden/stories15M-q8_0.llamacpp.gguf", "golden/stories15M-q4_0.llamacpp.gguf"}) {
    for (int threads : {1, 2}) {
      auto e = test::load_engine(test::shared(f), threads);
      ASSERT_NE(e, nullptr);
      const TensorType wt = e->model().weights().layers[0].wq.type;
      std::vector<int32_t> prompt = e->tokenizer().encode("Tom and Sue went to the", true, false);
      prompt.resize(7, prompt.back());
      for (const KernelTable* kt : test::kernel_tables()) {
        const KernelChoice single = forced_kernel_choice(*kt, RowVariant::kSingle);
        const KernelChoice multi = forced_kernel_choice(*kt, RowVariant::kMulti);
        EXPECT_EQ(multi.use_multi(wt, e->model().config().n_embd), kt->vec_dot_r4[(int)wt] != nullptr) << kt->name;
        ForwardOptions fs, fm;
        fs.kernels = fm.kernels = kt;
        fs.kernel_choice = &single;
        fm.kernel_choice = &multi;
        const std::vector<float> a = test::prompt_and_decode_logits(*e, prompt, 12, fs);
        const std::vector<float> b = test::prompt_and_decode_logits(*e, prompt, 12, fm);
        ASSERT_EQ(a.size(), b.size());
        ASSERT_EQ(a.size(), (size_t)(7 + 12) * (size_t)e->model().config().n_vocab);
        EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << f << " " << kt->name << " " << threads << " threads";
        compared += kt->vec_dot_r4[(int)wt] != nullptr;
      }
    }
  }
  std::printf("[ decode variants ] %d (model, threads, table) runs with a 4-row kernel compared bit for bit\n", compared);
}

}  // namespace
}  // namespace pocket
