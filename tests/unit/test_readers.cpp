// llama2.c and safetensors readers: real files load, damaged ones give named errors.
#include <gtest/gtest.h>

#include <fstream>

#include "format/llama2c_reader.h"
#include "format/safetensors_reader.h"
#include "test_support.h"

namespace pocket {
namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), (std::streamsize)bytes.size());
}

TEST(Llama2c, ReadsStories260K) {
  auto c = read_llama2c_checkpoint(test::shared("models/stories260K/stories260K.bin"));
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c.value().dim, 64);
  EXPECT_EQ(c.value().n_layers, 5);
  EXPECT_EQ(c.value().n_heads, 8);
  EXPECT_EQ(c.value().n_kv_heads, 4);
  EXPECT_EQ(c.value().vocab_size, 512);
  auto t = read_llama2c_tokenizer(test::shared("models/stories260K/tok512.bin"), 512);
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  EXPECT_EQ(t.value().pieces.size(), 512u);
}

TEST(Llama2c, TruncatedAndPaddedCheckpointsFail) {
  const std::string full = test::read_file(test::shared("models/stories260K/stories260K.bin"));
  const std::string p = test::temp_path("l2c.bin");
  for (size_t n : {size_t(0), size_t(10), size_t(28), full.size() / 2, full.size() - 1}) {
    write_bytes(p, full.substr(0, n));
    auto c = read_llama2c_checkpoint(p);
    ASSERT_FALSE(c.is_ok()) << n;
    EXPECT_NE(c.status().message().find(p + ": "), std::string::npos);
  }
  write_bytes(p, full + "xxxx");
  EXPECT_NE(read_llama2c_checkpoint(p).status().message().find("trailing bytes"), std::string::npos);
  std::string bad = full;
  int32_t neg = -5;
  std::memcpy(&bad[0], &neg, 4);
  write_bytes(p, bad);
  EXPECT_NE(read_llama2c_checkpoint(p).status().message().find("header.dim"), std::string::npos);
  std::remove(p.c_str());
}

// Found by fuzz_llama2c (fuzz/regressions/llama2c/vocab-int32-min): a legacy header's vocab_size of
// INT32_MIN was negated (undefined behaviour) to flag a separate classifier.
TEST(Llama2c, MostNegativeVocabSizeIsRefused) {
  const std::string p = test::temp_path("int32min.bin");
  {
    const int32_t h[7] = {64, 172, 5, 8, 4, INT32_MIN, 512};
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(h), sizeof h);
  }
  auto c = read_llama2c_checkpoint(p);
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("header.vocab_size: value 0 out of range"), std::string::npos) << c.status().message();
  std::remove(p.c_str());
}

TEST(Llama2c, TokenizerVocabularyMismatchFails) {
  auto t = read_llama2c_tokenizer(test::shared("models/stories260K/tok512.bin"), 500);
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.status().message().find("trailing bytes"), std::string::npos);
  auto u = read_llama2c_tokenizer(test::shared("models/stories260K/tok512.bin"), 600);
  ASSERT_FALSE(u.is_ok());
  EXPECT_NE(u.status().message().find("file truncated"), std::string::npos);
}

std::string safetensors(std::string header_json, size_t data_bytes) {
  while (header_json.size() % 8 != 0) header_json += ' ';  // writers pad the header to 8 bytes
  std::string s(8, '\0');
  const uint64_t n = header_json.size();
  std::memcpy(&s[0], &n, 8);
  return s + header_json + std::string(data_bytes, '\0');
}

TEST(Safetensors, ValidAndInvalidHeaders) {
  const std::string p = test::temp_path("st.safetensors");
  write_bytes(p, safetensors(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})", 16));
  auto ok = SafetensorsFile::open(p);
  ASSERT_TRUE(ok.is_ok()) << ok.status().message();
  EXPECT_EQ(ok.value()->find("w")->shape, (std::vector<int64_t>{2, 2}));

  const std::pair<std::string, std::string> cases[] = {
      {R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,32]}})", "outside the data section"},
      {R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}})", "does not match shape and dtype"},
      {R"({"w":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", "unsupported dtype"},
      {R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,16]}})", "non-negative"},
      {R"({"w":{"dtype":"F32"}})", "needs dtype, shape and data_offsets"},
      {R"({"w":)", "not a JSON object"},
  };
  for (const auto& [hdr, msg] : cases) {
    write_bytes(p, safetensors(hdr, 16));
    auto r = SafetensorsFile::open(p);
    ASSERT_FALSE(r.is_ok()) << hdr;
    EXPECT_NE(r.status().message().find(msg), std::string::npos) << r.status().message();
  }
  std::string huge(8, '\xff');
  write_bytes(p, huge);
  EXPECT_NE(SafetensorsFile::open(p).status().message().find("header length"), std::string::npos);
  std::remove(p.c_str());
}

}  // namespace
}  // namespace pocket
