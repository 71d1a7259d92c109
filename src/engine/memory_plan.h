// What an engine with given options allocates, computed from the model's shape alone (no weights
// loaded): the engine checks --mem-budget with it before allocating, and the planner predicts a
// device's memory with the very same arithmetic.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "kv/kv_cache.h"
#include "model/model_config.h"
#include "pocket/status.h"

namespace pocket {

class ThreadPool;

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
  // > 0: that many sequences share one paged KV cache (blocks of kKvBlockSize positions, enough for each
  // sequence's full context), for servers; 0: one sequence in a contiguous cache.
  int n_parallel = 0;
  // Run on another engine's threads instead of starting n_threads new ones (a speculative draft shares
  // the target's pool: two spinning pools on the same cores would slow both down).
  std::shared_ptr<ThreadPool> pool;
};

constexpr int kKvBlockSize = 16;

struct MemoryPlan {
  size_t weights = 0, kv_values = 0, kv_scales = 0, activations = 0, logits = 0;
  size_t total() const { return weights + kv_values + kv_scales + activations + logits; }
};

struct EnginePlan {
  int n_ctx = 0;        // positions the engine accepts
  KvCacheConfig kv;     // the cache it allocates
  int kv_blocks = 0;    // paged caches (n_parallel > 0): blocks in the pool
  MemoryPlan memory;
};

// Validates the options against the model (threads, batch, context, window and sinks, head size, a
// cache that cannot be meant) and computes the plan; with mem_budget set, a plan over it is an error
// that names the parts and a context that would fit. check_host: also refuse a plan larger than this
// machine's available memory or address space (the engine; the planner, sizing another device, does not).
Result<EnginePlan> plan_engine(const ModelConfig& c, size_t weight_bytes, const EngineOptions& opts, bool check_host = true);

std::string format_mib(double bytes);

}  // namespace pocket
