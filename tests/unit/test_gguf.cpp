#include <gtest/gtest.h>

#include "format/gguf_reader.h"
#include "format/gguf_writer.h"
#include "test_support.h"

namespace pocket {
namespace {

GgufWriter make_writer() {
  GgufWriter w;
  w.set("general.architecture", GgufValue::make_string("llama"));
  GgufValue u8;
  u8.type = GgufType::UINT8;
  u8.u = 200;
  w.set("t.u8", u8);
  GgufValue i8;
  i8.type = GgufType::INT8;
  i8.i = -100;
  w.set("t.i8", i8);
  GgufValue u16;
  u16.type = GgufType::UINT16;
  u16.u = 60000;
  w.set("t.u16", u16);
  GgufValue i16;
  i16.type = GgufType::INT16;
  i16.i = -30000;
  w.set("t.i16", i16);
  w.set("t.u32", GgufValue::make_u32(4000000000u));
  w.set("t.i32", GgufValue::make_i32(-2000000000));
  w.set("t.f32", GgufValue::make_f32(1.5f));
  w.set("t.bool", GgufValue::make_bool(true));
  w.set("t.u64", GgufValue::make_u64(uint64_t(1) << 40));
  GgufValue i64;
  i64.type = GgufType::INT64;
  i64.i = -(int64_t(1) << 40);
  w.set("t.i64", i64);
  GgufValue f64;
  f64.type = GgufType::FLOAT64;
  f64.f = 3.25;
  w.set("t.f64", f64);
  w.set("t.strs", GgufValue::make_str_array({"a", "", "ccc"}));
  w.set("t.floats", GgufValue::make_f32_array({0.5, -2.0}));
  w.set("t.ints", GgufValue::make_i32_array({1, -2, 3}));
  GgufValue nested;
  nested.type = GgufType::ARRAY;
  nested.elem_type = GgufType::ARRAY;
  nested.arr_nested.push_back(GgufValue::make_i32_array({7}));
  w.set("t.nested", nested);
  std::vector<uint8_t> a(4 * 6);
  for (size_t i = 0; i < a.size(); ++i) a[i] = (uint8_t)i;
  EXPECT_TRUE(w.add_tensor("a", TensorType::F32, {3, 2}, a).is_ok());
  std::vector<uint8_t> b(34 * 2, 7);
  EXPECT_TRUE(w.add_tensor("b", TensorType::Q8_0, {64}, b).is_ok());
  return w;
}

TEST(Gguf, WriterReaderRoundTripAllValueTypes) {
  const std::vector<uint8_t> bytes = make_writer().to_bytes();
  auto r = GgufFile::parse(bytes.data(), bytes.size(), "mem.gguf");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const GgufFile& f = *r.value();
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.get_string("general.architecture").value(), "llama");
  EXPECT_EQ(f.find("t.u8")->u, 200u);
  EXPECT_EQ(f.find("t.i8")->i, -100);
  EXPECT_EQ(f.find("t.u16")->u, 60000u);
  EXPECT_EQ(f.find("t.i16")->i, -30000);
  EXPECT_EQ(f.get_uint("t.u32").value(), 4000000000u);
  EXPECT_EQ(f.find("t.i32")->i, -2000000000);
  EXPECT_FLOAT_EQ((float)f.get_float("t.f32").value(), 1.5f);
  EXPECT_TRUE(f.get_bool("t.bool").value());
  EXPECT_EQ(f.get_uint("t.u64").value(), uint64_t(1) << 40);
  EXPECT_EQ(f.find("t.i64")->i, -(int64_t(1) << 40));
  EXPECT_DOUBLE_EQ(f.get_float("t.f64").value(), 3.25);
  EXPECT_EQ(f.find("t.strs")->arr_str, (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(f.find("t.floats")->arr_float, (std::vector<double>{0.5, -2.0}));
  EXPECT_EQ(f.find("t.ints")->arr_int, (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(f.find("t.nested")->arr_nested.at(0).arr_int, (std::vector<int64_t>{7}));
  ASSERT_EQ(f.tensors().size(), 2u);
  const TensorView* a = f.find_tensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->ne[0], 3);
  EXPECT_EQ(a->ne[1], 2);
  EXPECT_EQ(a->nbytes, 24u);
  EXPECT_EQ((a->data - bytes.data()) % 32, 0);  // aligned, zero-copy into the buffer
  for (size_t i = 0; i < 24; ++i) EXPECT_EQ(a->data[i], i);
  const TensorView* b = f.find_tensor("b");
  EXPECT_EQ(b->type, TensorType::Q8_0);
  EXPECT_EQ(b->nbytes, 68u);
  EXPECT_EQ(b->offset % 32, 0u);
}

TEST(Gguf, TypedGettersNameKeyAndReason) {
  const std::vector<uint8_t> bytes = make_writer().to_bytes();
  auto r = GgufFile::parse(bytes.data(), bytes.size(), "mem.gguf");
  const GgufFile& g = *r.value();
  auto missing = g.get_uint("llama.block_count");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("mem.gguf: llama.block_count: required key is missing"), std::string::npos);
  auto wrong = g.get_uint("general.architecture");
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.status().message().find("expected an integer"), std::string::npos);
  EXPECT_FALSE(g.get_uint("t.i32").is_ok());  // negative
}

TEST(Gguf, ReadsVersion2) {
  std::vector<uint8_t> bytes = make_writer().to_bytes();
  bytes[4] = 2;
  auto r = GgufFile::parse(bytes.data(), bytes.size(), "v2.gguf");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r.value()->version(), 2u);
}

TEST(Gguf, CustomAlignment) {
  GgufWriter w(64);
  std::vector<uint8_t> a(4 * 5, 1);
  ASSERT_TRUE(w.add_tensor("x", TensorType::F32, {5}, a).is_ok());
  ASSERT_TRUE(w.add_tensor("y", TensorType::F32, {5}, a).is_ok());
  const std::vector<uint8_t> bytes = w.to_bytes();
  auto r = GgufFile::parse(bytes.data(), bytes.size(), "a64.gguf");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r.value()->alignment(), 64u);
  EXPECT_EQ(r.value()->find_tensor("y")->offset, 64u);
}

TEST(Gguf, WriteIsAtomicAndRefusesToOverwrite) {
  const std::string path = test::temp_path("w.gguf");
  std::remove(path.c_str());
  GgufWriter w = make_writer();
  ASSERT_TRUE(w.write(path, false).is_ok());
  auto r = GgufFile::open(path);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const Status again = w.write(path, false);
  ASSERT_FALSE(again.is_ok());
  EXPECT_NE(again.message().find("(use force to overwrite)"), std::string::npos);
  EXPECT_EQ(again.field(), "force");
  EXPECT_TRUE(w.write(path, true).is_ok());
  std::remove(path.c_str());
}

TEST(Gguf, WriterRejectsInconsistentTensors) {
  GgufWriter w;
  EXPECT_FALSE(w.add_tensor("x", TensorType::F32, {3}, std::vector<uint8_t>(8)).is_ok());
  EXPECT_FALSE(w.add_tensor("q", TensorType::Q8_0, {30}, std::vector<uint8_t>(34)).is_ok());
  EXPECT_TRUE(w.add_tensor("x", TensorType::F32, {2}, std::vector<uint8_t>(8)).is_ok());
  EXPECT_FALSE(w.add_tensor("x", TensorType::F32, {2}, std::vector<uint8_t>(8)).is_ok());
}

TEST(Gguf, OpensRealFiles) {
  for (const char* name : {"golden/stories15M-f32.llamacpp.gguf", "golden/stories15M-q8_0.llamacpp.gguf", "golden/stories15M-q4_0.llamacpp.gguf",
                           "golden/stories260K-f32.llamacpp.gguf", "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-llama-spm.gguf"}) {
    auto r = GgufFile::open(test::shared(name));
    ASSERT_TRUE(r.is_ok()) << r.status().message();
  }
}

}  // namespace
}  // namespace pocket
