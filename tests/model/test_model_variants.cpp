// Architecture variants the real models in ../shared do not exercise, built by rewriting them:
// a separate output head, NeoX-layout RoPE (Qwen2 style) with Q/K/V biases, the llama2.c v1 export.
#include <fstream>

#include "convert/convert.h"
#include "format/gguf_reader.h"
#include "format/gguf_writer.h"
#include "model/model_support.h"

namespace pocket {
namespace {

using TensorEdit = std::function<std::vector<uint8_t>(const TensorView&)>;

// Copies a GGUF, renaming metadata key prefixes and optionally transforming tensors / adding new ones.
void rewrite(const std::string& src, const std::string& dst, const std::string& from_prefix, const std::string& to_prefix, const TensorEdit& edit,
             const std::vector<std::pair<std::string, std::vector<float>>>& extra_f32 = {}) {
  auto f = GgufFile::open(src);
  ASSERT_TRUE(f.is_ok());
  GgufWriter w;
  for (const auto& [k, v] : f.value()->metadata()) {
    std::string key = k;
    if (key.rfind(from_prefix, 0) == 0) key = to_prefix + key.substr(from_prefix.size());
    w.set(key, v);
  }
  if (from_prefix != to_prefix) w.set("general.architecture", GgufValue::make_string(to_prefix.substr(0, to_prefix.size() - 1)));
  for (const TensorView& t : f.value()->tensors()) {
    std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
    std::vector<uint8_t> bytes = edit ? edit(t) : std::vector<uint8_t>(t.data, t.data + t.nbytes);
    ASSERT_TRUE(w.add_tensor(t.name, t.type, ne, std::move(bytes)).is_ok());
  }
  for (const auto& [name, values] : extra_f32) {
    std::vector<uint8_t> bytes(values.size() * 4);
    std::memcpy(bytes.data(), values.data(), bytes.size());
    ASSERT_TRUE(w.add_tensor(name, TensorType::F32, {(int64_t)values.size()}, std::move(bytes)).is_ok());
  }
  ASSERT_TRUE(w.write(dst, true).is_ok());
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, (double)std::fabs(a[i] - b[i]));
  return m;
}

TEST(ModelVariants, SeparateOutputHeadEqualsTiedOne) {
  // llama.cpp's stories260K GGUF stores the classifier as its own output.weight (a copy of the
  // embedding); our conversion ties them. Same numbers either way.
  const std::string ours = test::temp_path("tied.gguf");
  ConvertOptions o;
  o.force = true;
  ASSERT_TRUE(convert_llama2c(test::shared("models/stories260K/stories260K.bin"), test::shared("models/stories260K/tok512.bin"), ours, o).is_ok());
  auto tied = test::load_engine(ours);
  auto untied = test::load_engine(test::shared("golden/stories260K-f32.llamacpp.gguf"));
  EXPECT_TRUE(tied->model().weights().tied_output);
  EXPECT_FALSE(untied->model().weights().tied_output);
  const auto prompt = tied->tokenizer().encode("Once upon a time", true, false);
  EXPECT_EQ(test::all_logits(*tied, prompt), test::all_logits(*untied, prompt));
  std::remove(ours.c_str());
}

// Rows of a [rows, cols] F32 matrix, per head of size hd: adjacent pairs (2i, 2i+1) -> halves (i, i+hd/2).
std::vector<uint8_t> to_neox_rows(const TensorView& t, int64_t hd) {
  const int64_t cols = t.ne[0], rows = t.ne[1];
  const float* src = reinterpret_cast<const float*>(t.data);
  std::vector<uint8_t> out(t.nbytes);
  float* dst = reinterpret_cast<float*>(out.data());
  for (int64_t h = 0; h < rows / hd; ++h)
    for (int64_t i = 0; i < hd / 2; ++i)
      for (int64_t j = 0; j < 2; ++j) std::memcpy(dst + (h * hd + j * hd / 2 + i) * cols, src + (h * hd + 2 * i + j) * cols, (size_t)cols * 4);
  return out;
}

TEST(ModelVariants, NeoxRopeWithBiasesMatchesNormalLayout) {
  // TinyStories-656K (GQA 8/4, head 16) converted to the normal layout, then rewritten as a Qwen2-style
  // model: NeoX RoPE with Q/K rows in rotate-half order, plus zero Q/K/V biases. Same function, so the
  // same logits up to float32 summation order in q.k.
  const std::string normal = test::temp_path("ts-normal.gguf");
  const std::string neox = test::temp_path("ts-neox.gguf");
  ConvertOptions o;
  o.force = true;
  ASSERT_TRUE(convert_hf(test::shared("models/TinyStories-656K"), normal, o).is_ok());
  const int64_t hd = 16;
  std::vector<std::pair<std::string, std::vector<float>>> biases;
  for (int l = 0; l < 2; ++l) {
    biases.push_back({"blk." + std::to_string(l) + ".attn_q.bias", std::vector<float>(128, 0.0f)});
    biases.push_back({"blk." + std::to_string(l) + ".attn_k.bias", std::vector<float>(64, 0.0f)});
    biases.push_back({"blk." + std::to_string(l) + ".attn_v.bias", std::vector<float>(64, 0.0f)});
  }
  rewrite(
      normal, neox, "llama.", "qwen2.",
      [&](const TensorView& t) {
        const bool qk = t.name.find("attn_q.weight") != std::string::npos || t.name.find("attn_k.weight") != std::string::npos;
        return qk ? to_neox_rows(t, hd) : std::vector<uint8_t>(t.data, t.data + t.nbytes);
      },
      biases);
  auto a = test::load_engine(normal);
  auto b = test::load_engine(neox);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->model().config().rope_layout, RopeLayout::kNeox);
  EXPECT_EQ(b->model().weights().layers[0].bq.size(), 128u);
  const auto prompt = a->tokenizer().encode("Once upon a time there was a dog", true, false);
  EXPECT_LT(max_diff(test::all_logits(*a, prompt), test::all_logits(*b, prompt)), 1e-4);
  std::remove(normal.c_str());
  std::remove(neox.c_str());
}

TEST(ModelVariants, NonZeroBiasesChangeTheResult) {
  const std::string normal = test::temp_path("ts-normal2.gguf");
  const std::string biased = test::temp_path("ts-biased.gguf");
  ConvertOptions o;
  o.force = true;
  ASSERT_TRUE(convert_hf(test::shared("models/TinyStories-656K"), normal, o).is_ok());
  rewrite(normal, biased, "llama.", "llama.", nullptr, {{"blk.0.attn_v.bias", std::vector<float>(64, 0.5f)}});
  auto a = test::load_engine(normal);
  auto b = test::load_engine(biased);
  const auto prompt = a->tokenizer().encode("Once upon a time", true, false);
  EXPECT_GT(max_diff(test::all_logits(*a, prompt), test::all_logits(*b, prompt)), 1e-3);
  std::remove(normal.c_str());
  std::remove(biased.c_str());
}

TEST(ModelVariants, Llama2cV1ExportConvertsLikeTheLegacyOne) {
  // Re-serialize stories260K (legacy layout) in the v1 layout: 256-byte ak42 header, norms first.
  const std::string legacy = test::shared("models/stories260K/stories260K.bin");
  const std::string raw = test::read_file(legacy);
  int32_t h[7];
  std::memcpy(h, raw.data(), sizeof(h));
  const int64_t D = h[0], H = h[1], L = h[2], nh = h[3], nkv = h[4], V = h[5] < 0 ? -h[5] : h[5];
  const int64_t KV = nkv * (D / nh);
  size_t off = 28;
  auto take = [&](int64_t n) {
    std::string s = raw.substr(off, (size_t)n * 4);
    off += (size_t)n * 4;
    return s;
  };
  const std::string emb = take(V * D), att = take(L * D), wq = take(L * D * D), wk = take(L * KV * D), wv = take(L * KV * D), wo = take(L * D * D),
                    ffn = take(L * D), w1 = take(L * H * D), w2 = take(L * D * H), w3 = take(L * H * D), fin = take(D);
  std::string v1(256, '\0');
  const uint32_t magic = 0x616b3432;
  const int32_t version = 1;
  std::memcpy(&v1[0], &magic, 4);
  std::memcpy(&v1[4], &version, 4);
  int32_t hv[7] = {h[0], h[1], h[2], h[3], h[4], (int32_t)V, h[6]};
  std::memcpy(&v1[8], hv, sizeof(hv));
  v1[36] = 1;  // shared classifier
  v1 += att + ffn + fin + emb + wq + wk + wv + wo + w1 + w2 + w3;
  const std::string v1_path = test::temp_path("s260k-v1.bin");
  std::ofstream(v1_path, std::ios::binary).write(v1.data(), (std::streamsize)v1.size());
  const std::string a = test::temp_path("from-legacy.gguf"), b = test::temp_path("from-v1.gguf");
  ConvertOptions o;
  o.force = true;
  const std::string tok = test::shared("models/stories260K/tok512.bin");
  ASSERT_TRUE(convert_llama2c(legacy, tok, a, o).is_ok());
  const Status s = convert_llama2c(v1_path, tok, b, o);
  ASSERT_TRUE(s.is_ok()) << s.message();
  auto fa = GgufFile::open(a);
  auto fb = GgufFile::open(b);
  for (const TensorView& t : fa.value()->tensors()) {
    const TensorView* u = fb.value()->find_tensor(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    ASSERT_EQ(t.nbytes, u->nbytes);
    EXPECT_EQ(std::memcmp(t.data, u->data, t.nbytes), 0) << t.name;
  }
  for (const std::string& p : {v1_path, a, b}) std::remove(p.c_str());
}

}  // namespace
}  // namespace pocket
