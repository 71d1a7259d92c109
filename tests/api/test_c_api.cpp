// The C API (include/pocket/pocket.h) against the C++ engine it wraps: generation, steps, state files,
// forks, cancellation, progress, metadata, tokens, chat, sampling, speculative decoding, old callers.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstddef>
#include <thread>
#include <vector>

#include "api/api_support.h"
#include "engine/engine.h"

namespace pocket::test {
namespace {

// The text Engine::generate_tokens (what `pocket run` calls) produces, greedy.
std::string engine_greedy(const std::string& path, const std::string& prompt, int n) {
  EngineOptions eo;
  eo.n_ctx = 256;
  auto e = Engine::load(path, eo);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  GenerateOptions go;
  go.n_predict = n;
  go.sampling.temperature = 0;
  std::string out;
  auto r = e.value()->generate(prompt, go, [&](const std::string& t) {
    out += t;
    return true;
  });
  EXPECT_TRUE(r.is_ok());
  return out;
}

TEST(CApi, VersionAndAbi) {
  EXPECT_EQ(pocket_abi_version(), POCKET_ABI_VERSION);
  EXPECT_STREQ(pocket_version(), POCKET_PROJECT_VERSION);
  EXPECT_STREQ(pocket_status_name(POCKET_ERR_BUFFER_TOO_SMALL), "buffer_too_small");
}

TEST(CApi, GreedyTextEqualsTheEngine) {
  for (const std::string& path : {f32_model(), q4_model()}) {
    ModelPtr m = load_model(path);
    ASSERT_TRUE(m) << pocket_last_error();
    SessionPtr s = new_session(m.get());
    ASSERT_TRUE(s) << pocket_last_error();
    const int n = quick() ? 16 : 48;
    pocket_generate_stats st{};
    st.size = sizeof st;
    const std::string text = greedy(s.get(), "Once upon a time", n, &st);
    EXPECT_EQ(text, engine_greedy(path, "Once upon a time", n)) << path;
    EXPECT_EQ(st.n_generated, n);
    EXPECT_STREQ(st.finish_reason, "n_predict");
    EXPECT_EQ(st.n_prompt, 5);  // BOS + 4 tokens
  }
}

TEST(CApi, StepsEqualTheCallbackAndPrimeTheHistory) {
  ModelPtr m = load_model(f32_model());
  ASSERT_TRUE(m);
  SessionPtr a = new_session(m.get()), b = new_session(m.get());
  const std::string want = greedy(a.get(), "The dog", 24);
  pocket_sampling_params sp = pocket_sampling_default_params();
  sp.temperature = 0;
  pocket_generate_params gp = pocket_generate_default_params();
  gp.n_predict = 24;
  gp.sampling = &sp;
  ASSERT_EQ(pocket_generate_begin(b.get(), "The dog", &gp), POCKET_OK) << pocket_last_error();
  std::string got;
  bool done = false;
  int steps = 0;
  while (!done) {
    const char* t = nullptr;
    size_t len = 0;
    ASSERT_EQ(pocket_generate_next(b.get(), &t, &len, &done), POCKET_OK) << pocket_last_error();
    got.append(t, len);
    ASSERT_LT(++steps, 100);
  }
  pocket_generate_stats st{};
  st.size = sizeof st;
  ASSERT_EQ(pocket_generate_end(b.get(), &st), POCKET_OK);
  EXPECT_EQ(got, want);
  EXPECT_EQ(st.n_generated, 24);
  // The history is prompt + generated, and both sessions agree token for token.
  EXPECT_EQ(pocket_session_n_tokens(a.get()), 3 + 24);
  std::vector<pocket_token> ta(64), tb(64);
  size_t na = 0, nb = 0;
  ASSERT_EQ(pocket_session_tokens(a.get(), ta.data(), ta.size(), &na), POCKET_OK);
  ASSERT_EQ(pocket_session_tokens(b.get(), tb.data(), tb.size(), &nb), POCKET_OK);
  ta.resize(na);
  tb.resize(nb);
  EXPECT_EQ(ta, tb);
}

TEST(CApi, ContinuingAGenerationEqualsOneLongerRun) {
  ModelPtr m = load_model(f32_model());
  SessionPtr a = new_session(m.get()), b = new_session(m.get());
  const std::string whole = greedy(a.get(), "Once upon a time", 40);
  pocket_generate_stats st{};
  st.size = sizeof st;
  std::string parts = greedy(b.get(), "Once upon a time", 20);
  parts += greedy(b.get(), nullptr, 20, &st);  // continue: the pending token is evaluated, the rest reused
  EXPECT_EQ(parts, whole);
  EXPECT_EQ(st.n_reused, 5 + 20 - 1);
}

TEST(CApi, SavedStateContinuesLikeAnUninterruptedRun) {
  const int n = quick() ? 12 : 40;
  const std::string path = temp_path("state.bin");
  std::string want;
  {
    ModelPtr m = load_model(f32_model());
    SessionPtr s = new_session(m.get());
    want = greedy(s.get(), "Once upon a time, there was a dragon", n);
  }
  {
    ModelPtr m = load_model(f32_model());
    SessionPtr s = new_session(m.get());
    std::vector<pocket_token> ids(64);
    size_t k = 0;
    const std::string prompt = "Once upon a time, there was a dragon";
    ASSERT_EQ(pocket_tokenize(m.get(), prompt.data(), prompt.size(), true, false, ids.data(), ids.size(), &k), POCKET_OK);
    ASSERT_EQ(pocket_session_decode(s.get(), ids.data(), k), POCKET_OK) << pocket_last_error();
    ASSERT_EQ(pocket_session_save(s.get(), path.c_str()), POCKET_OK) << pocket_last_error();
  }
  ModelPtr m = load_model(f32_model());  // a fresh model and session: nothing carried over but the file
  SessionPtr s = new_session(m.get());
  ASSERT_EQ(pocket_session_load(s.get(), path.c_str()), POCKET_OK) << pocket_last_error();
  pocket_generate_stats st{};
  st.size = sizeof st;
  EXPECT_EQ(greedy(s.get(), nullptr, n, &st), want);
  EXPECT_EQ(st.n_reused, st.n_prompt);  // nothing of the prompt evaluated again
  std::remove(path.c_str());
}

TEST(CApi, ForkedSessionsContinueIndependently) {
  ModelPtr m = load_model(f32_model());
  SessionPtr s = new_session(m.get()), ref = new_session(m.get());
  const std::string want = greedy(ref.get(), "A cat", 30);
  EXPECT_EQ(greedy(s.get(), "A cat", 10), want.substr(0, greedy(new_session(m.get()).get(), "A cat", 10).size()));
  pocket_session* f = nullptr;
  ASSERT_EQ(pocket_session_fork(s.get(), &f), POCKET_OK) << pocket_last_error();
  SessionPtr fork(f);
  const std::string tail_fork = greedy(fork.get(), nullptr, 20);
  const std::string tail_orig = greedy(s.get(), nullptr, 20);
  EXPECT_EQ(tail_fork, tail_orig);
  EXPECT_EQ(pocket_session_n_tokens(fork.get()), pocket_session_n_tokens(s.get()));
}

struct StopAfter {
  int calls = 0, stop_at = 0;
  pocket_session* session = nullptr;
  std::vector<int> tokens_at_call;
};

bool stop_after(const char*, size_t, void* user) {
  auto* c = static_cast<StopAfter*>(user);
  c->tokens_at_call.push_back(pocket_session_n_tokens(c->session));
  return ++c->calls < c->stop_at;
}

TEST(CApi, CancelFromTheCallbackStopsWithinOneToken) {
  ModelPtr m = load_model(f32_model());
  SessionPtr s = new_session(m.get());
  StopAfter c;
  c.stop_at = 5;
  c.session = s.get();
  pocket_sampling_params sp = pocket_sampling_default_params();
  sp.temperature = 0;
  pocket_generate_params gp = pocket_generate_default_params();
  gp.n_predict = 100;
  gp.sampling = &sp;
  pocket_generate_stats st{};
  st.size = sizeof st;
  ASSERT_EQ(pocket_generate(s.get(), "Once upon a time", &gp, stop_after, &c, &st), POCKET_OK);
  EXPECT_EQ(c.calls, 5);
  EXPECT_STREQ(st.finish_reason, "callback");
  // No token was generated after the callback said stop.
  EXPECT_EQ(pocket_session_n_tokens(s.get()), c.tokens_at_call.back());
  EXPECT_EQ(st.n_generated, c.tokens_at_call.back() - st.n_prompt);
}

struct CancelOther {
  pocket_session* session;
  std::atomic<int> texts{0};
};

bool count_text(const char*, size_t, void* user) {
  static_cast<CancelOther*>(user)->texts++;
  return true;
}

TEST(CApi, CancelFromAnotherThreadStopsTheGeneration) {
  ModelPtr m = load_model(f32_model());
  SessionPtr s = new_session(m.get(), 1024);
  CancelOther c{s.get()};
  pocket_generate_params gp = pocket_generate_default_params();
  gp.n_predict = -1;  // until the context is full: only the cancel ends it early
  gp.stop_on_bos = false;
  pocket_generate_stats st{};
  st.size = sizeof st;
  pocket_status rc = POCKET_ERR_INTERNAL;
  std::thread t([&] { rc = pocket_generate(s.get(), "Once upon a time", &gp, count_text, &c, &st); });
  while (c.texts.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  pocket_session_cancel(s.get());
  t.join();
  EXPECT_EQ(rc, POCKET_OK) << pocket_last_error();
  EXPECT_STREQ(st.finish_reason, "cancelled");
  EXPECT_LT(st.n_generated, 1000);
}

struct Progress {
  std::vector<float> seen;
  int cancel_at = -1;
};

bool on_progress(float p, void* user) {
  auto* pr = static_cast<Progress*>(user);
  pr->seen.push_back(p);
  return pr->cancel_at < 0 || (int)pr->seen.size() < pr->cancel_at;
}

TEST(CApi, ProgressFiresDuringLoadAndCanCancel) {
  Progress pr;
  pocket_model_params mp = pocket_model_default_params();
  mp.progress = on_progress;
  mp.progress_user = &pr;
  pocket_model* m = nullptr;
  ASSERT_EQ(pocket_model_load(f32_model().c_str(), &mp, &m), POCKET_OK) << pocket_last_error();
  pocket_model_free(m);
  ASSERT_GE(pr.seen.size(), 10u);  // per tensor while the pages are read, not just 0 and 1
  EXPECT_EQ(pr.seen.front(), 0.0f);
  EXPECT_EQ(pr.seen.back(), 1.0f);
  for (size_t i = 1; i < pr.seen.size(); ++i) EXPECT_GE(pr.seen[i], pr.seen[i - 1]);

  Progress cancel;
  cancel.cancel_at = 3;
  mp.progress_user = &cancel;
  m = reinterpret_cast<pocket_model*>(1);
  EXPECT_EQ(pocket_model_load(f32_model().c_str(), &mp, &m), POCKET_ERR_CANCELLED);
  EXPECT_EQ(m, nullptr);
  EXPECT_EQ(cancel.seen.size(), 3u);
  EXPECT_NE(std::string(pocket_last_error()).find("cancelled"), std::string::npos);
}

TEST(CApi, ModelInfoAndMetadata) {
  ModelPtr m = load_model(q4_model());
  pocket_model_info info{};
  info.size = sizeof info;
  ASSERT_EQ(pocket_model_get_info(m.get(), &info), POCKET_OK);
  EXPECT_STREQ(info.architecture, "llama");
  EXPECT_STREQ(info.weight_type, "Q4_0");
  EXPECT_NE(std::string(info.weight_types).find("Q4_0 x "), std::string::npos);
  EXPECT_STREQ(info.chat_family, "plain");
  EXPECT_EQ(info.n_vocab, 32000);
  EXPECT_EQ(info.n_layer, 6);
  EXPECT_EQ(info.n_embd, 288);
  EXPECT_EQ(info.bos, 1);
  EXPECT_EQ(info.eos, 2);
  EXPECT_GT(info.n_params, 15000000u);
  EXPECT_TRUE(pocket_token_is_eog(m.get(), 2));
  EXPECT_FALSE(pocket_token_is_eog(m.get(), 100));
  char buf[64];
  size_t n = 0;
  ASSERT_EQ(pocket_model_meta(m.get(), "general.architecture", buf, sizeof buf, &n), POCKET_OK);
  EXPECT_STREQ(buf, "llama");
  ASSERT_EQ(pocket_model_meta(m.get(), "llama.block_count", buf, sizeof buf, &n), POCKET_OK);
  EXPECT_STREQ(buf, "6");
  // An older caller's shorter struct: only its fields are written.
  struct {
    pocket_model_info info;
    char guard[8];
  } old{};
  old.info.size = offsetof(pocket_model_info, chat_template);
  std::memset(old.guard, 0x5a, sizeof old.guard);
  ASSERT_EQ(pocket_model_get_info(m.get(), &old.info), POCKET_OK) << pocket_last_error();
  EXPECT_STREQ(old.info.architecture, "llama");
  EXPECT_EQ(old.info.chat_template, nullptr);
  EXPECT_EQ(old.info.n_vocab, 0);
  for (char g : old.guard) EXPECT_EQ(g, 0x5a);
}

TEST(CApi, MemoryPlanMatchesTheSessionAndTheFitAnswers) {
  ModelPtr m = load_model(f32_model());
  pocket_session_params p = pocket_session_default_params();
  p.n_ctx = 512;
  p.n_threads = 1;
  p.kv_type_k = POCKET_KV_Q8;
  pocket_memory_plan plan{};
  plan.size = sizeof plan;
  ASSERT_EQ(pocket_model_plan(m.get(), &p, &plan), POCKET_OK) << pocket_last_error();
  pocket_session* s = nullptr;
  ASSERT_EQ(pocket_session_new(m.get(), &p, &s), POCKET_OK);
  SessionPtr sp(s);
  pocket_memory_plan have{};
  have.size = sizeof have;
  ASSERT_EQ(pocket_session_memory(s, &have), POCKET_OK);
  EXPECT_EQ(plan.total, have.total);
  EXPECT_EQ(plan.n_ctx, 512);
  EXPECT_GT(plan.kv_scales, 0u);
  EXPECT_EQ(plan.total, plan.weights + plan.kv_values + plan.kv_scales + plan.activations + plan.logits);

  pocket_fit fit{};
  fit.size = sizeof fit;
  ASSERT_EQ(pocket_model_fits(m.get(), &p, nullptr, &fit), POCKET_OK) << pocket_last_error();
  EXPECT_TRUE(fit.fits);
  EXPECT_EQ(fit.needed_bytes, plan.total);
  p.mem_budget = 0;
  p.n_ctx = 4096;
  ASSERT_EQ(pocket_model_fits(m.get(), &p, "budget-phone", &fit), POCKET_OK) << pocket_last_error();
  EXPECT_TRUE(fit.fits);
  EXPECT_GT(fit.usable_bytes, fit.needed_bytes);
  EXPECT_GT(fit.decode_tokens_per_s, 0.0);
  EXPECT_EQ(pocket_model_fits(m.get(), &p, "no-such-device", &fit), POCKET_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(pocket_last_error()).find("no-such-device"), std::string::npos);
}

TEST(CApi, TokensRoundTripAndDetokenizeIncrementally) {
  ModelPtr m = load_model(f32_model());
  const std::string text = "Hello world, caf\xc3\xa9 \xf0\x9f\x98\x80!";
  std::vector<pocket_token> ids(64);
  size_t n = 0;
  ASSERT_EQ(pocket_tokenize(m.get(), text.data(), text.size(), false, false, ids.data(), ids.size(), &n), POCKET_OK);
  ids.resize(n);
  char buf[256];
  size_t len = 0;
  ASSERT_EQ(pocket_detokenize(m.get(), ids.data(), ids.size(), false, buf, sizeof buf, &len), POCKET_OK);
  EXPECT_EQ(std::string(buf, len), text);
  pocket_detokenizer* d = nullptr;
  ASSERT_EQ(pocket_detokenizer_new(m.get(), &d), POCKET_OK);
  std::string streamed;
  for (pocket_token t : ids) {
    const char* piece = nullptr;
    size_t pl = 0;
    ASSERT_EQ(pocket_detokenizer_push(d, t, &piece, &pl), POCKET_OK);
    streamed.append(piece, pl);
  }
  const char* rest = nullptr;
  size_t rl = 0;
  ASSERT_EQ(pocket_detokenizer_flush(d, &rest, &rl), POCKET_OK);
  streamed.append(rest, rl);
  pocket_detokenizer_free(d);
  EXPECT_EQ(streamed, text);
}

TEST(CApi, ChatTemplatesAndStops) {
  ModelPtr m = load_model(f32_model());
  pocket_chat_message msgs[] = {{"system", "Be brief."}, {"user", "Hi"}};
  char buf[512];
  size_t n = 0;
  ASSERT_EQ(pocket_chat_apply(m.get(), "chatml", msgs, 2, buf, sizeof buf, &n), POCKET_OK) << pocket_last_error();
  EXPECT_EQ(std::string(buf, n), "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  const char* stops[4];
  size_t k = 0;
  ASSERT_EQ(pocket_chat_stop_strings(m.get(), "chatml", stops, 4, &k), POCKET_OK);
  ASSERT_GE(k, 1u);
  EXPECT_STREQ(stops[0], "<|im_end|>");
  EXPECT_EQ(pocket_chat_apply(m.get(), "no-such-family", msgs, 2, buf, sizeof buf, &n), POCKET_ERR_INVALID_ARGUMENT);
}

TEST(CApi, SamplerAndManualDecodeEqualGenerate) {
  ModelPtr m = load_model(f32_model());
  SessionPtr a = new_session(m.get()), b = new_session(m.get());
  pocket_sampling_params sp = pocket_sampling_default_params();
  sp.temperature = 0.8f;
  sp.seed = 7;
  pocket_generate_params gp = pocket_generate_default_params();
  gp.n_predict = 20;
  gp.sampling = &sp;
  gp.stop_on_bos = false;
  std::string want;
  ASSERT_EQ(pocket_generate(a.get(), "Once upon a time", &gp, append_text, &want, nullptr), POCKET_OK);
  // The same with decode + logits + sampler + detokenizer by hand.
  std::vector<pocket_token> ids(16);
  size_t n = 0;
  ASSERT_EQ(pocket_tokenize(m.get(), "Once upon a time", 16, true, false, ids.data(), ids.size(), &n), POCKET_OK);
  pocket_sampler* smp = nullptr;
  ASSERT_EQ(pocket_sampler_new(m.get(), &sp, &smp), POCKET_OK);
  pocket_detokenizer* d = nullptr;
  ASSERT_EQ(pocket_detokenizer_new(m.get(), &d), POCKET_OK);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(pocket_sampler_accept(smp, ids[i]), POCKET_OK);
  // The detokenizer sees the prompt so that the first generated piece gets its leading-space rule right.
  for (size_t i = 0; i < n; ++i) {
    const char* t;
    size_t l;
    pocket_detokenizer_push(d, ids[i], &t, &l);
  }
  ASSERT_EQ(pocket_session_decode(b.get(), ids.data(), n), POCKET_OK);
  std::string got;
  for (int i = 0; i < 20; ++i) {
    const float* logits = nullptr;
    int32_t nv = 0;
    ASSERT_EQ(pocket_session_logits(b.get(), &logits, &nv), POCKET_OK);
    pocket_token t = -1;
    ASSERT_EQ(pocket_sampler_sample(smp, logits, nv, &t), POCKET_OK);
    ASSERT_EQ(pocket_sampler_accept(smp, t), POCKET_OK);
    if (pocket_token_is_eog(m.get(), t)) break;
    const char* piece;
    size_t pl;
    ASSERT_EQ(pocket_detokenizer_push(d, t, &piece, &pl), POCKET_OK);
    got.append(piece, pl);
    ASSERT_EQ(pocket_session_decode(b.get(), &t, 1), POCKET_OK);
  }
  const char* rest;
  size_t rl;
  pocket_detokenizer_flush(d, &rest, &rl);
  got.append(rest, rl);
  pocket_detokenizer_free(d);
  pocket_sampler_free(smp);
  EXPECT_EQ(got, want);
}

TEST(CApi, SpeculativeLookupIsLosslessUnderGreedy) {
  ModelPtr m = load_model(f32_model());
  SessionPtr a = new_session(m.get()), b = new_session(m.get());
  const int n = quick() ? 16 : 60;
  const char* prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside.";
  const std::string want = greedy(a.get(), prompt, n);
  pocket_sampling_params sp = pocket_sampling_default_params();
  sp.temperature = 0;
  pocket_generate_params gp = pocket_generate_default_params();
  gp.n_predict = n;
  gp.sampling = &sp;
  gp.draft_lookup = true;
  gp.draft_adaptive = false;
  std::string got;
  pocket_generate_stats st{};
  st.size = sizeof st;
  ASSERT_EQ(pocket_generate(b.get(), prompt, &gp, append_text, &got, &st), POCKET_OK) << pocket_last_error();
  EXPECT_EQ(got, want);
  EXPECT_GT(st.drafted, 0);
  EXPECT_GE(st.drafted, st.accepted);
  // A quantized copy of the model drafting (made in memory): lossless too, and most drafts accepted.
  SessionPtr c = new_session(m.get());
  gp.draft_lookup = false;
  gp.draft_self_type = "q8_0";
  std::string self;
  ASSERT_EQ(pocket_generate(c.get(), prompt, &gp, append_text, &self, &st), POCKET_OK) << pocket_last_error();
  EXPECT_EQ(self, want);
  EXPECT_GT(st.accepted, st.drafted / 2);
}

TEST(CApi, EmbeddingLastPositionTimesTheHeadIsTheLogits) {
  // Pooling LAST without normalizing is the final-norm hidden state of the last token: the output head
  // applied to it must give the logits of that position (an independent check of the hidden states).
  ModelPtr m = load_model(f32_model());
  SessionPtr s = new_session(m.get());
  std::vector<pocket_token> ids(32);
  size_t n = 0;
  ASSERT_EQ(pocket_tokenize(m.get(), "The cat sat on the mat", 22, true, false, ids.data(), ids.size(), &n), POCKET_OK);
  std::vector<float> e(288);
  ASSERT_EQ(pocket_session_embed(s.get(), ids.data(), n, POCKET_POOLING_LAST, false, e.data(), e.size()), POCKET_OK) << pocket_last_error();
  const float* logits = nullptr;
  int32_t nv = 0;
  ASSERT_EQ(pocket_session_logits(s.get(), &logits, &nv), POCKET_OK);
  auto model = Model::load(f32_model());
  ASSERT_TRUE(model.is_ok());
  const Matrix& head = model.value()->weights().output;
  ASSERT_EQ(head.type, TensorType::F32);
  double max_err = 0, max_abs = 0;
  for (int r = 0; r < nv; r += 97) {
    const float* w = reinterpret_cast<const float*>(head.row(r));
    double dot = 0;
    for (int i = 0; i < 288; ++i) dot += (double)w[i] * e[(size_t)i];
    max_err = std::max(max_err, std::fabs(dot - logits[r]));
    max_abs = std::max(max_abs, std::fabs((double)logits[r]));
  }
  EXPECT_LT(max_err, 1e-3 * std::max(1.0, max_abs));  // f32 dot products of 288 terms, summed in another order

  std::vector<float> mean(288), again(288);
  ASSERT_EQ(pocket_session_embed(s.get(), ids.data(), n, POCKET_POOLING_MEAN, true, mean.data(), mean.size()), POCKET_OK);
  ASSERT_EQ(pocket_session_embed(s.get(), ids.data(), n, POCKET_POOLING_MEAN, true, again.data(), again.size()), POCKET_OK);
  EXPECT_EQ(mean, again);
  double norm = 0;
  for (float v : mean) norm += (double)v * v;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_EQ(pocket_session_n_tokens(s.get()), (int32_t)n);
}

std::vector<std::string> g_logs;
void collect_log(pocket_log_level level, const char* message, void*) {
  if (level >= POCKET_LOG_INFO) g_logs.emplace_back(message);
}

TEST(CApi, LogCallbackReceivesTheLibrarysMessages) {
  g_logs.clear();
  pocket_set_log_callback(collect_log, nullptr);
  ModelPtr m = load_model(f32_model());
  pocket_set_log_callback(nullptr, nullptr);
  ASSERT_FALSE(g_logs.empty());
  EXPECT_NE(g_logs.front().find("loaded"), std::string::npos);
}

}  // namespace
}  // namespace pocket::test
