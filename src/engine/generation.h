// What a generation asks for (options), what it reports (stats, with a typed finish reason) and where
// its text goes (callback); shared by Engine::generate, speculative decoding and the server.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "sampling/sampler.h"

namespace pocket {

struct GenerateOptions {
  int n_predict = 128;  // new tokens at most; < 0: until the context is full
  SamplingParams sampling;
  std::vector<std::string> stop_strings;  // generation ends before the first occurrence
  bool stop_on_bos = true;                // a generated BOS ends the text (llama2.c-trained models' end of story)
  bool ignore_eos = false;                // EOS/EOT never sampled (their logits at -inf): generate n_predict tokens
  int logprobs = -1;                      // >= 0: record each generated token's log-probability and this many alternatives
};

// A generated token's log-probability under the model (log-softmax of its raw logits: before
// penalties, temperature and truncation) and the most likely tokens there.
struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;  // most likely first
};

// Why a sequence stopped generating.
enum class FinishReason : uint8_t {
  kNone,        // still generating
  kEos,         // an end-of-generation token (not printed)
  kBos,         // a BOS token with stop_on_bos (llama2.c stories end so)
  kStopString,  // one of the stop strings appeared (it and what follows are not printed)
  kLength,      // n_predict tokens generated
  kContext,     // no position left in the context for the next token
  kCallback,    // the text callback returned false (the reader went away)
  kCancelled,   // cancelled from outside (server: client disconnected, shutdown)
  kError,       // evaluation failed
};
// "eos", "bos", "stop_string", "n_predict", "context", "callback", "cancelled", "error" ("" for kNone).
const char* finish_reason_name(FinishReason r);
inline bool operator==(FinishReason r, std::string_view name) { return name == finish_reason_name(r); }
inline std::ostream& operator<<(std::ostream& os, FinishReason r) { return os << finish_reason_name(r); }

struct GenerateStats {
  int n_prompt = 0;
  int n_generated = 0;
  double prompt_seconds = 0.0;
  double generate_seconds = 0.0;
  FinishReason stop_reason = FinishReason::kNone;
};

// Receives text as it becomes printable; return false to stop.
using TextCallback = std::function<bool(const std::string& text)>;

}  // namespace pocket
