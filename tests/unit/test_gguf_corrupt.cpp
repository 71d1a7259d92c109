// Every corrupt variant of a small GGUF a test can make must give an error, never a crash or an
// out-of-bounds read (this suite also runs under AddressSanitizer + UBSan in CI).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "format/gguf_reader.h"
#include "format/gguf_writer.h"
#include "model/model_config.h"

namespace pocket {
namespace {

struct Sample {
  std::vector<uint8_t> bytes;
  size_t data_end = 0;     // end of the last tensor's bytes
  size_t tensor_info = 0;  // offset of the first tensor info
};

Sample make_sample() {
  GgufWriter w;
  w.set("general.architecture", GgufValue::make_string("llama"));
  w.set("llama.block_count", GgufValue::make_u32(1));
  w.set("tokenizer.ggml.tokens", GgufValue::make_str_array({"<unk>", "<s>", "</s>", "a"}));
  w.set("tokenizer.ggml.scores", GgufValue::make_f32_array({0, 0, 0, -1}));
  EXPECT_TRUE(w.add_tensor("t0", TensorType::F32, {4, 2}, std::vector<uint8_t>(32, 1)).is_ok());
  EXPECT_TRUE(w.add_tensor("t1", TensorType::Q8_0, {32}, std::vector<uint8_t>(34, 2)).is_ok());
  Sample s;
  s.bytes = w.to_bytes();
  auto r = GgufFile::parse(s.bytes.data(), s.bytes.size(), "s.gguf");
  EXPECT_TRUE(r.is_ok());
  const TensorView* t1 = r.value()->find_tensor("t1");
  s.data_end = (size_t)(t1->data - s.bytes.data()) + t1->nbytes;
  // Tensor infos start right after the last KV pair: find the name "t0" preceded by its length 2.
  const uint8_t key[] = {2, 0, 0, 0, 0, 0, 0, 0, 't', '0'};
  s.tensor_info = (size_t)(std::search(s.bytes.begin(), s.bytes.end(), std::begin(key), std::end(key)) - s.bytes.begin());
  return s;
}

// Parses a copy in a buffer of exactly its size, so ASan sees any read past the end.
Result<std::unique_ptr<GgufFile>> parse_exact(const std::vector<uint8_t>& bytes) {
  return GgufFile::parse(bytes.empty() ? nullptr : bytes.data(), bytes.size(), "corrupt.gguf");
}

void expect_consistent(const GgufFile& f, const std::vector<uint8_t>& bytes) {
  for (const TensorView& t : f.tensors()) {
    ASSERT_GE(t.data, bytes.data());
    ASSERT_LE(t.data + t.nbytes, bytes.data() + bytes.size());
  }
}

TEST(GgufCorrupt, EveryTruncationBeforeTheLastTensorEndFails) {
  const Sample s = make_sample();
  for (size_t n = 0; n < s.bytes.size(); ++n) {
    std::vector<uint8_t> cut(s.bytes.begin(), s.bytes.begin() + (long)n);
    auto r = parse_exact(cut);
    if (n < s.data_end) {
      ASSERT_FALSE(r.is_ok()) << "truncated to " << n << " bytes was accepted";
      EXPECT_NE(r.status().message().find("corrupt.gguf: "), std::string::npos);
    } else {
      ASSERT_TRUE(r.is_ok()) << n << ": " << r.status().message();  // only trailing padding was cut
    }
  }
}

TEST(GgufCorrupt, EveryHeaderByteFlippedNeverCrashes) {
  const Sample s = make_sample();
  int rejected = 0;
  for (size_t pos = 0; pos < s.data_end; ++pos) {
    for (uint8_t v : {(uint8_t)0x00, (uint8_t)0xff, (uint8_t)(s.bytes[pos] + 1), (uint8_t)0x80}) {
      std::vector<uint8_t> b = s.bytes;
      b[pos] = v;
      auto r = parse_exact(b);
      if (r.is_ok())
        expect_consistent(*r.value(), b);
      else
        ++rejected;
    }
  }
  EXPECT_GT(rejected, 100);
}

TEST(GgufCorrupt, RandomMutationsNeverCrash) {
  const Sample s = make_sample();
  std::mt19937 rng(1234);
  for (int it = 0; it < 20000; ++it) {
    std::vector<uint8_t> b = s.bytes;
    const int n_mut = 1 + (int)(rng() % 8);
    for (int k = 0; k < n_mut; ++k) b[rng() % s.data_end] = (uint8_t)rng();
    if (rng() % 4 == 0) b.resize(rng() % b.size());
    auto r = parse_exact(b);
    if (r.is_ok()) expect_consistent(*r.value(), b);
  }
}

void put_u64(std::vector<uint8_t>& b, size_t at, uint64_t v) { std::memcpy(&b[at], &v, 8); }
void put_u32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(&b[at], &v, 4); }

std::string error_of(const std::vector<uint8_t>& b) {
  auto r = parse_exact(b);
  return r.is_ok() ? "accepted" : r.status().message();
}

TEST(GgufCorrupt, TargetedFieldsGiveNamedErrors) {
  const Sample s = make_sample();
  auto with = [&](auto edit) {
    std::vector<uint8_t> b = s.bytes;
    edit(b);
    return error_of(b);
  };
  EXPECT_NE(with([](auto& b) { b[0] = 'X'; }).find("header.magic: bad magic"), std::string::npos);
  EXPECT_NE(with([](auto& b) { put_u32(b, 4, 1); }).find("header.version: GGUF version 1"), std::string::npos);
  EXPECT_NE(with([](auto& b) { put_u32(b, 4, 0x03000000); }).find("big-endian"), std::string::npos);
  EXPECT_NE(with([](auto& b) { put_u32(b, 4, 7); }).find("unsupported version 7"), std::string::npos);
  EXPECT_NE(with([](auto& b) { put_u64(b, 8, uint64_t(1) << 40); }).find("header.n_tensors: absurd count"), std::string::npos);
  EXPECT_NE(with([](auto& b) { put_u64(b, 16, uint64_t(1) << 62); }).find("header.n_kv: absurd count"), std::string::npos);
  EXPECT_NE(with([](auto& b) { put_u64(b, 24, uint64_t(1) << 50); }).find("metadata[0].key: absurd string length"), std::string::npos);
  // Tensor info of t0: name(8+2) n_dims(4) dims(2x8) type(4) offset(8).
  const size_t ti = s.tensor_info;
  EXPECT_NE(with([&](auto& b) { put_u32(b, ti + 10, 9); }).find("tensor 't0'.n_dims: must be 1..4"), std::string::npos);
  EXPECT_NE(with([&](auto& b) { put_u64(b, ti + 14, uint64_t(1) << 60); }).find("tensor 't0'.shape: absurd dimension"), std::string::npos);
  EXPECT_NE(with([&](auto& b) { put_u32(b, ti + 30, 99); }).find("tensor 't0'.type: unknown tensor type 99"), std::string::npos);
  EXPECT_NE(with([&](auto& b) { put_u64(b, ti + 34, 1); }).find("tensor 't0'.offset: 1 is not a multiple of the alignment"), std::string::npos);
  EXPECT_NE(with([&](auto& b) { put_u64(b, ti + 34, 1 << 20); }).find("tensor 't0': data [1048576"), std::string::npos);
  EXPECT_NE(with([&](auto& b) { put_u64(b, ti + 14, 3); }).find("accepted"), std::string::npos);  // smaller tensor is valid
  EXPECT_NE(with([&](auto& b) {
              put_u32(b, ti + 30, 8);
              put_u64(b, ti + 14, 5);
            }).find("not a multiple of the Q8_0 block size"),
            std::string::npos);
}

TEST(GgufCorrupt, MissingRequiredKeyNamesIt) {
  GgufWriter w;
  w.set("general.architecture", GgufValue::make_string("llama"));
  w.set("llama.block_count", GgufValue::make_u32(1));
  const std::vector<uint8_t> b = w.to_bytes();
  auto f = parse_exact(b);
  ASSERT_TRUE(f.is_ok());
  auto c = read_model_config(*f.value());
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("corrupt.gguf: llama.embedding_length: required key is missing"), std::string::npos);

  GgufWriter w2;
  w2.set("general.architecture", GgufValue::make_string("gptj"));
  const std::vector<uint8_t> b2 = w2.to_bytes();
  auto c2 = read_model_config(*parse_exact(b2).value());
  EXPECT_NE(c2.status().message().find("unsupported architecture 'gptj'"), std::string::npos);
}

TEST(GgufCorrupt, EmptyAndTinyFiles) {
  EXPECT_NE(error_of({}).find("header.magic: file truncated"), std::string::npos);
  EXPECT_NE(error_of({'G', 'G', 'U', 'F'}).find("header.version: file truncated"), std::string::npos);
}

}  // namespace
}  // namespace pocket
