// Q5_0, Q5_1 and the K-quants (Q4_K, Q5_K, Q6_K): the reference quantizers write llama-quantize's bytes
// (sha256 per tensor in golden/kquants-stories15M.json), round trips stay within each format's step, and
// zeros / NaN / huge values are defined.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "dtype/block_formats.h"
#include "dtype/tensor_type.h"
#include "format/gguf_reader.h"
#include "quantize/quantize_model.h"
#include "sha256.h"
#include "test_support.h"

namespace pocket {
namespace {

TEST(KQuants, Sha256KnownVectors) {
  EXPECT_EQ(test::sha256_hex(nullptr, 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string abc = "abc";
  EXPECT_EQ(test::sha256_hex(reinterpret_cast<const uint8_t*>(abc.data()), 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Every tensor of every llama-quantize output listed in the golden file whose type we write: quantized
// from the F32 file with our reference, its sha256 must equal llama-quantize's.
TEST(KQuants, ReferenceQuantizersWriteLlamaQuantizesBytes) {
  auto f32 = GgufFile::open(test::shared("golden/stories15M-f32.llamacpp.gguf"));
  ASSERT_TRUE(f32.is_ok());
  std::ifstream in(test::shared("golden/kquants-stories15M.json"));
  const nlohmann::json golden = nlohmann::json::parse(in);
  std::map<std::string, int> checked;
  for (const auto& [file, info] : golden["files"].items()) {
    for (const auto& [name, entry] : info["tensors"].items()) {
      const std::string type_name = entry[0];
      const auto type = type_from_name(type_name);
      if (!type || *type == TensorType::F32 || traits(*type).from_float == nullptr) continue;
      const TensorView* src = f32.value()->find_tensor(name);
      ASSERT_NE(src, nullptr) << name;
      const TypeTraits& tt = traits(*type);
      const size_t rb = row_bytes(tt, src->ne[0]);
      std::vector<uint8_t> mine(rb * (size_t)src->n_rows());
      for (int64_t r = 0; r < src->n_rows(); ++r)
        tt.from_float(reinterpret_cast<const float*>(src->data) + r * src->ne[0], mine.data() + r * rb, src->ne[0]);
      EXPECT_EQ(test::sha256_hex(mine.data(), mine.size()), entry[1].get<std::string>()) << file << ": " << name << " (" << type_name << ")";
      ++checked[type_name];
    }
  }
  // stories15M's shapes: 288-wide rows take Q5_0/Q5_1/Q8_0, the 768-wide ffn_down rows the K types.
  EXPECT_GE(checked["Q5_0"], 42 + 34 + 32);
  EXPECT_GE(checked["Q5_1"], 42);
  EXPECT_GE(checked["Q4_K"], 10);
  EXPECT_GE(checked["Q5_K"], 4);
  EXPECT_GE(checked["Q6_K"], 10);
  EXPECT_GE(checked["Q3_K"], 6);
  EXPECT_GE(checked["IQ4_NL"], 42 + 36 + 36 + 24);
  EXPECT_GE(checked["IQ4_XS"], 6);
}

// `pocket quantize --type <preset>` writes llama-quantize's whole file: every tensor's type (the per-tensor
// mix and its fallbacks) and bytes, and general.file_type.
TEST(KQuants, PresetsWriteLlamaQuantizesFiles) {
  std::ifstream in(test::shared("golden/kquants-stories15M.json"));
  const nlohmann::json golden = nlohmann::json::parse(in);
  const std::string src = test::shared("golden/stories15M-f32.llamacpp.gguf");
  for (const char* preset : {"q4_k_m", "q4_k_s", "q5_k_m", "q6_k", "q5_0", "q5_1", "q3_k_m", "iq4_nl", "iq4_xs", "q2_k"}) {
    const auto& want = golden["files"]["stories15M-" + std::string(preset) + ".llamacpp.gguf"];
    auto spec = parse_quant_type(preset);
    ASSERT_TRUE(spec.is_ok()) << preset;
    QuantizeOptions o;
    o.type = spec.value().type;
    o.preset = spec.value().preset;
    o.force = true;
    const std::string out = test::temp_path(std::string(preset) + ".gguf");
    auto r = quantize_model(src, out, o);
    ASSERT_TRUE(r.is_ok()) << preset << ": " << r.status().message();
    auto f = GgufFile::open(out);
    ASSERT_TRUE(f.is_ok());
    EXPECT_EQ(f.value()->get_uint_or("general.file_type", 0), want["file_type"].get<uint64_t>()) << preset;
    EXPECT_EQ(f.value()->tensors().size(), want["tensors"].size()) << preset;
    for (const TensorView& t : f.value()->tensors()) {
      ASSERT_TRUE(want["tensors"].contains(t.name)) << preset << ": " << t.name;
      const auto& e = want["tensors"][t.name];
      EXPECT_EQ(traits(t.type).name, e[0].get<std::string>()) << preset << ": " << t.name;
      EXPECT_EQ(test::sha256_hex(t.data, t.nbytes), e[1].get<std::string>()) << preset << ": " << t.name;
    }
    std::remove(out.c_str());
  }
}

double max_step(TensorType t, const std::vector<float>& x) {
  // The largest rounding step any element can see: the block's range over the number of levels (K types:
  // plus the 6-bit rounding of the sub-block scales, a step of range / 63 at most).
  float amax = 0;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  switch (t) {
    case TensorType::Q5_0: return amax / 16.0;
    case TensorType::Q5_1: return 2 * amax / 31.0;
    case TensorType::Q4_K: return 2 * amax / 15.0 * (1 + 1.0 / 63) + 2 * amax / 63;
    case TensorType::Q5_K: return 2 * amax / 31.0 * (1 + 1.0 / 63) + 2 * amax / 63;
    case TensorType::Q6_K: return amax / 32.0 * (1 + 1.0 / 127) * 1.1;
    case TensorType::Q2_K: return 2 * amax / 3.0 * 1.6;  // 4 levels with a min, least-absolute-deviation scales
    case TensorType::Q3_K: return amax / 4.0 * 1.6;      // 8 levels, least-squares scales (not max-based)
    case TensorType::IQ4_NL: return amax * 24.0 / 113;   // the table's widest gap (24) at the block's scale
    case TensorType::IQ4_XS: return amax * 24.0 / 113 * 1.2;
    default: return 0;
  }
}

TEST(KQuants, RoundTripWithinTheFormatsStep) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (TensorType t : {TensorType::Q5_0, TensorType::Q5_1, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K, TensorType::Q2_K, TensorType::Q3_K,
                       TensorType::IQ4_NL, TensorType::IQ4_XS}) {
    const TypeTraits& tt = traits(t);
    for (int rep = 0; rep < 20; ++rep) {
      const int64_t n = tt.block_size * (1 + rep % 3);
      std::vector<float> x((size_t)n);
      const float scale = rep % 4 == 0 ? 1e-3f : rep % 4 == 1 ? 30.0f : 1.0f;
      for (float& v : x) v = nd(rng) * scale + (rep % 5 == 0 ? 2.0f * scale : 0.0f);
      std::vector<uint8_t> q(row_bytes(tt, n));
      std::vector<float> y((size_t)n);
      tt.from_float(x.data(), q.data(), n);
      tt.to_float(q.data(), y.data(), n);
      for (int64_t b = 0; b < n; b += tt.block_size) {
        const std::vector<float> blk(x.begin() + b, x.begin() + b + tt.block_size);
        const double step = max_step(t, blk);
        for (int64_t i = b; i < b + tt.block_size; ++i)
          ASSERT_LE(std::fabs(x[(size_t)i] - y[(size_t)i]), step + 1e-6) << tt.name << " rep " << rep << " i " << i;
      }
    }
  }
}

TEST(KQuants, ZerosNanAndHugeValuesAreDefined) {
  for (TensorType t : {TensorType::Q5_0, TensorType::Q5_1, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K, TensorType::Q2_K, TensorType::Q3_K,
                       TensorType::IQ4_NL, TensorType::IQ4_XS}) {
    const TypeTraits& tt = traits(t);
    const int64_t n = tt.block_size;
    std::vector<float> x((size_t)n, 0.0f), y((size_t)n);
    std::vector<uint8_t> q(row_bytes(tt, n));
    tt.from_float(x.data(), q.data(), n);
    tt.to_float(q.data(), y.data(), n);
    for (float v : y) EXPECT_EQ(v, 0.0f) << tt.name;
    x[3] = NAN;
    x[5] = INFINITY;
    x[7] = 1e30f;
    x[9] = 1.0f;
    tt.from_float(x.data(), q.data(), n);  // no crash, no UB (UBSan run)
    tt.to_float(q.data(), y.data(), n);
    for (float v : y) EXPECT_FALSE(std::isnan(v) && t != TensorType::Q5_0 && t != TensorType::Q5_1) << tt.name;
  }
  // Q8_K activations: a zero block, a NaN block.
  std::vector<float> a(256, 0.0f);
  BlockQ8_K b;
  quantize_row_q8_k_ref(a.data(), &b, 256);
  EXPECT_EQ(b.d, 0.0f);
  a[0] = NAN;
  quantize_row_q8_k_ref(a.data(), &b, 256);
  EXPECT_EQ(b.d, 0.0f);
  for (int16_t s : b.bsums) EXPECT_EQ(s, 0);
}

}  // namespace
}  // namespace pocket
