// Session: one sequence over a shared model, the object under the C API's pocket_session. It owns an
// engine (KV cache, scratch, threads), the history (prompt and generated tokens), the logits after the
// history, and the generation in progress, which runs one step per next() (a token, or one speculative
// verification) so that callers can pull text (bindings) or be called back (pocket_generate).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/sequence.h"
#include "speculative/drafter.h"
#include "speculative/speculative.h"

namespace pocket {

struct SessionGenerateOptions {
  GenerateOptions gen;
  DraftSpec draft;  // any(): speculative decoding with these drafts
  SpeculativeOptions speculative;
  bool add_special = true;  // prompt text: BOS when the session is empty (if the vocabulary asks)
  bool parse_special = false;
};

struct SessionGenerateStats {
  GenerateStats gen;
  int n_reused = 0;  // prompt tokens that were in the cache already
  SpeculativeStats speculative;
};

class Session {
 public:
  // model_path: the model's file, for drafts made from it (self-drafting).
  static Result<std::unique_ptr<Session>> create(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer,
                                                 std::string model_path, const EngineOptions& opts);
  // A new session (own threads and cache) with a copy of this one's history, cache and logits.
  Result<std::unique_ptr<Session>> fork();

  const Engine& engine() const { return *engine_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }

  // Appends tokens to the history and evaluates what is not in the cache yet; errors change nothing.
  Status decode(const std::vector<int32_t>& tokens);
  // The logits after the last history token (evaluating a pending one first).
  Result<const std::vector<float>*> logits();
  Status truncate(int n_keep);
  // Pooled final-norm hidden states of tokens (mean, or the last position), L2-normalized when asked.
  // Replaces the history with tokens.
  Status embed(const std::vector<int32_t>& tokens, bool mean, bool normalize, std::vector<float>* out);

  // The history, its cache and the last logits, to a file and back (session_state.h: the format).
  Status save(const std::string& path);
  Status load(const std::string& path);

  Status begin(const std::string& prompt, const SessionGenerateOptions& opts);
  // One step; *text receives what it made printable. *done once the generation has finished.
  Status next(std::string* text, bool* done);
  // Ends the generation (early: as cancelled) and reports it.
  SessionGenerateStats end();
  bool generating() const { return seq_ != nullptr; }
  // Any thread: the generation ends before its next token (finish reason cancelled).
  void cancel() { cancel_.store(true, std::memory_order_relaxed); }
  // Ends the running generation as the text callback asked (finish reason callback).
  void stop_by_callback();

 private:
  Session() = default;
  Status check_tokens(const std::vector<int32_t>& tokens, size_t keep) const;
  // Evaluates history tokens [n_kv_, end) in one batch (forward chunks it), logits for the last.
  Status evaluate_to(size_t end);
  // Makes logits_ the logits after the whole history (evaluating what is missing).
  Status ensure_logits();
  // The cache keeps its first n positions (a full sliding-window ring that cannot: it starts over).
  Status rollback_kv(size_t n);
  void sync_from_sequence();

  std::unique_ptr<Engine> engine_;
  std::string model_path_;
  uint64_t fingerprint_ = 0;  // model_fingerprint() of the model, computed once (it hashes the GGUF header)
  std::vector<int32_t> tokens_;
  size_t n_kv_ = 0;            // tokens_[0, n_kv_) are in the cache
  std::vector<float> logits_;  // after tokens_[n_kv_ - 1], valid when logits_valid_
  bool logits_valid_ = false;

  std::unique_ptr<Sequence> seq_;  // the generation in progress
  std::unique_ptr<Drafter> drafter_;
  std::unique_ptr<SpeculativeRound> round_;
  std::string step_text_;
  SessionGenerateStats stats_;
  double t_begin_ = 0.0;
  std::atomic<bool> cancel_{false};
};

}  // namespace pocket
