// Sequence: one generation's decode step, shared by Engine::generate, speculative decoding and the
// server's scheduler. It owns the sampler (primed with the prompt), the streaming detokenizer, the stop
// strings, the token limit, the tokens of the sequence and how many of them are in the KV cache, and
// the typed finish reason. It never evaluates: callers put its tokens into a batch (one sequence alone,
// with draft tokens, or beside other sequences), evaluate, and hand it the logits.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/generation.h"
#include "engine/stop_matcher.h"
#include "model/batch.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace pocket {

class Engine;

// Draft tokens proposed for verification (speculative decoding).
struct Draft {
  std::vector<int32_t> tokens;
  // For each token, the distribution q it was drawn from as (id, probability) pairs; an empty list
  // means a point mass on the token (greedy drafts, lookup). Speculative sampling needs q.
  std::vector<std::vector<std::pair<int32_t, float>>> q;
  // Tokens the drafter ran through its model for this proposal (catching up with the context + drafting):
  // the cost unit of the adaptive controller, so that catching up after a pause is not billed to drafting.
  int evaluated = 0;
  void clear() {
    tokens.clear();
    q.clear();
    evaluated = 0;
  }
};

class Sequence {
 public:
  // Checks the sampling parameters and the prompt (empty, longer than the context, ids outside the
  // vocabulary) against the engine. on_text receives text as it becomes printable; generated_ids, when
  // given, receives every generated token that counts (not end tokens).
  static Status check(const Engine& engine, const std::vector<int32_t>& prompt, const GenerateOptions& opts);
  static Result<std::unique_ptr<Sequence>> start(const Engine& engine, std::vector<int32_t> prompt, const GenerateOptions& opts, TextCallback on_text,
                                                 std::vector<int32_t>* generated_ids = nullptr);
  Sequence(const Sequence&) = delete;
  Sequence& operator=(const Sequence&) = delete;

  // Prompt + generated tokens; tokens()[n_cached()..] are not in the KV cache yet (the prompt's rest,
  // or the last sampled token, "pending").
  const std::vector<int32_t>& tokens() const { return tokens_; }
  int n_cached() const { return n_cached_; }
  // Position of the first token not in the cache.
  int32_t pos() const { return (int32_t)n_cached_; }
  bool reading_prompt() const { return n_cached_ < n_prompt(); }
  int n_prompt() const { return stats_.n_prompt; }
  int n_ctx() const { return n_ctx_; }
  // Generated tokens still allowed (n_predict and the context), for drafts: a draft beyond it is waste.
  int room() const;

  // Adds up to max_tokens of the uncached tokens to batch as sequence seq_id and counts them as cached;
  // the newest token asks for logits. Returns how many were added.
  int add_to_batch(Batch& batch, int32_t seq_id, int max_tokens);
  // The cache holds the first n tokens only (rollback after verification, prefix reuse, an error).
  void set_cached(int n);

  // The decode step: samples from logits (the newest token's row) and takes the token. False once the
  // sequence has finished (finish_reason() says why).
  bool step(const float* logits);
  // Verification (speculative decoding): rows[i] are the logits after the pending token and drafts
  // 0..i-1. Takes the target's choice at each row, keeping drafts while they are accepted (greedy: equal
  // to the target's choice; sampling: min(1, p/q) acceptance with residual resampling, which leaves
  // the target's distribution unchanged), and one token of the target's own. Returns the drafts kept;
  // the cache must then be rolled back to pos() + 1 + kept (set_cached).
  int verify(const float* rows, int64_t n_vocab, const Draft& draft);

  bool finished() const { return stats_.stop_reason != FinishReason::kNone; }
  FinishReason finish_reason() const { return stats_.stop_reason; }
  // Ends the sequence from outside (cancelled, error) and prints the text held back unless the reason
  // is one that cuts it (stop string, callback, cancelled, error).
  void finish(FinishReason r);
  const GenerateStats& stats() const { return stats_; }
  GenerateStats& stats() { return stats_; }
  const SamplingParams& sampling() const { return sampling_; }
  // With GenerateOptions::logprobs >= 0: one entry per generated (counted) token, in order.
  const std::vector<TokenLogprob>& logprobs() const { return logprobs_; }
  // Why a sequence finished with kError in its own step (the grammar allowed no token); "" otherwise.
  const std::string& error() const { return sampler_.error(); }

 private:
  Sequence(const Engine& engine, std::vector<int32_t> prompt, const GenerateOptions& opts, TextCallback on_text, std::vector<int32_t>* generated_ids);
  // Takes a chosen token: history, output, limits. False once finished.
  bool take(int32_t tok);
  bool emit(const std::string& text) { return text.empty() || !on_text_ || on_text_(text); }
  int32_t verify_sampled(const float* logits, int32_t d, const std::vector<std::pair<int32_t, float>>& q, bool* kept);

  const Vocab& vocab_;
  SamplingParams sampling_;
  Sampler sampler_;
  StreamDecoder decoder_;
  StopMatcher stop_;
  TextCallback on_text_;
  std::vector<int32_t>* generated_ids_;
  bool stop_on_bos_;
  int n_ctx_;
  int limit_;                    // tokens to generate at most
  std::vector<int32_t> tokens_;  // prompt + generated
  int n_cached_ = 0;
  GenerateStats stats_;
  std::vector<float> p_dense_, q_dense_;
  int n_logprobs_ = -1;
  bool ignore_eos_ = false;
  std::vector<float> row_copy_;  // ignore_eos: the row with the end tokens masked
  int64_t n_vocab_ = 0;
  std::vector<TokenLogprob> logprobs_;
  std::vector<float> row_logprobs_;  // [n_vocab] log-softmax of the row the pending token was sampled from
  bool row_valid_ = false;           // [n_vocab] zeros between calls: speculative sampling's p and q
};

}  // namespace pocket
