// Grammar overhead: the same model, prompt and sampler generating freely and under a grammar,
// alternating, in one process, after one free warm-up run. The first constrained run starts with empty
// grammar caches (what the first request with a new schema costs); later ones reuse them (what a server's repeated schema
// costs). Speed is per generated token, so runs of different lengths compare.
#pragma once

#include <string>
#include <vector>

#include "engine/engine_options.h"
#include "pocket/status.h"
#include "sampling/sampler.h"

namespace pocket {

struct GrammarBenchConfig {
  std::string model;
  std::string gbnf, label;  // label: what the grammar is (file name)
  std::string prompt = "Once upon a time";
  int n_gen = 256;
  int repetitions = 5;
  int threads = 1;
  SamplingParams sampling;  // grammar set by the bench
};

struct GrammarBenchResult {
  double compile_ms = 0;
  double free_ms_per_token = 0, cold_ms_per_token = 0, warm_ms_per_token = 0;  // medians (cold: the first run)
  double free_spread = 0, warm_spread = 0;                                     // (max - min) / median
  int free_tokens = 0, constrained_tokens = 0;                                 // per run (the last)
  std::string sample;                                                          // the last constrained output
  size_t states = 0, masks = 0;
};

Result<GrammarBenchResult> run_grammar_bench(const GrammarBenchConfig& cfg);
std::string grammar_bench_to_markdown(const GrammarBenchConfig& cfg, const GrammarBenchResult& r);

}  // namespace pocket
