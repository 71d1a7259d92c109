// What a generation asks for (options), what it reports (stats) and where its text goes (callback),
// shared by plain and speculative decoding.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sampling/sampler.h"

namespace pocket {

struct GenerateOptions {
  int n_predict = 128;                   // new tokens at most; < 0: until the context is full
  SamplingParams sampling;
  std::vector<std::string> stop_strings; // generation ends before the first occurrence
  bool stop_on_bos = true;               // a generated BOS ends the text (llama2.c-trained models' end of story)
};

struct GenerateStats {
  int n_prompt = 0;
  int n_generated = 0;
  double prompt_seconds = 0.0;
  double generate_seconds = 0.0;
  std::string stop_reason;  // "eos", "bos", "stop_string", "n_predict", "context", "callback"
};

// Receives text as it becomes printable; return false to stop.
using TextCallback = std::function<bool(const std::string& text)>;

}  // namespace pocket
