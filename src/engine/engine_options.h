// EngineOptions: how an engine is sized and run (threads, context, batch, KV cache type, window,
// memory budget, parallel sequences). One struct, passed by reference to everything that builds or
// plans an engine (Engine::create, plan_engine, bench, the planner), never copied field by field.
#pragma once

#include <cstddef>
#include <memory>

#include "dtype/kv_row.h"

namespace pocket {

class ThreadPool;

struct EngineOptions {
  int n_threads = 1;
  int n_ctx = 0;                    // 0: the model's training context, at most 4096
  int max_batch = 64;               // prompt tokens per forward chunk
  KvType kv_k_type = KvType::kF32;  // KV cache element types (kv_row.h)
  KvType kv_v_type = KvType::kF32;
  // Sliding window with attention sinks (StreamingLLM): 0 = the model's own window from GGUF
  // metadata if it has one (as trained: no sinks, kv_sinks does not apply), else off; -1 = no ring,
  // every position is kept (a model's own window still masks, as trained). With a window, memory is
  // window + max_batch - 1 positions and n_ctx (0: unlimited, 1,000,000) only bounds the positions.
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

}  // namespace pocket
