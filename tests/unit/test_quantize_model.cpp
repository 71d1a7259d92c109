// pocket quantize: round-to-nearest re-encoding equals llama-quantize's output byte for byte.
#include <gtest/gtest.h>

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

TEST(QuantizeModel, BadSpecsAndExistingOutput) {
  EXPECT_FALSE(parse_tensor_types("output").is_ok());
  EXPECT_FALSE(parse_tensor_types("output=q9_9").is_ok());
  EXPECT_FALSE(parse_tensor_types("=q8_0").is_ok());
  EXPECT_EQ(parse_tensor_types("a=q8_0,b=f16").value().size(), 2u);
  const std::string out = test::temp_path("exists.gguf");
  { FILE* f = std::fopen(out.c_str(), "w"); std::fputs("x", f); std::fclose(f); }
  QuantizeOptions o;
  auto r = quantize_model(test::shared("golden/stories260K-f32.llamacpp.gguf"), out, o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("--force"), std::string::npos);
  EXPECT_EQ(test::read_file(out), "x");
  std::remove(out.c_str());
}

}  // namespace
}  // namespace pocket
