#include "sampling/sampler.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <unordered_map>

namespace pocket {

void Candidates::sort_desc() {
  if (sorted) return;
  std::stable_sort(items.begin(), items.end(), [](const Candidate& a, const Candidate& b) { return a.logit > b.logit; });
  sorted = true;
}

void Candidates::softmax() {
  sort_desc();
  if (items.empty()) return;
  const float mx = items[0].logit;
  double sum = 0.0;
  for (Candidate& c : items) {
    c.p = std::exp(c.logit - mx);
    sum += c.p;
  }
  for (Candidate& c : items) c.p = (float)(c.p / sum);
}

Status SamplingParams::validate() const {
  if (!std::isfinite(temperature)) return field_error("temperature", "must be a finite number");
  if (!(top_p > 0.0f) || top_p > 1.0f || !std::isfinite(top_p)) return field_error("top_p", "must be in (0, 1]");
  if (min_p < 0.0f || min_p > 1.0f || !std::isfinite(min_p)) return field_error("min_p", "must be in [0, 1]");
  if (!(repeat_penalty > 0.0f) || !std::isfinite(repeat_penalty)) return field_error("repeat_penalty", "must be > 0");
  if (!std::isfinite(frequency_penalty)) return field_error("frequency_penalty", "must be finite");
  if (!std::isfinite(presence_penalty)) return field_error("presence_penalty", "must be finite");
  if (penalty_last_n < 0) return field_error("penalty_last_n", "must be >= 0");
  return Status::ok();
}

namespace {

class PenaltyStage final : public SamplerStage {
 public:
  PenaltyStage(const SamplingParams& p) : p_(p) {}
  void apply(Candidates& c) override {
    if (counts_.empty()) return;
    for (Candidate& x : c.items) {
      auto it = counts_.find(x.id);
      if (it == counts_.end()) continue;
      if (p_.repeat_penalty != 1.0f) x.logit = x.logit > 0 ? x.logit / p_.repeat_penalty : x.logit * p_.repeat_penalty;
      x.logit -= (float)it->second * p_.frequency_penalty + p_.presence_penalty;
    }
    c.sorted = false;
  }
  void accept(int32_t t) override {
    if (p_.penalty_last_n == 0) return;
    history_.push_back(t);
    ++counts_[t];
    if ((int)history_.size() > p_.penalty_last_n) {
      const int32_t old = history_.front();
      history_.pop_front();
      if (--counts_[old] == 0) counts_.erase(old);
    }
  }
  void reset() override {
    history_.clear();
    counts_.clear();
  }

 private:
  SamplingParams p_;
  std::deque<int32_t> history_;
  std::unordered_map<int32_t, int> counts_;
};

class TopKStage final : public SamplerStage {
 public:
  explicit TopKStage(int k) : k_(k) {}
  void apply(Candidates& c) override {
    if (k_ <= 0 || (size_t)k_ >= c.items.size()) return;
    if (!c.sorted) {
      std::partial_sort(c.items.begin(), c.items.begin() + k_, c.items.end(),
                        [](const Candidate& a, const Candidate& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); });
      c.sorted = true;
    }
    c.items.resize((size_t)k_);
  }

 private:
  int k_;
};

class TopPStage final : public SamplerStage {
 public:
  explicit TopPStage(float p) : p_(p) {}
  void apply(Candidates& c) override {
    if (p_ >= 1.0f) return;
    c.softmax();
    double cum = 0.0;
    size_t keep = c.items.size();
    for (size_t i = 0; i < c.items.size(); ++i) {
      cum += c.items[i].p;
      if (cum >= p_) {
        keep = i + 1;
        break;
      }
    }
    c.items.resize(std::max<size_t>(keep, 1));
  }

 private:
  float p_;
};

class MinPStage final : public SamplerStage {
 public:
  explicit MinPStage(float p) : p_(p) {}
  void apply(Candidates& c) override {
    if (p_ <= 0.0f || c.items.empty()) return;
    c.sort_desc();
    // p_i >= min_p * p_max  <=>  logit_i >= logit_max + log(min_p)
    const float threshold = c.items[0].logit + std::log(p_);
    size_t keep = 1;
    while (keep < c.items.size() && c.items[keep].logit >= threshold) ++keep;
    c.items.resize(keep);
  }

 private:
  float p_;
};

class TemperatureStage final : public SamplerStage {
 public:
  explicit TemperatureStage(float t) : t_(t) {}
  void apply(Candidates& c) override {
    for (Candidate& x : c.items) x.logit /= t_;
  }

 private:
  float t_;
};

}  // namespace

Sampler::Sampler(const SamplingParams& params, int32_t n_vocab) : params_(params), n_vocab_(n_vocab), rng_((uint32_t)params.seed) {
  if (params.repeat_penalty != 1.0f || params.frequency_penalty != 0.0f || params.presence_penalty != 0.0f) {
    stages_.push_back(std::make_unique<PenaltyStage>(params));
    has_penalty_ = true;
  }
  if (!greedy()) {
    stages_.push_back(std::make_unique<TopKStage>(params.top_k));
    stages_.push_back(std::make_unique<TopPStage>(params.top_p));
    stages_.push_back(std::make_unique<MinPStage>(params.min_p));
    stages_.push_back(std::make_unique<TemperatureStage>(params.temperature));
  }
  cand_.items.reserve((size_t)n_vocab);
  if (params.grammar) matcher_ = std::make_unique<GrammarMatcher>(params.grammar);
}

const Candidates& Sampler::probabilities(const float* logits) {
  if (greedy() && stages_.empty()) {  // plain argmax: no candidate list to build
    int32_t best = 0;
    for (int32_t i = 1; i < n_vocab_; ++i)
      if (logits[i] > logits[best]) best = i;  // strict: ties go to the lowest id
    cand_.items.assign(1, {best, logits[best], 1.0f});
    cand_.sorted = true;
    return cand_;
  }
  cand_.items.resize((size_t)n_vocab_);
  for (int32_t i = 0; i < n_vocab_; ++i) cand_.items[(size_t)i] = {i, logits[i], 0.0f};
  return ranked();
}

const Candidates& Sampler::ranked() {
  cand_.sorted = false;
  for (auto& s : stages_) s->apply(cand_);
  if (greedy()) {
    // Highest logit, ties to the lowest id (as llama.cpp's greedy sampler).
    size_t best = 0;
    for (size_t i = 1; i < cand_.items.size(); ++i) {
      const Candidate& a = cand_.items[i];
      const Candidate& b = cand_.items[best];
      if (a.logit > b.logit || (a.logit == b.logit && a.id < b.id)) best = i;
    }
    const Candidate top = cand_.items[best];
    cand_.items.assign(1, {top.id, top.logit, 1.0f});
    cand_.sorted = true;
    return cand_;
  }
  cand_.sorted = false;
  cand_.softmax();
  return cand_;
}

double Sampler::uniform() { return (double)(rng_() >> 8) * (1.0 / 16777216.0); }

int32_t Sampler::draw(const Candidates& c) {
  if (greedy()) return c.items[0].id;
  const double u = uniform();
  double cum = 0.0;
  for (const Candidate& x : c.items) {
    cum += x.p;
    if (u < cum) return x.id;
  }
  return c.items.back().id;
}

int32_t Sampler::sample(const float* logits) {
  const Candidates& c = probabilities(logits);
  const int32_t tok = draw(c);
  if (!matcher_ || matcher_->allows(tok)) return tok;
  // Rejected: the same distribution restricted to the allowed candidates (drawing until one is
  // allowed would give exactly this), when any survived the truncation.
  if (!greedy()) {
    Candidates allowed;
    double sum = 0;
    for (const Candidate& x : c.items)
      if (matcher_->allows(x.id)) allowed.items.push_back(x), sum += x.p;
    if (!allowed.items.empty() && sum > 0) {
      for (Candidate& x : allowed.items) x.p = (float)(x.p / sum);
      return draw(allowed);
    }
  }
  // None did (or greedy): the whole chain again over the logits with every disallowed token masked.
  // A state met for the first time would need its mask built (a walk of the vocabulary): the best
  // ranked allowed tokens are looked for first.
  if (!matcher_->mask_cached()) {
    const int32_t t = sample_best_allowed(logits);
    if (t >= 0) return t;
  }
  // The chain over the allowed tokens only: the same distribution as over logits with the others at
  // -infinity (they would get probability 0), for a pass over the vocabulary instead of three.
  std::string why;
  const auto mask = matcher_->allowed(&why);
  cand_.items.clear();
  const int32_t n = std::min<int32_t>(n_vocab_, (int32_t)mask->size());
  for (int32_t i = 0; i < n; ++i)
    if ((*mask)[(size_t)i]) cand_.items.push_back({i, logits[i], 0.0f});
  if (cand_.items.empty()) {
    error_ = why.empty() ? "grammar: no token of the vocabulary can continue the output here" : why;
    return -1;
  }
  return draw(ranked());
}

// Greedy over masked logits picks the best allowed token by (logit, then lowest id). It is looked for
// among the kPrefix best ranked tokens (one pass over the logits), each checked alone; -1 when none of
// them is allowed (build the mask). Sampling keeps top_k allowed tokens, rarely all among a short
// prefix, and penalties re-rank: both take the mask.
int32_t Sampler::sample_best_allowed(const float* logits) {
  constexpr size_t kPrefix = 32;
  if (!greedy() || has_penalty_) return -1;
  std::array<Candidate, kPrefix + 1> top;
  size_t n = 0;
  for (int32_t i = 0; i < n_vocab_; ++i) {
    if (n == kPrefix && !(logits[i] > top[n - 1].logit)) continue;  // ties keep the lower id, already in
    size_t j = n < kPrefix ? n++ : n - 1;
    while (j > 0 && logits[i] > top[j - 1].logit) {
      top[j] = top[j - 1];
      --j;
    }
    top[j] = {i, logits[i], 0.0f};
  }
  for (size_t i = 0; i < n; ++i)
    if (matcher_->allows(top[i].id)) return top[i].id;
  return -1;
}

Status Sampler::advance(int32_t token) {
  if (!matcher_) return Status::ok();
  Status s = matcher_->accept(token);
  if (!s.is_ok()) error_ = s.message();
  return s;
}

void Sampler::accept(int32_t token) {
  for (auto& s : stages_) s->accept(token);
}

void Sampler::reset() {
  for (auto& s : stages_) s->reset();
  if (matcher_) matcher_->reset();
  error_.clear();
  rng_.seed((uint32_t)params_.seed);
}

}  // namespace pocket
