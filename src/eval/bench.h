// `pocket bench`: prompt processing (ppN) and generation (tgN) speed, llama-bench style, with the
// bytes each generated token reads and the share of measured memory bandwidth that represents.
#pragma once

#include <string>
#include <vector>

#include "engine/engine_options.h"
#include "pocket/status.h"

namespace pocket {

// A bench's engine unless set: prompt chunks of 512 tokens, no sliding window (only an explicit one:
// synthetic shapes carry none, so rows of a file and of its shape compare).
inline EngineOptions bench_engine_defaults() {
  EngineOptions e;
  e.max_batch = 512;
  e.kv_window = -1;
  return e;
}

struct BenchConfig {
  std::vector<std::string> models;
  std::vector<int> n_prompt = {128};
  std::vector<int> n_gen = {64};
  std::vector<int> threads = {1};  // rows for each count: the engine's n_threads
  int repetitions = 3;
  bool measure_bandwidth = true;
  // Every engine of the bench (batch, KV types, window, sinks, memory budget); n_threads comes from
  // `threads` and n_ctx is the longest test.
  EngineOptions engine = bench_engine_defaults();
};

struct BenchRow {
  std::string model;
  std::string types;  // weight types, e.g. "Q4_0+Q8_0"
  int64_t params = 0;
  size_t weight_bytes = 0;     // all tensors
  size_t bytes_per_token = 0;  // weights one decode step reads (the token embedding is only indexed)
  int threads = 0;
  std::string kv;                           // KV cache types "k/v", e.g. "q8/q8"
  size_t kv_bytes = 0, kv_scale_bytes = 0;  // allocated for the test's context (values, scales)
  std::string test;                         // "pp128" / "tg64"
  double tps_mean = 0, tps_sd = 0;
  double gbps = 0;             // bytes_per_token * tokens/s (generation only)
  double bandwidth_share = 0;  // gbps / measured read bandwidth at this thread count
  double read_bandwidth_gbps = 0;
  size_t peak_rss = 0;
  // Per (model, threads), the same on each of its rows: seconds of Engine::load (map, validate, allocate),
  // and of the first prompt evaluation after it (the first -p test's length, 32 tokens without one;
  // page faults of the weights included). time to first token = load + first prompt.
  double load_seconds = 0, first_prompt_seconds = 0;
  int first_prompt_tokens = 0;
};

Result<std::vector<BenchRow>> run_bench(const BenchConfig& cfg);

std::string bench_to_markdown(const std::vector<BenchRow>& rows);
std::string bench_to_json(const std::vector<BenchRow>& rows);
std::string bench_to_csv(const std::vector<BenchRow>& rows);

}  // namespace pocket
