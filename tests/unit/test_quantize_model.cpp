// pocket quantize: round-to-nearest re-encoding equals llama-quantize's output byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "format/gguf_reader.h"
#include "quantize/quantize_model.h"
#include "test_support.h"

namespace pocket {
namespace {

TEST(QuantizeModel, Q8_0EqualsLlamaQuantize) {
  const std::string out = test::temp_path("q8.gguf");
  QuantizeOptions o;
  o.type = TensorType::Q8_0;
  o.force = true;
  size_t calls = 0;
  o.progress = [&](size_t, size_t, const std::string&) { ++calls; };
  auto r = quantize_model(test::shared("golden/stories15M-f32.llamacpp.gguf"), out, o);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(calls, 43u);  // the 2-D tensors
  EXPECT_NEAR(r.value().bits_per_weight(), 8.5, 0.05);
  auto ours = GgufFile::open(out);
  auto theirs = GgufFile::open(test::shared("golden/stories15M-q8_0.llamacpp.gguf"));
  ASSERT_TRUE(ours.is_ok() && theirs.is_ok());
  int same = 0;
  for (const TensorView& t : ours.value()->tensors()) {
    const TensorView* u = theirs.value()->find_tensor(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    EXPECT_EQ(t.type, u->type) << t.name;
    ASSERT_EQ(t.nbytes, u->nbytes) << t.name;
    EXPECT_EQ(std::memcmp(t.data, u->data, t.nbytes), 0) << t.name;
    ++same;
  }
  EXPECT_EQ(same, 56);
  EXPECT_EQ(ours.value()->get_uint("general.file_type").value(), 7u);
  std::remove(out.c_str());
}

TEST(QuantizeModel, OverridesAndVectorsStayF32) {
  const std::string out = test::temp_path("q4.gguf");
  QuantizeOptions o;
  o.type = TensorType::Q4_0;
  o.force = true;
  o.overrides = parse_tensor_types("ffn_down=q8_0,token_embd=f16").value();
  ASSERT_TRUE(quantize_model(test::shared("golden/stories15M-f32.llamacpp.gguf"), out, o).is_ok());
  auto f = GgufFile::open(out);
  EXPECT_EQ(f.value()->find_tensor("blk.0.ffn_down.weight")->type, TensorType::Q8_0);
  EXPECT_EQ(f.value()->find_tensor("blk.0.ffn_up.weight")->type, TensorType::Q4_0);
  EXPECT_EQ(f.value()->find_tensor("token_embd.weight")->type, TensorType::F16);
  EXPECT_EQ(f.value()->find_tensor("blk.0.attn_norm.weight")->type, TensorType::F32);
  std::remove(out.c_str());
}

TEST(QuantizeModel, InMemoryTensorsAreTheFileBytesAndAModelTakesThem) {
  // quantize_tensors() gives the bytes quantize_model() writes (same types: --type, overrides, vectors
  // F32), only for the tensors it re-encodes; a model given them is the quantized file's model.
  const std::string f32 = test::shared("golden/stories15M-f32.llamacpp.gguf");
  const std::string out = test::temp_path("q4-mem.gguf");
  QuantizeOptions o;
  o.type = TensorType::Q4_0;
  o.force = true;
  o.overrides = parse_tensor_types("ffn_down=q8_0").value();
  ASSERT_TRUE(quantize_model(f32, out, o).is_ok());
  auto file = GgufFile::open(out);
  auto in = GgufFile::open(f32);
  ASSERT_TRUE(file.is_ok() && in.is_ok());
  auto mem = quantize_tensors(*in.value(), o);
  ASSERT_TRUE(mem.is_ok()) << mem.status().message();
  size_t replaced = 0;
  for (const TensorView& t : file.value()->tensors()) {
    const auto r = std::find_if(mem.value().begin(), mem.value().end(), [&](const ReplacementTensor& x) { return x.name == t.name; });
    if (r == mem.value().end()) {
      EXPECT_EQ(t.type, in.value()->find_tensor(t.name)->type) << t.name << ": left out, so written as it was";
      continue;
    }
    ++replaced;
    EXPECT_EQ(r->type, t.type) << t.name;
    ASSERT_EQ(r->bytes.size(), t.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(r->bytes.data(), t.data, t.nbytes), 0) << t.name;
  }
  EXPECT_EQ(replaced, 43u) << "the 2-D tensors";
  EXPECT_EQ(mem.value().size(), replaced);

  auto quantized = Model::load(out);
  auto m = Model::load(f32);
  ASSERT_TRUE(quantized.is_ok() && m.is_ok());
  ASSERT_TRUE(m.value()->replace_tensors(std::move(mem).value()).is_ok());
  EXPECT_EQ(m.value()->weight_bytes(), quantized.value()->weight_bytes());
  const ModelWeights& a = m.value()->weights();
  const ModelWeights& b = quantized.value()->weights();
  auto same = [](const Matrix& x, const Matrix& y) {
    return x.type == y.type && x.row_bytes == y.row_bytes && std::memcmp(x.data, y.data, (size_t)x.rows * x.row_bytes) == 0;
  };
  EXPECT_TRUE(same(a.tok_embd, b.tok_embd));
  EXPECT_TRUE(same(a.output, b.output)) << "the tied head follows token_embd";
  EXPECT_TRUE(same(a.layers[1].w_down, b.layers[1].w_down));
  EXPECT_EQ(a.layers[1].w_down.type, TensorType::Q8_0);
  EXPECT_TRUE(same(a.layers[5].wq, b.layers[5].wq));

  // Nothing to do for a file already in the type; bad replacements change nothing; calibrated methods write a file.
  auto q8 = GgufFile::open(test::shared("golden/stories15M-q8_0.llamacpp.gguf"));
  QuantizeOptions to_q8;
  EXPECT_TRUE(quantize_tensors(*q8.value(), to_q8).value().empty());
  std::vector<ReplacementTensor> bad(1);
  bad[0].name = "blk.0.attn_q.weight";
  bad[0].type = TensorType::Q8_0;
  bad[0].bytes.resize(10);
  EXPECT_FALSE(m.value()->replace_tensors(bad).is_ok());
  bad[0].name = "no.such.tensor";
  EXPECT_FALSE(m.value()->replace_tensors(bad).is_ok());
  EXPECT_TRUE(same(a.layers[0].wq, b.layers[0].wq));
  QuantizeOptions gptq = o;
  gptq.method = QuantMethod::kGptq;
  gptq.calib_text = "Once upon a time";
  EXPECT_FALSE(quantize_tensors(*in.value(), gptq).is_ok());
  std::remove(out.c_str());
}

TEST(QuantizeModel, BadSpecsAndExistingOutput) {
  EXPECT_FALSE(parse_tensor_types("output").is_ok());
  EXPECT_FALSE(parse_tensor_types("output=q9_9").is_ok());
  EXPECT_FALSE(parse_tensor_types("=q8_0").is_ok());
  EXPECT_EQ(parse_tensor_types("a=q8_0,b=f16").value().size(), 2u);
  const std::string out = test::temp_path("exists.gguf");
  {
    FILE* f = std::fopen(out.c_str(), "w");
    std::fputs("x", f);
    std::fclose(f);
  }
  QuantizeOptions o;
  auto r = quantize_model(test::shared("golden/stories260K-f32.llamacpp.gguf"), out, o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("use force"), std::string::npos);
  EXPECT_EQ(test::read_file(out), "x");
  std::remove(out.c_str());
}

}  // namespace
}  // namespace pocket
