// Sessions: creation, history, decoding, logits, embeddings, state files, generation.
#include "api/c_handles.h"
#include "api/c_options.h"

using namespace pocket;
using namespace pocket::capi;

namespace {

pocket_status fill_stats(const char* fn, const SessionGenerateStats& s, pocket_generate_stats* out) {
  if (out == nullptr) return POCKET_OK;
  pocket_generate_stats g{};
  g.size = sizeof g;
  if (pocket_status st = read_params(fn, "pocket_generate_stats", out, g, &g)) return st;
  const size_t caller_size = out->size;
  g.n_prompt = s.gen.n_prompt;
  g.n_reused = s.n_reused;
  g.n_generated = s.gen.n_generated;
  g.prompt_seconds = s.gen.prompt_seconds;
  g.generate_seconds = s.gen.generate_seconds;
  g.finish_reason = finish_reason_name(s.gen.stop_reason);
  g.drafted = s.speculative.drafted;
  g.accepted = s.speculative.accepted;
  std::memcpy(static_cast<void*>(out), &g, caller_size);
  out->size = caller_size;
  return POCKET_OK;
}

pocket_status begin(const char* fn, pocket_session* session, const char* prompt, const pocket_generate_params* params) {
  if (session == nullptr) return null_arg(fn, "session");
  SessionGenerateOptions o;
  if (pocket_status s = generate_options(fn, params, &o)) return s;
  return from_status(fn, session->session->begin(prompt ? prompt : "", o));
}

}  // namespace

extern "C" {

POCKET_API pocket_status pocket_session_new(pocket_model* model, const pocket_session_params* params, pocket_session** out) {
  static const char* fn = "pocket_session_new";
  return guarded(fn, [&]() -> pocket_status {
    if (out == nullptr) return null_arg(fn, "out");
    *out = nullptr;
    if (model == nullptr) return null_arg(fn, "model");
    auto s = std::make_unique<pocket_session>();
    EngineOptions eo;
    if (pocket_status st = engine_options(fn, params, &eo)) return st;
    Result<std::unique_ptr<Session>> r = Session::create(model->model, model->tokenizer, model->path, eo);
    if (!r) return from_status(fn, r.status());
    s->model = model;
    s->session = std::move(r).value();
    *out = s.release();
    return POCKET_OK;
  });
}

POCKET_API void pocket_session_free(pocket_session* session) { delete session; }

POCKET_API int32_t pocket_session_n_ctx(const pocket_session* session) { return session ? session->session->engine().n_ctx() : 0; }

POCKET_API int32_t pocket_session_n_tokens(const pocket_session* session) { return session ? (int32_t)session->session->tokens().size() : 0; }

POCKET_API pocket_status pocket_session_tokens(const pocket_session* session, pocket_token* out, size_t capacity, size_t* n_written) {
  static const char* fn = "pocket_session_tokens";
  return guarded(fn, [&]() -> pocket_status {
    if (session == nullptr) return null_arg(fn, "session");
    if (n_written == nullptr) return null_arg(fn, "n_written");
    if (out == nullptr && capacity > 0) return null_arg(fn, "out");
    const std::vector<int32_t>& t = session->session->tokens();
    *n_written = t.size();
    if (t.size() > capacity)
      return set_error(POCKET_ERR_BUFFER_TOO_SMALL,
                       std::string(fn) + ": " + std::to_string(t.size()) + " tokens but room for " + std::to_string(capacity));
    std::copy(t.begin(), t.end(), out);
    return POCKET_OK;
  });
}

POCKET_API pocket_status pocket_session_memory(const pocket_session* session, pocket_memory_plan* plan) {
  static const char* fn = "pocket_session_memory";
  return guarded(fn, [&]() -> pocket_status {
    if (session == nullptr) return null_arg(fn, "session");
    if (plan == nullptr) return null_arg(fn, "plan");
    const Engine& e = session->session->engine();
    EnginePlan p;
    p.n_ctx = e.n_ctx();
    p.memory = e.memory();
    p.kv.n_ctx = e.kv().slots();
    return fill_memory_plan(fn, p, plan);
  });
}

POCKET_API pocket_status pocket_session_truncate(pocket_session* session, int32_t n_keep) {
  static const char* fn = "pocket_session_truncate";
  return guarded(fn, [&]() -> pocket_status {
    if (session == nullptr) return null_arg(fn, "session");
    return from_status(fn, session->session->truncate(n_keep));
  });
}

POCKET_API pocket_status pocket_session_decode(pocket_session* session, const pocket_token* tokens, size_t n_tokens) {
  static const char* fn = "pocket_session_decode";
  return guarded(fn, [&]() -> pocket_status {
    if (session == nullptr) return null_arg(fn, "session");
    if (tokens == nullptr) return null_arg(fn, "tokens");
    if (n_tokens > (size_t)INT32_MAX) return set_error(POCKET_ERR_OUT_OF_RANGE, std::string(fn) + ": n_tokens too large");
    return from_status(fn, session->session->decode(std::vector<int32_t>(tokens, tokens + n_tokens)));
  });
}

POCKET_API pocket_status pocket_session_logits(pocket_session* session, const float** logits, int32_t* n_vocab) {
  static const char* fn = "pocket_session_logits";
  return guarded(fn, [&]() -> pocket_status {
    if (session == nullptr) return null_arg(fn, "session");
    if (logits == nullptr) return null_arg(fn, "logits");
    Result<const std::vector<float>*> r = session->session->logits();
    if (!r) return from_status(fn, r.status());
    *logits = r.value()->data();
    if (n_vocab) *n_vocab = (int32_t)session->session->engine().model().config().n_vocab;
    return POCKET_OK;
  });
}

POCKET_API pocket_status pocket_session_embed(pocket_session* session, const pocket_token* tokens, size_t n_tokens, int32_t pooling, bool normalize,
                                              float* out, size_t capacity) {
  static const char* fn = "pocket_session_embed";
  return guarded(fn, [&]() -> pocket_status {
    if (session == nullptr) return null_arg(fn, "session");
    if (tokens == nullptr) return null_arg(fn, "tokens");
    if (out == nullptr) return null_arg(fn, "out");
    if (pooling != POCKET_POOLING_MEAN && pooling != POCKET_POOLING_LAST)
      return set_error(POCKET_ERR_INVALID_ARGUMENT,
                       std::string(fn) + ": pooling must be POCKET_POOLING_MEAN or POCKET_POOLING_LAST, got " + std::to_string((int)pooling));
    const size_t n_embd = (size_t)session->session->engine().model().config().n_embd;
    if (capacity < n_embd)
      return set_error(POCKET_ERR_BUFFER_TOO_SMALL,
                       std::string(fn) + ": the buffer holds " + std::to_string(capacity) + " floats but n_embd is " + std::to_string(n_embd));
    if (n_tokens > (size_t)INT32_MAX) return set_error(POCKET_ERR_OUT_OF_RANGE, std::string(fn) + ": n_tokens too large");
    std::vector<float> e;
    Status st = session->session->embed(std::vector<int32_t>(tokens, tokens + n_tokens), pooling == POCKET_POOLING_MEAN, normalize, &e);
    if (!st.is_ok()) return from_status(fn, st);
    std::copy(e.begin(), e.end(), out);
    return POCKET_OK;
  });
}

POCKET_API pocket_status pocket_session_save(pocket_session* session, const char* path) {
  static const char* fn = "pocket_session_save";
  return guarded(fn, [&]() -> pocket_status {
    if (session == nullptr) return null_arg(fn, "session");
    if (path == nullptr) return null_arg(fn, "path");
    return from_status(fn, session->session->save(path));
  });
}

POCKET_API pocket_status pocket_session_load(pocket_session* session, const char* path) {
  static const char* fn = "pocket_session_load";
  return guarded(fn, [&]() -> pocket_status {
    if (session == nullptr) return null_arg(fn, "session");
    if (path == nullptr) return null_arg(fn, "path");
    return from_status(fn, session->session->load(path));
  });
}

POCKET_API pocket_status pocket_session_fork(pocket_session* session, pocket_session** out) {
  static const char* fn = "pocket_session_fork";
  return guarded(fn, [&]() -> pocket_status {
    if (out == nullptr) return null_arg(fn, "out");
    *out = nullptr;
    if (session == nullptr) return null_arg(fn, "session");
    Result<std::unique_ptr<Session>> r = session->session->fork();
    if (!r) return from_status(fn, r.status());
    auto s = std::make_unique<pocket_session>();
    s->model = session->model;
    s->session = std::move(r).value();
    *out = s.release();
    return POCKET_OK;
  });
}

POCKET_API pocket_status pocket_generate_begin(pocket_session* session, const char* prompt, const pocket_generate_params* params) {
  static const char* fn = "pocket_generate_begin";
  return guarded(fn, [&]() -> pocket_status { return begin(fn, session, prompt, params); });
}

POCKET_API pocket_status pocket_generate_next(pocket_session* session, const char** text, size_t* text_len, bool* done) {
  static const char* fn = "pocket_generate_next";
  return guarded(fn, [&]() -> pocket_status {
    if (session == nullptr) return null_arg(fn, "session");
    if (text == nullptr) return null_arg(fn, "text");
    if (text_len == nullptr) return null_arg(fn, "text_len");
    if (done == nullptr) return null_arg(fn, "done");
    Status st = session->session->next(&session->text, done);
    *text = session->text.c_str();
    *text_len = session->text.size();
    return from_status(fn, st);
  });
}

POCKET_API pocket_status pocket_generate_end(pocket_session* session, pocket_generate_stats* stats) {
  static const char* fn = "pocket_generate_end";
  return guarded(fn, [&]() -> pocket_status {
    if (session == nullptr) return null_arg(fn, "session");
    if (!session->session->generating()) return set_error(POCKET_ERR_INVALID_ARGUMENT, std::string(fn) + ": no generation running");
    return fill_stats(fn, session->session->end(), stats);
  });
}

POCKET_API pocket_status pocket_generate(pocket_session* session, const char* prompt, const pocket_generate_params* params,
                                         pocket_text_callback callback, void* user, pocket_generate_stats* stats) {
  static const char* fn = "pocket_generate";
  return guarded(fn, [&]() -> pocket_status {
    if (pocket_status s = begin(fn, session, prompt, params)) return s;
    Session& s = *session->session;
    bool done = false;
    Status st = Status::ok();
    while (!done) {
      st = s.next(&session->text, &done);
      if (!st.is_ok()) break;
      if (callback && !session->text.empty() && !callback(session->text.data(), session->text.size(), user)) s.stop_by_callback();
    }
    const SessionGenerateStats gs = s.end();
    if (!st.is_ok()) return from_status(fn, st);
    return fill_stats(fn, gs, stats);
  });
}

POCKET_API void pocket_session_cancel(pocket_session* session) {
  if (session) session->session->cancel();
}

}  // extern "C"
