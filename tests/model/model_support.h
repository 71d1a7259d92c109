// Shared helpers for model-level tests: load an engine, run a prompt, greedy-decode.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "test_support.h"

namespace pocket::test {

inline std::unique_ptr<Engine> load_engine(const std::string& path, int threads = 1, int max_batch = 64, int n_ctx = 0) {
  EngineOptions o;
  o.n_threads = threads;
  o.max_batch = max_batch;
  o.n_ctx = n_ctx;
  auto e = Engine::load(path, o);
  EXPECT_TRUE(e.is_ok()) << path << ": " << e.status().message();
  return e.is_ok() ? std::move(e.value()) : nullptr;
}

// Logits for every position of `tokens` (one batch), from an empty cache.
inline std::vector<float> all_logits(Engine& e, const std::vector<int32_t>& tokens, const ForwardOptions& fo = {}) {
  e.clear_kv();
  Batch b;
  for (size_t i = 0; i < tokens.size(); ++i) b.add(tokens[i], (int32_t)i, 0, true);
  std::vector<float> logits;
  const Status s = e.eval(b, &logits, fo);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return logits;
}

inline int32_t argmax(const float* x, int64_t n) {
  return (int32_t)(std::max_element(x, x + n) - x);  // first maximum = lowest id on ties
}

// Logits of every prompt position and of n greedy decode steps after it, one after the other.
inline std::vector<float> prompt_and_decode_logits(Engine& e, const std::vector<int32_t>& prompt, int n, const ForwardOptions& fo = {}) {
  const int64_t nv = e.model().config().n_vocab;
  std::vector<float> all = all_logits(e, prompt, fo);
  std::vector<float> logits(all.end() - nv, all.end());
  int32_t pos = (int32_t)prompt.size();
  Batch b;
  for (int k = 0; k < n; ++k) {
    b.clear();
    b.add(argmax(logits.data(), nv), pos++, 0, true);
    const Status s = e.eval(b, &logits, fo);
    EXPECT_TRUE(s.is_ok()) << s.message();
    if (!s.is_ok()) break;
    all.insert(all.end(), logits.begin(), logits.end());
  }
  return all;
}

// Prompt in one batch, then n greedy tokens one at a time, no stop condition (as golden_logits).
inline std::vector<int32_t> greedy(Engine& e, const std::vector<int32_t>& prompt, int n) {
  const int64_t nv = e.model().config().n_vocab;
  e.clear_kv();
  Batch b;
  for (size_t i = 0; i < prompt.size(); ++i) b.add(prompt[i], (int32_t)i, 0, i + 1 == prompt.size());
  std::vector<float> logits;
  EXPECT_TRUE(e.eval(b, &logits).is_ok());
  std::vector<int32_t> out;
  int32_t pos = (int32_t)prompt.size();
  for (int k = 0; k < n; ++k) {
    const int32_t t = argmax(logits.data(), nv);
    out.push_back(t);
    if (k + 1 == n) break;
    b.clear();
    b.add(t, pos++, 0, true);
    const Status s = e.eval(b, &logits);
    EXPECT_TRUE(s.is_ok()) << s.message();
    if (!s.is_ok()) break;
  }
  return out;
}

inline nlohmann::json load_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

}  // namespace pocket::test
