// Converters: what we write from llama2.c and Hugging Face files equals llama.cpp's conversion and
// reproduces the golden outputs.
#include <cmath>

#include "convert/convert.h"
#include "format/gguf_reader.h"
#include "format/safetensors_reader.h"
#include <fstream>
#include "model/model_support.h"

namespace pocket {
namespace {

// Tensors and vocabulary of two GGUF files are identical (metadata may differ in presentation).
void expect_same_model(const std::string& ours, const std::string& theirs) {
  auto a = GgufFile::open(ours);
  auto b = GgufFile::open(theirs);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  int compared = 0;
  for (const TensorView& t : b.value()->tensors()) {
    const TensorView* m = a.value()->find_tensor(t.name);
    if (m == nullptr && t.name == "output.weight") continue;  // tied: we do not store the copy
    ASSERT_NE(m, nullptr) << t.name;
    EXPECT_EQ(m->type, t.type) << t.name;
    EXPECT_EQ(m->shape_string(), t.shape_string()) << t.name;
    ASSERT_EQ(m->nbytes, t.nbytes);
    EXPECT_EQ(std::memcmp(m->data, t.data, t.nbytes), 0) << t.name << " data differs";
    ++compared;
  }
  EXPECT_GE(compared, 10);
  for (const char* key : {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
    const GgufValue* x = a.value()->find(key);
    const GgufValue* y = b.value()->find(key);
    ASSERT_TRUE(x && y) << key;
    EXPECT_EQ(x->arr_str, y->arr_str) << key;
    EXPECT_EQ(x->arr_float, y->arr_float) << key;
    EXPECT_EQ(x->arr_int, y->arr_int) << key;
  }
  for (const char* key :
       {"llama.embedding_length", "llama.feed_forward_length", "llama.block_count", "llama.attention.head_count", "llama.attention.head_count_kv",
        "llama.context_length", "llama.rope.dimension_count", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"}) {
    EXPECT_EQ(a.value()->get_uint(key).value(), b.value()->get_uint(key).value()) << key;
  }
}

TEST(Convert, Stories260KEqualsLlamaCppConversion) {
  const std::string out = test::temp_path("c260k.gguf");
  ConvertOptions o;
  o.force = true;
  const Status s = convert_llama2c(test::shared("models/stories260K/stories260K.bin"), test::shared("models/stories260K/tok512.bin"), out, o);
  ASSERT_TRUE(s.is_ok()) << s.message();
  expect_same_model(out, test::shared("golden/stories260K-f32.llamacpp.gguf"));
  std::remove(out.c_str());
}

TEST(Convert, Stories15MFromNpmEqualsLlamaCppConversion) {
  const std::string bin = test::source_dir() + "/models/stories15M.bin";
  if (!test::file_exists(bin)) {
    if (std::getenv("POCKET_REQUIRE_NPM_MODEL")) FAIL() << bin << " missing: run scripts/get_model.sh";
    GTEST_SKIP() << bin << " not downloaded (scripts/get_model.sh); CI requires it";
  }
  const std::string out = test::temp_path("c15m.gguf");
  ConvertOptions o;
  o.force = true;
  const Status s = convert_llama2c(bin, test::shared("models/stories15M/tokenizer.bin"), out, o);
  ASSERT_TRUE(s.is_ok()) << s.message();
  expect_same_model(out, test::shared("golden/stories15M-f32.llamacpp.gguf"));
  // Same tensors, so the same logits bit for bit and the same greedy tokens as llama.cpp's file.
  auto ours = test::load_engine(out);
  auto theirs = test::load_engine(test::shared("golden/stories15M-f32.llamacpp.gguf"));
  const std::vector<int32_t> prompt = ours->tokenizer().encode("The little dog was very happy because", true, false);
  EXPECT_EQ(test::all_logits(*ours, prompt), test::all_logits(*theirs, prompt));
  EXPECT_EQ(test::greedy(*ours, prompt, 64), test::greedy(*theirs, prompt, 64));
  std::remove(out.c_str());
}

TEST(Convert, TinyStories656KFromHuggingFaceDirectory) {
  const std::string out = test::temp_path("ts656k.gguf");
  ConvertOptions o;
  o.force = true;
  const Status s = convert_hf(test::shared("models/TinyStories-656K"), out, o);
  ASSERT_TRUE(s.is_ok()) << s.message();
  auto e = test::load_engine(out);
  ASSERT_NE(e, nullptr);
  const nlohmann::json g = test::load_json(test::shared("golden/tinystories656k-greedy.json"));
  const int64_t nv = e->model().config().n_vocab;
  for (const auto& c : g["cases"]) {
    const std::vector<int32_t> tokens = c["tokens"].get<std::vector<int32_t>>();
    if (c["name"] == "hf_tokenizer" || c["name"] == "bos_only") {
      EXPECT_EQ(e->tokenizer().encode(c["prompt"].get<std::string>(), true, false), tokens) << c["name"];
    }
    const std::vector<float> logits = test::all_logits(*e, tokens);
    const float* last = &logits[(tokens.size() - 1) * (size_t)nv];
    // float32 engine vs the float64 golden: a 2-layer, width-128 model keeps rounding near 1e-5.
    for (const auto& pair : c["last_position_top10"]) EXPECT_NEAR(last[pair[0].get<int>()], pair[1].get<double>(), 2e-4) << c["name"];
    const std::vector<int32_t> want = c["greedy"]["tokens"].get<std::vector<int32_t>>();
    EXPECT_EQ(test::greedy(*e, tokens, (int)want.size()), want) << c["name"];
    EXPECT_EQ(e->tokenizer().decode(want), c["greedy"]["text"].get<std::string>().substr(c["greedy"]["text"].get<std::string>()[0] == ' ' ? 1 : 0))
        << c["name"];
  }
  std::remove(out.c_str());
}

TEST(Convert, OutputTypesLoadAndStayClose) {
  const std::string f32 = test::shared("golden/stories260K-f32.llamacpp.gguf");
  auto ref = test::load_engine(f32);
  const std::vector<int32_t> prompt = ref->tokenizer().encode("Once upon a time", true, false);
  const std::vector<float> base = test::all_logits(*ref, prompt);
  // Expected logit error scales with the type's relative precision.
  const std::pair<const char*, double> types[] = {{"f16", 0.02}, {"bf16", 0.15}, {"q8_0", 0.15}, {"q4_0", 1.5}};
  for (const auto& [type, tol] : types) {
    const std::string out = test::temp_path(std::string("c260k-") + type + ".gguf");
    ConvertOptions o;
    o.force = true;
    o.outtype = type;
    const Status s = convert_llama2c(test::shared("models/stories260K/stories260K.bin"), test::shared("models/stories260K/tok512.bin"), out, o);
    ASSERT_TRUE(s.is_ok()) << s.message();
    auto e = test::load_engine(out);
    ASSERT_NE(e, nullptr);
    const std::vector<float> got = test::all_logits(*e, prompt);
    double ss = 0;
    for (size_t i = 0; i < got.size(); ++i) ss += (got[i] - base[i]) * (got[i] - base[i]);
    EXPECT_LT(std::sqrt(ss / (double)got.size()), tol) << type;
    std::remove(out.c_str());
  }
}

TEST(Convert, BadInputsGiveErrors) {
  ConvertOptions o;
  o.force = true;
  const std::string out = test::temp_path("bad.gguf");
  Status s = convert_llama2c(test::shared("models/stories260K/stories260K.bin"), test::shared("models/stories15M/tokenizer.bin"), out, o);
  EXPECT_FALSE(s.is_ok());
  s = convert_hf(test::shared("models/stories260K"), out, o);
  EXPECT_NE(s.message().find("config.json"), std::string::npos);
  o.outtype = "q9";
  s = convert_llama2c(test::shared("models/stories260K/stories260K.bin"), test::shared("models/stories260K/tok512.bin"), out, o);
  EXPECT_EQ(s.field(), "outtype");
  EXPECT_NE(s.message().find("outtype: unknown or unsupported type 'q9'"), std::string::npos);
  EXPECT_FALSE(test::file_exists(out));
}

// JSON values of the wrong type in config.json / tokenizer.json are errors naming the file and key, never
// an exception (fuzz_hf_config found `"tie_word_embeddings": 384` terminating the converter), and an
// added token id of 10^12 is refused before the vocabulary is allocated.
TEST(Convert, HuggingFaceJsonOfTheWrongTypeIsAnError) {
  using nlohmann::json;
  const std::string src = test::shared("models/TinyStories-656K");
  const std::string dir = test::temp_path("hf-types");
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "' && cp '" + src + "'/*.json '" + dir + "'/ && ln -s '" + src + "/model.safetensors' '" +
               dir + "/model.safetensors'")
                  .c_str());
  const json config = json::parse(test::read_file(src + "/config.json"));
  const json tokenizer = json::parse(test::read_file(src + "/tokenizer.json"));
  struct Case {
    const char* file;
    json doc;
    const char* message;
  };
  std::vector<Case> cases;
  auto with = [](json j, const json::json_pointer& at, json v) {
    j[at] = std::move(v);
    return j;
  };
  cases.push_back(
      {"config.json", with(config, json::json_pointer("/tie_word_embeddings"), 384), "config.json: tie_word_embeddings: must be true or false"});
  cases.push_back({"config.json", with(config, json::json_pointer("/model_type"), 7), "config.json: model_type: must be a string"});
  cases.push_back({"config.json", with(config, json::json_pointer("/attention_bias"), "no"), "config.json: attention_bias: must be true or false"});
  cases.push_back({"config.json", with(config, json::json_pointer("/rms_norm_eps"), -1.0), "config.json: rms_norm_eps: must be in"});
  cases.push_back({"config.json", with(config, json::json_pointer("/rope_theta"), "big"), "config.json: rope_theta: must be a number"});
  cases.push_back(
      {"tokenizer.json", with(tokenizer, json::json_pointer("/model/type"), json::array()), "tokenizer.json: model.type: must be a string"});
  cases.push_back({"tokenizer.json",
                   with(tokenizer, json::json_pointer("/pre_tokenizer"),
                        {{"type", "Sequence"}, {"pretokenizers", {{{"type", "ByteLevel"}, {"use_regex", "yes"}}}}}),
                   "tokenizer.json: pre_tokenizer ByteLevel use_regex: must be true or false"});
  cases.push_back({"tokenizer.json", with(tokenizer, json::json_pointer("/pre_tokenizer"), {{"type", 5}, {"x", "ByteLevel"}}),
                   "tokenizer.json: pre_tokenizer.type: must be a string"});
  cases.push_back({"tokenizer.json", with(tokenizer, json::json_pointer("/added_tokens"), json::array({{{"id", 1000000000000LL}, {"content", "x"}}})),
                   "tokenizer.json: added_tokens: entry without a valid id"});
  cases.push_back({"tokenizer.json",
                   with(tokenizer, json::json_pointer("/added_tokens"), json::array({{{"id", 3}, {"content", "x"}, {"special", "yes"}}})),
                   "tokenizer.json: added_tokens[].special: must be true or false"});
  ConvertOptions o;
  o.force = true;
  const std::string out = dir + "/out.gguf";
  for (const Case& c : cases) {
    std::remove(out.c_str());
    {
      std::ofstream f(dir + "/" + c.file, std::ios::trunc);
      f << c.doc.dump();
    }
    const Status s = convert_hf(dir, out, o);
    EXPECT_FALSE(s.is_ok()) << c.message;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.message();
    EXPECT_FALSE(test::file_exists(out)) << c.message;
    {
      std::ofstream f(dir + "/" + c.file, std::ios::trunc);
      f << (std::string(c.file) == "config.json" ? config : tokenizer).dump();
    }
  }
  // The restored files convert (the cases above failed for their one change only).
  EXPECT_TRUE(convert_hf(dir, out, o).is_ok());
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace pocket

namespace pocket {
namespace {

// Writes a copy of an HF directory whose model.safetensors holds every tensor in `dtype` (F16 / BF16).
std::string hf_copy_with_dtype(const std::string& src_dir, const std::string& dtype) {
  const std::string dir = test::temp_path("hf-" + dtype);
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "' && cp '" + src_dir + "'/*.json '" + dir + "'/").c_str());
  auto st = SafetensorsFile::open(src_dir + "/model.safetensors");
  EXPECT_TRUE(st.is_ok());
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  const TypeTraits& tt = traits(dtype == "F16" ? TensorType::F16 : TensorType::BF16);
  for (const auto& [name, t] : st.value()->tensors()) {
    const size_t n = t.nbytes / 4;
    std::string bytes(n * 2, '\0');
    tt.from_float(reinterpret_cast<const float*>(t.data), bytes.data(), (int64_t)n);
    header[name] = {{"dtype", dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + bytes.size()}}};
    data += bytes;
  }
  std::string h = header.dump();
  while (h.size() % 8) h += ' ';
  const uint64_t hlen = h.size();
  std::ofstream out(dir + "/model.safetensors", std::ios::binary);
  out.write(reinterpret_cast<const char*>(&hlen), 8);
  out << h << data;
  return dir;
}

TEST(Convert, HuggingFaceF16AndBF16Checkpoints) {
  const std::string src = test::shared("models/TinyStories-656K");
  const std::string f32 = test::temp_path("ts-f32.gguf");
  ConvertOptions o;
  o.force = true;
  ASSERT_TRUE(convert_hf(src, f32, o).is_ok());
  auto base = test::load_engine(f32);
  const auto prompt = base->tokenizer().encode("Once upon a time", true, false);
  const std::vector<float> want = test::all_logits(*base, prompt);
  for (const std::pair<std::string, double>& c : {std::pair<std::string, double>{"F16", 0.01}, {"BF16", 0.1}}) {
    const std::string dir = hf_copy_with_dtype(src, c.first);
    const std::string out = test::temp_path("ts-" + c.first + ".gguf");
    const Status s = convert_hf(dir, out, o);
    ASSERT_TRUE(s.is_ok()) << s.message();
    auto e = test::load_engine(out);
    EXPECT_EQ(e->model().weights().layers[0].wq.type, c.first == "F16" ? TensorType::F16 : TensorType::BF16);
    const std::vector<float> got = test::all_logits(*e, prompt);
    double ss = 0;
    for (size_t i = 0; i < got.size(); ++i) ss += (got[i] - want[i]) * (got[i] - want[i]);
    EXPECT_LT(std::sqrt(ss / (double)got.size()), c.second) << c.first;
    std::system(("rm -rf '" + dir + "'").c_str());
    std::remove(out.c_str());
  }
  std::remove(f32.c_str());
}

}  // namespace
}  // namespace pocket
