// Grammar overhead: the same model, prompt and sampler generating freely and under a grammar,
// alternating, in one process, after one free warm-up run. Each repetition decodes freely, then under
// a freshly compiled grammar (empty caches: what the first request with a new schema costs), then under
// it again (warm caches: what a server's repeated schema costs). Speed is per generated token, so
// runs of different lengths compare.
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
  double compile_ms = 0;                                                       // the first compile, which also builds the vocabulary's trie
  double recompile_ms = 0;                                                     // a new grammar once the trie exists (median)
  double free_ms_per_token = 0, cold_ms_per_token = 0, warm_ms_per_token = 0;  // medians
  double free_spread = 0, cold_spread = 0, warm_spread = 0;                    // (max - min) / median
  int free_tokens = 0, constrained_tokens = 0;                                 // per run (the last)
  std::string sample;                                                          // the last constrained output
  size_t states = 0, masks = 0;
};

Result<GrammarBenchResult> run_grammar_bench(const GrammarBenchConfig& cfg);
std::string grammar_bench_to_markdown(const GrammarBenchConfig& cfg, const GrammarBenchResult& r);

}  // namespace pocket
