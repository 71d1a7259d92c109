// Packed weights (Model::pack_weights, kernels/packed_rows.h) change speed only: an engine whose Q8_0 /
// Q4_0 / Q4_K matrices were packed at load and one loaded with POCKET_REPACK=off give bit-identical logits
// through a whole model: a 70-token prompt (a full 64-token chunk, token pairs and a single token)
// and 12 decode steps, with 1 and 2 threads. The packed engine's matrices point at packed bytes exactly
// where the table has packed kernels and the measured kernel choice packs, and none do with
// POCKET_REPACK=off (kernel-level bit identity of every packed kernel: test_packed_rows.cpp).
#include <cstdlib>
#include <cstring>

#include "kernels/kernel_choice.h"
#include "kernels/kernel_table.h"
#include "model/model_support.h"
#include "quantize/quantize_model.h"

namespace pocket {
namespace {

std::unique_ptr<Engine> load_with_repack(const std::string& path, int threads, const char* repack) {
  setenv("POCKET_REPACK", repack, 1);
  auto e = test::load_engine(path, threads);
  unsetenv("POCKET_REPACK");
  return e;
}

int packed_matrices(const Model& m) {
  int n = 0;
  for (const LayerWeights& L : m.weights().layers)
    for (const Matrix* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) n += w->packed != nullptr;
  return n;
}

// The layer matrices this process's measured kernel choice packs (a probe may find that packed rows lose
// for a type and width on this machine, e.g. Q8_0 under AddressSanitizer: then they stay the file's).
int matrices_to_pack(const Model& m) {
  const KernelChoice& kc = kernel_choice(kernels());
  int n = 0;
  for (const LayerWeights& L : m.weights().layers)
    for (const Matrix* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) n += kc.use_packed(w->type, w->cols);
  return n;
}

// stories15M with K-quants where its widths allow (ffn_down's 768 columns; 288 is no multiple of 256):
// Q6_K in layers 1 and 3, Q4_K in the others, Q8_0 elsewhere: 288 rows (18 packed groups) each.
std::string q4_k_model() {
  const std::string out = test::temp_path("stories15M-q4_k-down.gguf");
  QuantizeOptions o;
  o.type = TensorType::Q8_0;
  o.overrides = {{"blk.1.ffn_down", TensorType::Q6_K}, {"blk.3.ffn_down", TensorType::Q6_K}, {"ffn_down", TensorType::Q4_K}};
  o.force = true;
  auto rep = quantize_model(test::shared("golden/stories15M-f32.llamacpp.gguf"), out, o);
  EXPECT_TRUE(rep.is_ok()) << rep.status().message();
  return out;
}

TEST(PackedWeights, PackedAndFileRowsGiveBitIdenticalLogits) {
  const KernelTable& kt = kernels();
  if (kt.vec_dot_packed[(int)TensorType::Q4_0] == nullptr) GTEST_SKIP() << kt.name << " has no packed kernels";
  const std::string q4k = q4_k_model();
  for (const std::string& path : {test::shared("golden/stories15M-q8_0.llamacpp.gguf"), test::shared("golden/stories15M-q4_0.llamacpp.gguf"), q4k}) {
    const char* f = path.c_str();
    for (int threads : {1, 2}) {
      auto packed = load_with_repack(path, threads, "on");
      auto plain = load_with_repack(path, threads, "off");
      ASSERT_NE(packed, nullptr);
      ASSERT_NE(plain, nullptr);
      const int n_mats = matrices_to_pack(packed->model());
      EXPECT_EQ(packed_matrices(packed->model()), n_mats) << f;
      EXPECT_EQ(packed->model().packed_bytes() > 0u, n_mats > 0) << f;
      EXPECT_EQ(packed_matrices(plain->model()), 0) << f;
      std::vector<int32_t> prompt = packed->tokenizer().encode("Tom and Sue went to the park to play with a big red ball", true, false);
      while (prompt.size() < 70) prompt.push_back(prompt[prompt.size() % 13]);
      const std::vector<float> a = test::prompt_and_decode_logits(*packed, prompt, 12);
      const std::vector<float> b = test::prompt_and_decode_logits(*plain, prompt, 12);
      ASSERT_EQ(a.size(), b.size());
      ASSERT_EQ(a.size(), (size_t)(70 + 12) * (size_t)packed->model().config().n_vocab);
      EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << f << " " << threads << " threads";
      if (path == q4k) {
        int q4, q6, want = 0, got = 0;
        q4 = q6 = 0;
        for (const LayerWeights& L : packed->model().weights().layers) {
          q4 += L.w_down.type == TensorType::Q4_K, q6 += L.w_down.type == TensorType::Q6_K;
          want += kt.vec_dot_packed[(int)L.w_down.type] != nullptr && kernel_choice(kt).use_packed(L.w_down.type, 768);
          got += L.w_down.packed != nullptr;
        }
        EXPECT_EQ(q4, 4) << "Q4_K ffn_down matrices";
        EXPECT_EQ(q6, 2) << "Q6_K ffn_down matrices";
        EXPECT_EQ(got, want) << "K-quant ffn_down matrices packed where the kernel choice packs";
      }
    }
  }
  std::remove(q4k.c_str());
}

TEST(PackedWeights, UnknownRepackValueIsAnErrorNamingIt) {
  setenv("POCKET_REPACK", "yes", 1);
  auto e = Engine::load(test::shared("golden/stories15M-q4_0.llamacpp.gguf"), EngineOptions{});
  unsetenv("POCKET_REPACK");
  ASSERT_FALSE(e.is_ok());
  EXPECT_NE(e.status().message().find("POCKET_REPACK: unknown value 'yes'"), std::string::npos) << e.status().message();
}

}  // namespace
}  // namespace pocket
