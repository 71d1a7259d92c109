#include "api/session.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "api/session_state.h"
#include "core/timing.h"

namespace pocket {

namespace {

ContiguousKvCache* contiguous(KvCache& kv) { return dynamic_cast<ContiguousKvCache*>(&kv); }

Status write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return error(ErrorCode::kIoError, path + ": cannot create (" + std::strerror(errno) + ")");
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return error(ErrorCode::kIoError, path + ": cannot write (" + why + ")");
  }
  return Status::ok();
}

Result<std::vector<uint8_t>> read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return error(ErrorCode::kIoError, path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) return error(ErrorCode::kIoError, path + ": read error");
  return out;
}

}  // namespace

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer,
                                                 std::string model_path, const EngineOptions& opts) {
  if (opts.n_parallel != 0) return field_error("n_parallel", "must be 0: a session is one sequence");
  std::unique_ptr<Session> s(new Session());
  POCKET_ASSIGN_OR_RETURN(s->engine_, Engine::create(std::move(model), opts, std::move(tokenizer)));
  s->model_path_ = std::move(model_path);
  s->fingerprint_ = model_fingerprint(s->engine_->model());
  return s;
}

Result<std::unique_ptr<Session>> Session::fork() {
  if (generating()) return error(ErrorCode::kInvalidArgument, "fork: a generation is running (end it first)");
  POCKET_RETURN_IF_ERROR(ensure_logits());
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Session> s, create(engine_->shared_model(), engine_->shared_tokenizer(), model_path_, engine_->options()));
  std::vector<uint8_t> rows;
  contiguous(engine_->kv())->save_rows(0, &rows);
  POCKET_RETURN_IF_ERROR(contiguous(s->engine_->kv())->load_rows(0, (int)n_kv_, rows.data(), rows.size()));
  s->tokens_ = tokens_;
  s->n_kv_ = n_kv_;
  s->logits_ = logits_;
  s->logits_valid_ = logits_valid_;
  return s;
}

Status Session::check_tokens(const std::vector<int32_t>& tokens, size_t keep) const {
  const int64_t n_vocab = engine_->model().config().n_vocab;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= n_vocab)
      return error(ErrorCode::kOutOfRange, "token " + std::to_string(i) + ": id " + std::to_string(tokens[i]) + " outside the vocabulary (0.." +
                                               std::to_string(n_vocab - 1) + ")");
  }
  if (keep + tokens.size() > (size_t)engine_->n_ctx())
    return Status(ErrorCode::kOutOfRange,
                  std::to_string(keep) + " tokens in the session + " + std::to_string(tokens.size()) + " new exceed the context of " +
                      std::to_string(engine_->n_ctx()) + " (raise n_ctx)",
                  "n_ctx");
  return Status::ok();
}

Status Session::evaluate_to(size_t end) {
  Batch batch;
  for (size_t i = n_kv_; i < end; ++i) batch.add(tokens_[i], (int32_t)i, 0, i + 1 == end);
  const size_t before = n_kv_;
  Status st = engine_->eval(batch, &logits_);
  if (!st.is_ok()) {
    (void)rollback_kv(before);
    logits_valid_ = false;
    return st;
  }
  n_kv_ = end;
  logits_valid_ = end == tokens_.size();
  return Status::ok();
}

Status Session::decode(const std::vector<int32_t>& tokens) {
  if (generating()) return error(ErrorCode::kInvalidArgument, "decode: a generation is running (end it first)");
  if (tokens.empty()) return error(ErrorCode::kInvalidArgument, "decode: no tokens");
  POCKET_RETURN_IF_ERROR(check_tokens(tokens, tokens_.size()));
  const size_t before = tokens_.size();
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
  Status st = evaluate_to(tokens_.size());
  if (!st.is_ok()) tokens_.resize(before);
  return st;
}

Status Session::ensure_logits() {
  if (n_kv_ < tokens_.size()) return evaluate_to(tokens_.size());
  if (logits_valid_ || tokens_.empty()) return Status::ok();
  // After a truncate the cache holds the last token but not the logits after it: evaluate it again.
  POCKET_RETURN_IF_ERROR(rollback_kv(n_kv_ - 1));
  return evaluate_to(tokens_.size());
}

Status Session::rollback_kv(size_t n) {
  KvCache& kv = engine_->kv();
  const int len = kv.seq_len(0);
  if ((int)n >= len) {
    n_kv_ = std::min(n_kv_, n);
    return Status::ok();
  }
  if (kv.window() > 0 && len > kv.slots() && len - (int)n > engine_->options().max_batch - 1) {
    // A full ring cannot roll back that far: start the cache over (the history is evaluated again).
    engine_->clear_kv();
    n_kv_ = 0;
    logits_valid_ = false;
    return Status::ok();
  }
  kv.truncate(0, (int)n);
  n_kv_ = n;
  logits_valid_ = false;
  return Status::ok();
}

Result<const std::vector<float>*> Session::logits() {
  if (tokens_.empty()) return error(ErrorCode::kInvalidArgument, "logits: the session is empty (decode tokens first)");
  POCKET_RETURN_IF_ERROR(ensure_logits());
  return &logits_;
}

Status Session::truncate(int n_keep) {
  if (generating()) return error(ErrorCode::kInvalidArgument, "truncate: a generation is running (end it first)");
  if (n_keep < 0 || (size_t)n_keep > tokens_.size())
    return error(ErrorCode::kOutOfRange, "truncate: n_keep " + std::to_string(n_keep) + " outside 0.." + std::to_string(tokens_.size()));
  if (n_keep == 0) {
    engine_->clear_kv();
    n_kv_ = 0;
  } else {
    POCKET_RETURN_IF_ERROR(rollback_kv((size_t)n_keep));
  }
  if ((size_t)n_keep < tokens_.size()) logits_valid_ = false;
  tokens_.resize((size_t)n_keep);
  return Status::ok();
}

Status Session::embed(const std::vector<int32_t>& tokens, bool mean, bool normalize, std::vector<float>* out) {
  if (generating()) return error(ErrorCode::kInvalidArgument, "embed: a generation is running (end it first)");
  if (tokens.empty()) return error(ErrorCode::kInvalidArgument, "embed: no tokens");
  POCKET_RETURN_IF_ERROR(check_tokens(tokens, 0));
  POCKET_RETURN_IF_ERROR(truncate(0));
  tokens_ = tokens;
  Status st = engine_->embed(tokens, mean, normalize, out, &logits_);
  if (!st.is_ok()) {
    engine_->clear_kv();
    tokens_.clear();
    return st;
  }
  n_kv_ = tokens_.size();
  logits_valid_ = true;
  return Status::ok();
}

Status Session::save(const std::string& path) {
  if (generating()) return error(ErrorCode::kInvalidArgument, "save: a generation is running (end it first)");
  POCKET_RETURN_IF_ERROR(ensure_logits());
  const KvCache& kv = engine_->kv();
  const ModelConfig& c = engine_->model().config();
  SessionState s;
  s.fingerprint = fingerprint_;
  s.n_layer = (uint32_t)c.n_layer;
  s.kv_dim = (uint32_t)c.kv_dim();
  s.k_type = (uint8_t)engine_->options().kv_k_type;
  s.v_type = (uint8_t)engine_->options().kv_v_type;
  s.window = kv.window();
  s.sinks = kv.window() > 0 ? kv.sinks() : 0;
  s.tokens = tokens_;
  if (logits_valid_) s.logits = logits_;
  contiguous(engine_->kv())->save_rows(0, &s.kv);
  return write_file(path, serialize_state(s));
}

Status Session::load(const std::string& path) {
  if (generating()) return error(ErrorCode::kInvalidArgument, "load: a generation is running (end it first)");
  POCKET_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, read_file(path));
  POCKET_ASSIGN_OR_RETURN(SessionState s, parse_state(bytes.data(), bytes.size(), path));
  const ModelConfig& c = engine_->model().config();
  const KvCache& kv = engine_->kv();
  const auto mismatch = [&](const char* field, const std::string& file, const std::string& here) {
    return Status(ErrorCode::kInvalidArgument, path + ": " + field + " is " + file + " in the state but " + here + " in this session", field);
  };
  if (s.fingerprint != fingerprint_)
    return error(ErrorCode::kInvalidArgument, path + ": the state was saved with another model file than " + engine_->model().file().name());
  if (s.n_layer != (uint32_t)c.n_layer || s.kv_dim != (uint32_t)c.kv_dim())
    return error(ErrorCode::kFormatError, path + ": n_layer/kv_dim do not match the model's");
  if (s.k_type != (uint8_t)engine_->options().kv_k_type)
    return mismatch("kv_type_k", kv_type_name((KvType)std::min<uint8_t>(s.k_type, 3)), kv_type_name(engine_->options().kv_k_type));
  if (s.v_type != (uint8_t)engine_->options().kv_v_type)
    return mismatch("kv_type_v", kv_type_name((KvType)std::min<uint8_t>(s.v_type, 3)), kv_type_name(engine_->options().kv_v_type));
  if (s.window != kv.window()) return mismatch("kv_window", std::to_string(s.window), std::to_string(kv.window()));
  if (s.window > 0 && s.sinks != kv.sinks()) return mismatch("kv_sinks", std::to_string(s.sinks), std::to_string(kv.sinks()));
  if (!s.logits.empty() && s.logits.size() != (size_t)c.n_vocab)
    return error(ErrorCode::kFormatError,
                 path + ": n_logits: " + std::to_string(s.logits.size()) + " but the vocabulary has " + std::to_string(c.n_vocab));
  if (s.logits.empty() != s.tokens.empty()) return error(ErrorCode::kFormatError, path + ": n_logits: logits and tokens must come together");
  POCKET_RETURN_IF_ERROR(check_tokens(s.tokens, 0));
  // Rows of another configuration fail here (their byte count differs); the session is left empty.
  Status st = contiguous(engine_->kv())->load_rows(0, (int)s.tokens.size(), s.kv.data(), s.kv.size());
  if (!st.is_ok()) {
    engine_->clear_kv();
    tokens_.clear();
    n_kv_ = 0;
    logits_valid_ = false;
    return error(st.code(), path + ": " + st.message());
  }
  tokens_ = std::move(s.tokens);
  n_kv_ = tokens_.size();
  logits_ = std::move(s.logits);
  logits_valid_ = !tokens_.empty();
  return Status::ok();
}

Status Session::begin(const std::string& prompt, const SessionGenerateOptions& opts) {
  if (generating()) return error(ErrorCode::kInvalidArgument, "generate: a generation is running (end it first)");
  std::vector<int32_t> all = tokens_;
  if (!prompt.empty()) {
    const std::vector<int32_t> add = engine_->tokenizer().encode(prompt, opts.add_special && tokens_.empty(), opts.parse_special);
    POCKET_RETURN_IF_ERROR(check_tokens(add, tokens_.size()));
    all.insert(all.end(), add.begin(), add.end());
  }
  if (all.empty()) return error(ErrorCode::kInvalidArgument, "generate: the session is empty and the prompt is empty: nothing to condition on");
  std::unique_ptr<Drafter> drafter;
  if (opts.draft.any()) {
    POCKET_RETURN_IF_ERROR(check_speculative_options(opts.speculative, engine_->kv()));
    POCKET_ASSIGN_OR_RETURN(drafter, make_drafter(opts.draft, model_path_, *engine_, engine_->options()));
  }
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Sequence> seq, Sequence::start(*engine_, all, opts.gen, [this](const std::string& text) {
                            step_text_ += text;
                            return true;
                          }));
  if (drafter && engine_->kv().window() > 0 && engine_->options().max_batch < 2)
    return error(ErrorCode::kInvalidArgument, "generate: speculative decoding with a sliding window needs n_batch >= 2");
  cancel_.store(false, std::memory_order_relaxed);
  stats_ = SessionGenerateStats();
  stats_.n_reused = (int)n_kv_;
  const size_t n = all.size(), old_size = tokens_.size();
  tokens_ = std::move(all);
  const double t0 = now_seconds();
  // Speculative rounds evaluate the pending token with the drafts: everything before it is prefilled.
  // Without drafts, a history whose logits are gone (after a truncate) evaluates its last token again.
  const size_t prefill_end = drafter ? n - 1 : n;
  if (n_kv_ == n && (drafter || !logits_valid_)) (void)rollback_kv(n - 1);
  if (n_kv_ < prefill_end) {
    Status st = evaluate_to(prefill_end);
    if (!st.is_ok()) {
      tokens_.resize(old_size);  // the prompt is not part of the history; the cache holds what it held
      return st;
    }
  }
  seq->set_cached((int)n_kv_);
  seq->stats().prompt_seconds = now_seconds() - t0;
  seq_ = std::move(seq);
  if (drafter) {
    drafter_ = std::move(drafter);
    round_ = std::make_unique<SpeculativeRound>(*drafter_, opts.speculative, opts.gen.sampling);
  }
  t_begin_ = now_seconds();
  return Status::ok();
}

void Session::sync_from_sequence() {
  tokens_ = seq_->tokens();
  n_kv_ = (size_t)seq_->n_cached();
  logits_valid_ = n_kv_ == tokens_.size();
}

Status Session::next(std::string* text, bool* done) {
  if (!generating()) return error(ErrorCode::kInvalidArgument, "generate_next: no generation running (call generate_begin first)");
  step_text_.clear();
  *done = false;
  Status st = Status::ok();
  if (!seq_->finished() && cancel_.load(std::memory_order_relaxed)) seq_->finish(FinishReason::kCancelled);
  if (!seq_->finished()) {
    if (round_) {
      Draft draft;
      st = round_->propose(*seq_, &draft);
      if (st.is_ok()) {
        Batch batch;
        round_->add_to_batch(*seq_, draft, 0, batch);
        const double t = now_seconds();
        st = engine_->eval(batch, &logits_);
        if (st.is_ok()) {
          round_->verify(*seq_, draft, logits_.data(), engine_->model().config().n_vocab, now_seconds() - t);
          engine_->kv().truncate(0, seq_->n_cached());
        }
      }
    } else {
      if ((size_t)seq_->n_cached() < seq_->tokens().size()) {
        Batch batch;
        seq_->add_to_batch(batch, 0, 1);
        st = engine_->eval(batch, &logits_);
      }
      if (st.is_ok()) seq_->step(logits_.data());
    }
    if (!st.is_ok()) {
      // The cache may hold part of what failed: keep only what the sequence had before.
      seq_->set_cached(std::min(seq_->n_cached(), (int)engine_->kv().seq_len(0)));
      engine_->kv().truncate(0, seq_->n_cached());
      seq_->finish(FinishReason::kError);
    }
  }
  sync_from_sequence();
  *text = step_text_;
  *done = seq_->finished();
  return st;
}

void Session::stop_by_callback() {
  if (generating() && !seq_->finished()) seq_->finish(FinishReason::kCallback);
}

SessionGenerateStats Session::end() {
  if (!generating()) return stats_;
  if (!seq_->finished()) seq_->finish(FinishReason::kCancelled);
  sync_from_sequence();
  stats_.gen = seq_->stats();
  stats_.gen.generate_seconds = now_seconds() - t_begin_;
  if (round_) stats_.speculative = round_->stats();
  round_.reset();
  drafter_.reset();
  seq_.reset();
  return stats_;
}

}  // namespace pocket
