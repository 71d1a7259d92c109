// Turns sampled tokens into streamed text and decides when generation ends: end-of-generation
// tokens, BOS (llama2.c stories), the token limit, stop strings and the caller's callback.
// Plain and speculative decoding push their tokens through the same object.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/generation.h"
#include "tokenizer/tokenizer.h"

namespace pocket {

// Holds back text that might be the start of a stop string; reports when one is complete.
class StopMatcher {
 public:
  explicit StopMatcher(const std::vector<std::string>& stops) : stops_(stops) {}
  // Adds text; returns what can be printed now. Sets *stopped when a stop string appeared.
  std::string feed(const std::string& text, bool* stopped);
  std::string flush();

 private:
  const std::vector<std::string>& stops_;
  std::string buf_;
};

class TokenOutput {
 public:
  // last_prompt_token: the token before the first generated one (for SentencePiece space handling).
  TokenOutput(const Tokenizer& tok, const GenerateOptions& opts, const TextCallback& on_text, std::vector<int32_t>* ids,
              int32_t last_prompt_token, int limit);
  // True (and st->stop_reason "n_predict") once the token limit is reached.
  bool done(GenerateStats* st) const;
  // Takes one sampled token (already given to the sampler's history). False when generation ends here;
  // st->stop_reason says why. End tokens are not counted or printed.
  bool push(int32_t tok, GenerateStats* st);
  // Prints text still held back, unless a stop string or the callback ended the generation.
  void finish(const GenerateStats& st);

 private:
  bool emit(const std::string& text) const { return text.empty() || !on_text_ || on_text_(text); }
  const Vocab& vocab_;
  bool stop_on_bos_;
  const TextCallback& on_text_;
  std::vector<int32_t>* ids_;
  int32_t prev_;
  int limit_;
  StreamDecoder dec_;
  StopMatcher stop_;
};

}  // namespace pocket
