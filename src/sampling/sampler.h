// Sampling as a chain of stages over candidate tokens: penalties -> top-k -> top-p -> min-p ->
// temperature -> draw (or greedy). Each stage has apply / accept / reset.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pocket/status.h"
#include "sampling/grammar.h"

namespace pocket {

struct Candidate {
  int32_t id;
  float logit;
  float p;
};

struct Candidates {
  std::vector<Candidate> items;
  bool sorted = false;  // by logit, descending
  void sort_desc();
  void softmax();  // fills p from logits (sorts first)
};

struct SamplingParams {
  float temperature = 0.8f;     // <= 0: greedy
  int top_k = 40;               // <= 0: off
  float top_p = 0.95f;          // >= 1: off
  float min_p = 0.05f;          // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off (llama.cpp semantics: divide positive logits, multiply negative)
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  int penalty_last_n = 64;  // history window for the penalties
  uint64_t seed = 0;
  // Constrained decoding (GBNF, JSON schema): only tokens the grammar allows are sampled, and the end
  // token only once it is complete. Null: unconstrained.
  std::shared_ptr<Grammar> grammar;

  Status validate() const;
};

class SamplerStage {
 public:
  virtual ~SamplerStage() = default;
  virtual void apply(Candidates& c) = 0;
  virtual void accept(int32_t token) {}
  virtual void reset() {}
};

class Sampler {
 public:
  Sampler(const SamplingParams& params, int32_t n_vocab);
  // Picks the next token from a row of n_vocab logits; with a grammar, one it allows. -1 when the
  // grammar allows no token at all (error() says why).
  int32_t sample(const float* logits);
  // A generated token (not a prompt token): moves the grammar past it.
  Status advance(int32_t token);
  bool constrained() const { return matcher_ != nullptr; }
  const std::string& error() const { return error_; }
  // The distribution sample() draws from: the candidates left after the stages, with probabilities
  // (greedy: the one best token with p = 1). Valid until the next call. Speculative sampling uses it.
  const Candidates& probabilities(const float* logits);
  // A uniform number in [0, 1) from this sampler's generator (24 bits, the same on every platform).
  double uniform();
  // Records a token (prompt or generated) in the history the penalties look at.
  void accept(int32_t token);
  void reset();
  bool greedy() const { return params_.temperature <= 0.0f; }

 private:
  SamplingParams params_;
  int32_t n_vocab_;
  std::vector<std::unique_ptr<SamplerStage>> stages_;
  std::mt19937 rng_;
  Candidates cand_;
  std::unique_ptr<GrammarMatcher> matcher_;
  std::string error_;
  bool has_penalty_ = false;  // stages_[0] is the penalty stage
  int32_t draw(const Candidates& c);
  const Candidates& ranked();  // the stages over cand_, then greedy's pick or the softmax
  int32_t sample_best_allowed(const float* logits);
};

}  // namespace pocket
