// What an engine with given options allocates, computed from the model's shape alone (no weights
// loaded): the engine checks --mem-budget with it before allocating, and the planner predicts a
// device's memory with the very same arithmetic.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "engine/engine_options.h"
#include "kv/kv_cache.h"
#include "model/model_config.h"
#include "pocket/status.h"

namespace pocket {

struct MemoryPlan {
  size_t weights = 0, kv_values = 0, kv_scales = 0, activations = 0, logits = 0;
  size_t total() const { return weights + kv_values + kv_scales + activations + logits; }
};

struct EnginePlan {
  int n_ctx = 0;      // positions the engine accepts
  KvCacheConfig kv;   // the cache it allocates
  int kv_blocks = 0;  // paged caches (n_parallel > 0): blocks in the pool
  MemoryPlan memory;
};

// Validates the options against the model (threads, batch, context, window and sinks, head size, a
// cache that cannot be meant) and computes the plan; with mem_budget set, a plan over it is an error
// that names the parts and a context that would fit. check_host: also refuse a plan larger than this
// machine's available memory or address space (the engine; the planner, sizing another device, does not).
Result<EnginePlan> plan_engine(const ModelConfig& c, size_t weight_bytes, const EngineOptions& opts, bool check_host = true);

std::string format_mib(double bytes);

}  // namespace pocket
