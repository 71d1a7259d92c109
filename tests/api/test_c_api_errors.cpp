// Bad input through the C API: every case returns a status and a message naming the argument, file or
// field, and never aborts (this suite also runs under ASan + UBSan).
#include <gtest/gtest.h>

#include <cstddef>
#include <fstream>
#include <vector>

#include "api/api_support.h"

namespace pocket::test {
namespace {

// The status is `want` and the message mentions `needle`.
#define EXPECT_FAILS(call, want, needle)                                                                \
  do {                                                                                                  \
    const pocket_status st_ = (call);                                                                   \
    EXPECT_EQ(st_, want) << #call << ": " << pocket_status_name(st_) << ": " << pocket_last_error();    \
    EXPECT_NE(std::string(pocket_last_error()).find(needle), std::string::npos) << pocket_last_error(); \
  } while (0)

TEST(CApiErrors, NullHandlesAndArguments) {
  pocket_model* m = nullptr;
  pocket_session* s = nullptr;
  size_t n = 0;
  char buf[8];
  pocket_token tok[4] = {1, 2, 3, 4};
  const char* text = nullptr;
  bool done = false;
  EXPECT_FAILS(pocket_model_load(nullptr, nullptr, &m), POCKET_ERR_INVALID_ARGUMENT, "path is NULL");
  EXPECT_FAILS(pocket_model_load("x.gguf", nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "out is NULL");
  EXPECT_FAILS(pocket_model_get_info(nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_FAILS(pocket_model_meta(nullptr, "k", buf, sizeof buf, &n), POCKET_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_FAILS(pocket_model_plan(nullptr, nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_FAILS(pocket_model_fits(nullptr, nullptr, nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_FAILS(pocket_session_new(nullptr, nullptr, &s), POCKET_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_FAILS(pocket_session_decode(nullptr, tok, 1), POCKET_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS(pocket_session_logits(nullptr, nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS(pocket_session_tokens(nullptr, tok, 4, &n), POCKET_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS(pocket_session_truncate(nullptr, 0), POCKET_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS(pocket_session_embed(nullptr, tok, 1, POCKET_POOLING_MEAN, true, nullptr, 0), POCKET_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS(pocket_session_save(nullptr, "x"), POCKET_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS(pocket_session_load(nullptr, "x"), POCKET_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS(pocket_session_fork(nullptr, &s), POCKET_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS(pocket_tokenize(nullptr, "a", 1, true, false, tok, 4, &n), POCKET_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_FAILS(pocket_token_to_piece(nullptr, 1, false, buf, sizeof buf, &n), POCKET_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_FAILS(pocket_detokenize(nullptr, tok, 1, false, buf, sizeof buf, &n), POCKET_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_FAILS(pocket_detokenizer_new(nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "out is NULL");
  EXPECT_FAILS(pocket_detokenizer_push(nullptr, 1, &text, &n), POCKET_ERR_INVALID_ARGUMENT, "detok is NULL");
  EXPECT_FAILS(pocket_detokenizer_flush(nullptr, &text, &n), POCKET_ERR_INVALID_ARGUMENT, "detok is NULL");
  EXPECT_FAILS(pocket_chat_apply(nullptr, nullptr, nullptr, 0, buf, sizeof buf, &n), POCKET_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_FAILS(pocket_chat_stop_strings(nullptr, nullptr, nullptr, 0, &n), POCKET_ERR_INVALID_ARGUMENT, "model is NULL");
  EXPECT_FAILS(pocket_sampler_new(nullptr, nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "out is NULL");
  EXPECT_FAILS(pocket_sampler_sample(nullptr, nullptr, 0, nullptr), POCKET_ERR_INVALID_ARGUMENT, "sampler is NULL");
  EXPECT_FAILS(pocket_sampler_accept(nullptr, 1), POCKET_ERR_INVALID_ARGUMENT, "sampler is NULL");
  EXPECT_FAILS(pocket_generate(nullptr, "x", nullptr, nullptr, nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS(pocket_generate_begin(nullptr, "x", nullptr), POCKET_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS(pocket_generate_next(nullptr, &text, &n, &done), POCKET_ERR_INVALID_ARGUMENT, "session is NULL");
  EXPECT_FAILS(pocket_generate_end(nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "session is NULL");
  // The void and value-returning functions accept NULL quietly.
  pocket_model_free(nullptr);
  pocket_session_free(nullptr);
  pocket_sampler_free(nullptr);
  pocket_sampler_reset(nullptr);
  pocket_detokenizer_free(nullptr);
  pocket_session_cancel(nullptr);
  EXPECT_EQ(pocket_session_n_tokens(nullptr), 0);
  EXPECT_EQ(pocket_session_n_ctx(nullptr), 0);
  EXPECT_FALSE(pocket_token_is_eog(nullptr, 2));
  // A successful call clears the message.
  EXPECT_EQ(pocket_abi_version(), POCKET_ABI_VERSION);
  ModelPtr model = load_model(f32_model());
  ASSERT_TRUE(model);
  EXPECT_STREQ(pocket_last_error(), "");
}

TEST(CApiErrors, BadFiles) {
  pocket_model* m = reinterpret_cast<pocket_model*>(1);
  EXPECT_FAILS(pocket_model_load("/nonexistent/model.gguf", nullptr, &m), POCKET_ERR_IO, "/nonexistent/model.gguf");
  EXPECT_EQ(m, nullptr);
  // A truncated GGUF: the header promises more than the file holds.
  const std::string whole = read_file(f32_model());
  for (size_t keep : {(size_t)3, (size_t)24, (size_t)4096, whole.size() / 2}) {
    const std::string path = temp_path("truncated.gguf");
    std::ofstream(path, std::ios::binary).write(whole.data(), (std::streamsize)keep);
    const pocket_status st = pocket_model_load(path.c_str(), nullptr, &m);
    EXPECT_TRUE(st == POCKET_ERR_FORMAT || st == POCKET_ERR_IO) << keep << ": " << pocket_status_name(st);
    EXPECT_NE(std::string(pocket_last_error()).find(path), std::string::npos) << pocket_last_error();
    EXPECT_EQ(m, nullptr);
    std::remove(path.c_str());
  }
}

TEST(CApiErrors, TokensContextAndBuffers) {
  ModelPtr m = load_model(f32_model());
  SessionPtr s = new_session(m.get(), 32);
  pocket_token bad[2] = {1, 32000};
  EXPECT_FAILS(pocket_session_decode(s.get(), bad, 2), POCKET_ERR_OUT_OF_RANGE, "outside the vocabulary");
  pocket_token neg = -5;
  EXPECT_FAILS(pocket_session_decode(s.get(), &neg, 1), POCKET_ERR_OUT_OF_RANGE, "-5");
  EXPECT_EQ(pocket_session_n_tokens(s.get()), 0);  // an error changes nothing
  std::vector<pocket_token> many(40, 100);
  EXPECT_FAILS(pocket_session_decode(s.get(), many.data(), many.size()), POCKET_ERR_OUT_OF_RANGE, "context of 32");
  ASSERT_EQ(pocket_session_decode(s.get(), many.data(), 30), POCKET_OK);
  EXPECT_FAILS(pocket_session_decode(s.get(), many.data(), 3), POCKET_ERR_OUT_OF_RANGE, "n_ctx");
  EXPECT_EQ(pocket_session_n_tokens(s.get()), 30);
  EXPECT_FAILS(pocket_generate(s.get(), " and then a very long prompt that does not fit in the rest", nullptr, nullptr, nullptr, nullptr),
               POCKET_ERR_OUT_OF_RANGE, "n_ctx");
  EXPECT_FAILS(pocket_session_truncate(s.get(), 31), POCKET_ERR_OUT_OF_RANGE, "n_keep 31");
  EXPECT_FAILS(pocket_session_truncate(s.get(), -1), POCKET_ERR_OUT_OF_RANGE, "n_keep -1");
  // A generation that reaches the context's end stops with finish reason "context".
  pocket_generate_params gp = pocket_generate_default_params();
  gp.n_predict = 100;
  gp.stop_on_bos = false;
  pocket_generate_stats st{};
  st.size = sizeof st;
  ASSERT_EQ(pocket_generate(s.get(), nullptr, &gp, nullptr, nullptr, &st), POCKET_OK) << pocket_last_error();
  EXPECT_TRUE(std::string(st.finish_reason) == "context" || std::string(st.finish_reason) == "eos") << st.finish_reason;
  EXPECT_LE(pocket_session_n_tokens(s.get()), 33);

  size_t n = 0;
  pocket_token one[1];
  EXPECT_FAILS(pocket_tokenize(m.get(), "Once upon a time", 16, true, false, one, 1, &n), POCKET_ERR_BUFFER_TOO_SMALL, "room for 1");
  EXPECT_EQ(n, 5u);  // the size needed
  char small[3];
  EXPECT_FAILS(pocket_token_to_piece(m.get(), 9038, false, small, sizeof small, &n), POCKET_ERR_BUFFER_TOO_SMALL, "holds 3 bytes");
  EXPECT_GT(n, 2u);
  EXPECT_FAILS(pocket_token_to_piece(m.get(), 32000, false, small, sizeof small, &n), POCKET_ERR_OUT_OF_RANGE, "32000");
  const pocket_token ids[3] = {9038, 2501, 263};
  EXPECT_FAILS(pocket_detokenize(m.get(), ids, 3, false, small, sizeof small, &n), POCKET_ERR_BUFFER_TOO_SMALL, "needed");
  std::vector<pocket_token> hist(2);
  EXPECT_FAILS(pocket_session_tokens(s.get(), hist.data(), hist.size(), &n), POCKET_ERR_BUFFER_TOO_SMALL, "room for 2");
  float emb[10];
  EXPECT_FAILS(pocket_session_embed(s.get(), ids, 3, POCKET_POOLING_MEAN, true, emb, 10), POCKET_ERR_BUFFER_TOO_SMALL, "n_embd is 288");
  char meta[4];
  EXPECT_FAILS(pocket_model_meta(m.get(), "general.architecture", meta, sizeof meta, &n), POCKET_ERR_BUFFER_TOO_SMALL, "needed");
  EXPECT_FAILS(pocket_model_meta(m.get(), "no.such.key", meta, sizeof meta, &n), POCKET_ERR_INVALID_ARGUMENT, "no.such.key");
  pocket_detokenizer* d = nullptr;
  ASSERT_EQ(pocket_detokenizer_new(m.get(), &d), POCKET_OK);
  const char* t = nullptr;
  EXPECT_FAILS(pocket_detokenizer_push(d, 99999, &t, &n), POCKET_ERR_OUT_OF_RANGE, "99999");
  pocket_detokenizer_free(d);
}

TEST(CApiErrors, OptionStructs) {
  ModelPtr m = load_model(f32_model());
  pocket_session* s = nullptr;
  pocket_session_params p = pocket_session_default_params();
  p.size = sizeof p + 8;  // a newer header than this library
  EXPECT_FAILS(pocket_session_new(m.get(), &p, &s), POCKET_ERR_INVALID_ARGUMENT, "pocket_session_params.size");
  p.size = 0;
  EXPECT_FAILS(pocket_session_new(m.get(), &p, &s), POCKET_ERR_INVALID_ARGUMENT, "sizeof(pocket_session_params)");
  p = pocket_session_default_params();
  p.n_threads = -1;
  EXPECT_FAILS(pocket_session_new(m.get(), &p, &s), POCKET_ERR_INVALID_ARGUMENT, "n_threads");
  p = pocket_session_default_params();
  p.kv_type_k = 9;
  EXPECT_FAILS(pocket_session_new(m.get(), &p, &s), POCKET_ERR_INVALID_ARGUMENT, "kv_type_k");
  p.kv_type_k = -1;
  EXPECT_FAILS(pocket_session_new(m.get(), &p, &s), POCKET_ERR_INVALID_ARGUMENT, "got -1");
  p = pocket_session_default_params();
  p.kv_window = 64;
  p.kv_sinks = 64;
  EXPECT_FAILS(pocket_session_new(m.get(), &p, &s), POCKET_ERR_INVALID_ARGUMENT, "kv_sinks");
  p = pocket_session_default_params();
  p.mem_budget = 1 << 20;
  EXPECT_FAILS(pocket_session_new(m.get(), &p, &s), POCKET_ERR_RESOURCE_LIMIT, "budget");
  EXPECT_EQ(s, nullptr);
  // An older caller: the struct ends before kv_window; the rest takes the defaults.
  p = pocket_session_default_params();
  p.size = offsetof(pocket_session_params, kv_window);
  p.n_ctx = 64;
  p.n_threads = 1;
  ASSERT_EQ(pocket_session_new(m.get(), &p, &s), POCKET_OK) << pocket_last_error();
  SessionPtr sp(s);
  EXPECT_EQ(pocket_session_n_ctx(s), 64);

  pocket_sampling_params smp = pocket_sampling_default_params();
  smp.temperature = NAN;
  pocket_generate_params gp = pocket_generate_default_params();
  gp.sampling = &smp;
  EXPECT_FAILS(pocket_generate(s, "Hi", &gp, nullptr, nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "temperature");
  smp = pocket_sampling_default_params();
  smp.top_p = -1;
  EXPECT_FAILS(pocket_generate(s, "Hi", &gp, nullptr, nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "top_p");
  gp = pocket_generate_default_params();
  gp.n_stop_strings = 2;
  EXPECT_FAILS(pocket_generate(s, "Hi", &gp, nullptr, nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "stop_strings");
  const char* stops[] = {"ok", ""};
  gp.stop_strings = stops;
  EXPECT_FAILS(pocket_generate(s, "Hi", &gp, nullptr, nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "stop_strings[1]");
  gp = pocket_generate_default_params();
  gp.draft_lookup = true;
  gp.draft_self_layers = 2;
  EXPECT_FAILS(pocket_generate(s, "Hi", &gp, nullptr, nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "exclusive");
  gp = pocket_generate_default_params();
  gp.draft_model = "/nonexistent/draft.gguf";
  EXPECT_FAILS(pocket_generate(s, "Hi", &gp, nullptr, nullptr, nullptr), POCKET_ERR_IO, "/nonexistent/draft.gguf");
  gp = pocket_generate_default_params();
  gp.draft_max = 0;
  EXPECT_FAILS(pocket_generate(s, "Hi", &gp, nullptr, nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "draft_max");
  EXPECT_EQ(pocket_session_n_tokens(s), 0);  // nothing of the refused prompts stayed
  EXPECT_FAILS(pocket_generate(s, "", nullptr, nullptr, nullptr, nullptr), POCKET_ERR_INVALID_ARGUMENT, "empty");
  pocket_sampler* sampler = nullptr;
  ASSERT_EQ(pocket_sampler_new(m.get(), nullptr, &sampler), POCKET_OK);
  std::vector<float> logits(100, 0.0f);
  pocket_token t;
  EXPECT_FAILS(pocket_sampler_sample(sampler, logits.data(), 100, &t), POCKET_ERR_INVALID_ARGUMENT, "n_vocab is 100");
  EXPECT_FAILS(pocket_sampler_accept(sampler, 40000), POCKET_ERR_OUT_OF_RANGE, "40000");
  pocket_sampler_free(sampler);
}

TEST(CApiErrors, GenerationOrder) {
  ModelPtr m = load_model(f32_model());
  SessionPtr s = new_session(m.get());
  const char* t = nullptr;
  size_t n = 0;
  bool done = false;
  EXPECT_FAILS(pocket_generate_next(s.get(), &t, &n, &done), POCKET_ERR_INVALID_ARGUMENT, "no generation running");
  EXPECT_FAILS(pocket_generate_end(s.get(), nullptr), POCKET_ERR_INVALID_ARGUMENT, "no generation running");
  ASSERT_EQ(pocket_generate_begin(s.get(), "Hi", nullptr), POCKET_OK);
  EXPECT_FAILS(pocket_generate_begin(s.get(), "Hi", nullptr), POCKET_ERR_INVALID_ARGUMENT, "running");
  pocket_token tok = 5;
  EXPECT_FAILS(pocket_session_decode(s.get(), &tok, 1), POCKET_ERR_INVALID_ARGUMENT, "running");
  EXPECT_FAILS(pocket_session_save(s.get(), temp_path("x").c_str()), POCKET_ERR_INVALID_ARGUMENT, "running");
  ASSERT_EQ(pocket_generate_next(s.get(), &t, &n, &done), POCKET_OK);
  pocket_generate_stats st{};
  st.size = sizeof st;
  ASSERT_EQ(pocket_generate_end(s.get(), &st), POCKET_OK);  // early: as cancelled
  EXPECT_STREQ(st.finish_reason, "cancelled");
  EXPECT_EQ(st.n_generated, 1);
  const float* logits = nullptr;
  EXPECT_EQ(pocket_session_logits(s.get(), &logits, nullptr), POCKET_OK);  // the pending token is evaluated
  SessionPtr empty = new_session(m.get());
  EXPECT_FAILS(pocket_session_logits(empty.get(), &logits, nullptr), POCKET_ERR_INVALID_ARGUMENT, "empty");
}

TEST(CApiErrors, BadStateFiles) {
  ModelPtr m = load_model(f32_model());
  SessionPtr s = new_session(m.get());
  const std::string good = temp_path("good.state");
  EXPECT_FAILS(pocket_session_save(s.get(), "/nonexistent/dir/x.state"), POCKET_ERR_IO, "/nonexistent/dir/x.state");
  ASSERT_EQ(greedy(s.get(), "Once upon a time", 4).empty(), false);
  ASSERT_EQ(pocket_session_save(s.get(), good.c_str()), POCKET_OK) << pocket_last_error();
  const std::string bytes = read_file(good);
  const auto write = [](const std::string& path, const std::string& b) {
    std::ofstream(path, std::ios::binary).write(b.data(), (std::streamsize)b.size());
  };
  SessionPtr t = new_session(m.get());
  EXPECT_FAILS(pocket_session_load(t.get(), "/nonexistent.state"), POCKET_ERR_IO, "/nonexistent.state");
  const std::string bad = temp_path("bad.state");
  for (size_t keep : {(size_t)0, (size_t)7, (size_t)20, (size_t)60, bytes.size() / 2, bytes.size() - 1}) {
    write(bad, bytes.substr(0, keep));
    EXPECT_FAILS(pocket_session_load(t.get(), bad.c_str()), POCKET_ERR_FORMAT, bad);
    EXPECT_EQ(pocket_session_n_tokens(t.get()), 0);
  }
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x40;
  write(bad, flipped);
  EXPECT_FAILS(pocket_session_load(t.get(), bad.c_str()), POCKET_ERR_FORMAT, "checksum");
  // A hostile token count: refused before anything is allocated.
  std::string huge = bytes;
  const uint32_t big = 0xfffffff0u;
  std::memcpy(&huge[8 + 4 + 8 + 4 + 4 + 4 + 4 + 4], &big, 4);
  write(bad, huge);
  EXPECT_FAILS(pocket_session_load(t.get(), bad.c_str()), POCKET_ERR_FORMAT, "n_tokens");
  // Another model file, another KV type, a context too small.
  ModelPtr q4 = load_model(q4_model());
  SessionPtr other = new_session(q4.get());
  EXPECT_FAILS(pocket_session_load(other.get(), good.c_str()), POCKET_ERR_INVALID_ARGUMENT, "another model");
  pocket_session_params p = pocket_session_default_params();
  p.n_threads = 1;
  p.kv_type_v = POCKET_KV_F16;
  pocket_session* f16 = nullptr;
  ASSERT_EQ(pocket_session_new(m.get(), &p, &f16), POCKET_OK);
  SessionPtr f16p(f16);
  EXPECT_FAILS(pocket_session_load(f16, good.c_str()), POCKET_ERR_INVALID_ARGUMENT, "kv_type_v");
  SessionPtr tiny = new_session(m.get(), 4);
  EXPECT_FAILS(pocket_session_load(tiny.get(), good.c_str()), POCKET_ERR_OUT_OF_RANGE, "context");
  EXPECT_EQ(pocket_session_load(t.get(), good.c_str()), POCKET_OK) << pocket_last_error();
  std::remove(good.c_str());
  std::remove(bad.c_str());
}

}  // namespace
}  // namespace pocket::test
