#include "engine/sequence.h"

#include <algorithm>
#include <cmath>

#include "engine/engine.h"

namespace pocket {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kNone: return "";
    case FinishReason::kEos: return "eos";
    case FinishReason::kBos: return "bos";
    case FinishReason::kStopString: return "stop_string";
    case FinishReason::kLength: return "n_predict";
    case FinishReason::kContext: return "context";
    case FinishReason::kCallback: return "callback";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
  }
  return "?";
}

Status Sequence::check(const Engine& engine, const std::vector<int32_t>& prompt, const GenerateOptions& opts) {
  POCKET_RETURN_IF_ERROR(opts.sampling.validate());
  return engine.check_prompt(prompt);
}

Result<std::unique_ptr<Sequence>> Sequence::start(const Engine& engine, std::vector<int32_t> prompt, const GenerateOptions& opts,
                                                  TextCallback on_text, std::vector<int32_t>* generated_ids) {
  POCKET_RETURN_IF_ERROR(check(engine, prompt, opts));
  return std::unique_ptr<Sequence>(new Sequence(engine, std::move(prompt), opts, std::move(on_text), generated_ids));
}

Sequence::Sequence(const Engine& engine, std::vector<int32_t> prompt, const GenerateOptions& opts, TextCallback on_text,
                   std::vector<int32_t>* generated_ids)
    : vocab_(engine.tokenizer().vocab()), sampling_(opts.sampling), sampler_(opts.sampling, (int32_t)engine.model().config().n_vocab),
      decoder_(engine.tokenizer()), stop_(opts.stop_strings), on_text_(std::move(on_text)), generated_ids_(generated_ids),
      stop_on_bos_(opts.stop_on_bos), n_ctx_(engine.n_ctx()), limit_(opts.n_predict < 0 ? engine.n_ctx() : opts.n_predict),
      tokens_(std::move(prompt)) {
  for (int32_t t : tokens_) sampler_.accept(t);
  n_logprobs_ = opts.logprobs;
  ignore_eos_ = opts.ignore_eos;
  n_vocab_ = engine.model().config().n_vocab;
  stats_.n_prompt = (int)tokens_.size();
  if (limit_ <= 0) stats_.stop_reason = FinishReason::kLength;
}

int Sequence::room() const { return std::min(limit_ - stats_.n_generated - 1, n_ctx_ - ((int)tokens_.size() - 1) - 1); }

int Sequence::add_to_batch(Batch& batch, int32_t seq_id, int max_tokens) {
  int n = 0;
  while (n_cached_ < (int)tokens_.size() && n < max_tokens) {
    const bool newest = n_cached_ + 1 == (int)tokens_.size();
    batch.add(tokens_[(size_t)n_cached_], (int32_t)n_cached_, seq_id, newest);
    ++n_cached_;
    ++n;
  }
  return n;
}

void Sequence::set_cached(int n) { n_cached_ = std::clamp(n, 0, (int)tokens_.size()); }

void Sequence::finish(FinishReason r) {
  if (finished()) return;
  stats_.stop_reason = r;
  // Stop strings and a reader that went away cut the text; the other ends print what was held back.
  if (r == FinishReason::kStopString || r == FinishReason::kCallback || r == FinishReason::kCancelled || r == FinishReason::kError) return;
  bool stopped = false;
  emit(stop_.feed(decoder_.flush(), &stopped) + stop_.flush());
}

bool Sequence::take(int32_t tok) {
  if (tok < 0 || !sampler_.advance(tok).is_ok()) return finish(FinishReason::kError), false;  // sampler_.error() says why
  sampler_.accept(tok);
  // End tokens are neither counted nor printed.
  if (vocab_.is_eog(tok)) return finish(FinishReason::kEos), false;
  if (stop_on_bos_ && tok == vocab_.bos) return finish(FinishReason::kBos), false;
  const int32_t prev = tokens_.back();
  tokens_.push_back(tok);
  ++stats_.n_generated;
  if (n_logprobs_ >= 0 && row_valid_) {
    TokenLogprob lp;
    lp.id = tok;
    lp.logprob = row_logprobs_[(size_t)tok];
    if (n_logprobs_ > 0) {
      std::vector<int32_t> idx((size_t)n_vocab_);
      for (int32_t i = 0; i < (int32_t)n_vocab_; ++i) idx[(size_t)i] = i;
      const size_t k = std::min<size_t>((size_t)n_logprobs_, idx.size());
      std::partial_sort(idx.begin(), idx.begin() + (std::ptrdiff_t)k, idx.end(), [&](int32_t a, int32_t b) {
        return row_logprobs_[(size_t)a] > row_logprobs_[(size_t)b] || (row_logprobs_[(size_t)a] == row_logprobs_[(size_t)b] && a < b);
      });
      for (size_t i = 0; i < k; ++i) lp.top.push_back({idx[i], row_logprobs_[(size_t)idx[i]]});
    }
    logprobs_.push_back(std::move(lp));
  }
  if (generated_ids_) generated_ids_->push_back(tok);
  bool stopped = false;
  const std::string text = stop_.feed(decoder_.push(prev, tok), &stopped);
  if (!emit(text)) return finish(FinishReason::kCallback), false;
  if (stopped) return finish(FinishReason::kStopString), false;
  if (stats_.n_generated >= limit_) return finish(FinishReason::kLength), false;
  // The new token would be evaluated at position tokens_.size() - 1.
  if ((int)tokens_.size() - 1 >= n_ctx_) return finish(FinishReason::kContext), false;
  return true;
}

bool Sequence::step(const float* logits) {
  if (finished()) return false;
  if (n_logprobs_ >= 0) {  // log-softmax in double: the normaliser of a 32k-256k row
    row_logprobs_.resize((size_t)n_vocab_);
    float mx = -INFINITY;
    for (int64_t i = 0; i < n_vocab_; ++i) mx = std::max(mx, logits[i]);
    double sum = 0;
    for (int64_t i = 0; i < n_vocab_; ++i) sum += std::exp((double)logits[i] - mx);
    const double lse = mx + std::log(sum);
    for (int64_t i = 0; i < n_vocab_; ++i) row_logprobs_[(size_t)i] = (float)((double)logits[i] - lse);
    row_valid_ = true;
  }
  if (ignore_eos_) {
    row_copy_.assign(logits, logits + n_vocab_);
    for (int32_t e : {vocab_.eos, vocab_.eot})
      if (e >= 0 && e < n_vocab_) row_copy_[(size_t)e] = -INFINITY;
    return take(sampler_.sample(row_copy_.data()));
  }
  return take(sampler_.sample(logits));
}

int Sequence::verify(const float* rows, int64_t n_vocab, const Draft& draft) {
  const int nd = (int)draft.tokens.size();
  const bool greedy = sampler_.greedy();
  if (!greedy && nd > 0 && p_dense_.empty()) {
    p_dense_.assign((size_t)n_vocab, 0.0f);
    q_dense_.assign((size_t)n_vocab, 0.0f);
  }
  int accepted = 0;
  for (int i = 0; i <= nd && !finished(); ++i) {
    const float* row = rows + (size_t)i * (size_t)n_vocab;
    int32_t tok;
    bool kept = false;
    if (i < nd && !greedy) {
      tok = verify_sampled(row, draft.tokens[(size_t)i], draft.q[(size_t)i], &kept);
    } else {
      tok = sampler_.sample(row);
      kept = i < nd && tok == draft.tokens[(size_t)i];
    }
    accepted += kept ? 1 : 0;
    if (!take(tok) || !kept) break;
  }
  // The pending token was cached by add_to_batch; the kept drafts were evaluated with it.
  n_cached_ = std::min(n_cached_ + accepted, (int)tokens_.size());
  return accepted;
}

// Speculative sampling of one position: keeps draft token d (drawn from q; q empty = point mass on d)
// with probability min(1, p(d)/q(d)), else draws from max(0, p - q) normalised. Returns the token
// and sets *kept. p_dense_ and q_dense_ are n_vocab zeros on entry and on return.
int32_t Sequence::verify_sampled(const float* logits, int32_t d, const std::vector<std::pair<int32_t, float>>& q, bool* kept) {
  const Candidates& p = sampler_.probabilities(logits);
  for (const Candidate& c : p.items) p_dense_[(size_t)c.id] = c.p;
  if (q.empty()) q_dense_[(size_t)d] = 1.0f;
  for (const auto& [id, prob] : q) q_dense_[(size_t)id] = prob;
  const double pd = p_dense_[(size_t)d], qd = q_dense_[(size_t)d];
  int32_t tok = d;
  *kept = qd > 0 && sampler_.uniform() * qd < pd;
  if (!*kept) {
    double sum = 0.0;
    for (const Candidate& c : p.items) sum += std::max(0.0, (double)c.p - (double)q_dense_[(size_t)c.id]);
    const double u = sampler_.uniform();
    double cum = 0.0;
    tok = -1;
    if (sum > 1e-12) {  // the residual distribution
      for (const Candidate& c : p.items) {
        cum += std::max(0.0, (double)c.p - (double)q_dense_[(size_t)c.id]) / sum;
        if (u < cum) {
          tok = c.id;
          break;
        }
      }
    } else {  // p == q: any draw from p is exact
      for (const Candidate& c : p.items) {
        cum += c.p;
        if (u < cum) {
          tok = c.id;
          break;
        }
      }
    }
    if (tok < 0) tok = p.items.back().id;  // rounding at the end of the scan
  }
  for (const Candidate& c : p.items) p_dense_[(size_t)c.id] = 0.0f;
  q_dense_[(size_t)d] = 0.0f;
  for (const auto& qi : q) q_dense_[(size_t)qi.first] = 0.0f;
  return tok;
}

}  // namespace pocket
