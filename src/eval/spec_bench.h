// `pocket bench --draft/--lookup/--self-draft-*`: speculative decoding against plain decoding of the
// same target, same prompt and same thread count, alternated repetition by repetition so that the
// machine's drift hits both; the speedup is the mean of the per-repetition ratios.
#pragma once

#include <string>
#include <vector>

#include "speculative/speculative.h"

namespace pocket {

struct SpecBenchConfig {
  std::vector<std::string> models;
  DraftSpec draft;
  SpeculativeOptions spec;
  std::vector<int> threads = {1};  // rows for each count: the engine's n_threads
  EngineOptions engine;            // the target's and (sharing its threads) the draft's engine
  int n_gen = 200;
  int repetitions = 3;
  std::string prompt = "The little dog was very happy because";
  SamplingParams sampling;  // temperature 0 (greedy) unless set
};

struct SpecBenchRow {
  std::string model, drafter;
  int threads = 0, n_gen = 0;
  bool adaptive = true;
  double plain_tps = 0, plain_sd = 0;  // plain decoding, tokens/s
  double spec_tps = 0, spec_sd = 0;    // speculative decoding, tokens/s
  double speedup = 0, speedup_sd = 0;  // mean and sd of spec/plain per repetition
  double acceptance = 0;               // accepted / drafted, over all repetitions
  double tokens_per_verification = 0;
  double draft_share = 0;  // share of speculative time spent drafting
  bool greedy = true;
  bool same_tokens = true;  // greedy: speculative output equals plain output every time
};

Result<std::vector<SpecBenchRow>> run_spec_bench(const SpecBenchConfig& cfg);
std::string spec_bench_to_markdown(const std::vector<SpecBenchRow>& rows);
std::string spec_bench_to_json(const std::vector<SpecBenchRow>& rows);
std::string spec_bench_to_csv(const std::vector<SpecBenchRow>& rows);

}  // namespace pocket
