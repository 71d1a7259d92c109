// Engine: a loaded model + tokenizer + one sequence's KV cache, scratch and thread pool;
// generate() drives prefill -> decode -> sample -> stream.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/generation.h"
#include "kv/kv_cache.h"
#include "model/forward.h"
#include "model/model_weights.h"
#include "model/scratch.h"
#include "runtime/thread_pool.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace pocket {

struct EngineOptions {
  int n_threads = 1;
  int n_ctx = 0;        // 0: the model's training context, at most 4096
  int max_batch = 64;   // prompt tokens per forward chunk
  KvType kv_k_type = KvType::kF32;  // KV cache element types (kv_row.h)
  KvType kv_v_type = KvType::kF32;
  // Sliding window with attention sinks (StreamingLLM): 0 = the model's own window from GGUF
  // metadata if it has one, else off; -1 = off. With a window, memory is window + max_batch - 1
  // positions and n_ctx (0: unlimited, 1,000,000) only bounds the positions.
  int kv_window = 0;
  int kv_sinks = 4;
  // Memory budget in bytes (0: none): weights + KV cache + activations + logits must fit, checked
  // before anything is allocated; the error says which context would fit.
  size_t mem_budget = 0;
  // Run on another engine's threads instead of starting n_threads new ones (a speculative draft shares
  // the target's pool: two spinning pools on the same cores would slow both down).
  std::shared_ptr<ThreadPool> pool;
};

// What an engine with these options allocates, computed before loading (budget checks, `pocket run -v`).
struct MemoryPlan {
  size_t weights = 0, kv_values = 0, kv_scales = 0, activations = 0, logits = 0;
  size_t total() const { return weights + kv_values + kv_scales + activations + logits; }
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> load(const std::string& model_path, const EngineOptions& opts);
  static Result<std::unique_ptr<Engine>> create(std::unique_ptr<Model> model, const EngineOptions& opts);

  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  int n_ctx() const { return n_ctx_; }
  const MemoryPlan& memory() const { return memory_; }
  KvCache& kv() { return *kv_; }
  ThreadPool& pool() { return *pool_; }
  const std::shared_ptr<ThreadPool>& shared_pool() const { return pool_; }

  // Evaluates a batch on this engine's cache (clear_kv() to start over).
  Status eval(const Batch& batch, std::vector<float>* logits, const ForwardOptions& fo = {});
  void clear_kv() { kv_->clear(); }

  // Error for an empty prompt, one longer than the context, or token ids outside the vocabulary.
  Status check_prompt(const std::vector<int32_t>& prompt) const;

  // Tokenizes prompt (with BOS when the vocabulary asks), runs it and generates.
  Result<GenerateStats> generate(const std::string& prompt, const GenerateOptions& opts, const TextCallback& on_text,
                                 std::vector<int32_t>* generated_ids = nullptr);
  Result<GenerateStats> generate_tokens(const std::vector<int32_t>& prompt, const GenerateOptions& opts,
                                        const TextCallback& on_text, std::vector<int32_t>* generated_ids = nullptr);

 private:
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::shared_ptr<ThreadPool> pool_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<Scratch> scratch_;
  int n_ctx_ = 0;
  MemoryPlan memory_;
};

}  // namespace pocket
