#include "engine/memory_plan.h"

#include <algorithm>
#include <cstdio>

#include "core/memory_stats.h"
#include "kernels/kernel_table.h"
#include "model/scratch.h"

namespace pocket {

// Without n_ctx, long-context models get 4096 positions (as llama.cpp): the F32 KV cache of a
// 128k-context model would not fit a phone.
constexpr int64_t kDefaultMaxCtx = 4096;
constexpr int kUnlimitedWindowCtx = 1000000;

std::string format_mib(double b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1 << 20));
  return buf;
}

Result<EnginePlan> plan_engine(const ModelConfig& c, size_t weight_bytes, const EngineOptions& opts, bool check_host) {
  const int n_threads = opts.n_threads;
  if (n_threads < 1 || n_threads > 256) return field_error("n_threads", "must be in 1..256");
  if (opts.max_batch < 1 || opts.max_batch > 4096) return field_error("max_batch", "must be in 1..4096");
  if (opts.n_ctx < 0) return field_error("n_ctx", "must be >= 0");
  // Paged caches keep every position (no ring); a model's own window is then its per-layer mask alone.
  const int window = opts.n_parallel > 0 ? 0 : opts.kv_window > 0 ? opts.kv_window : opts.kv_window == 0 ? (int)c.sliding_window : 0;
  if (opts.n_parallel < 0 || opts.n_parallel > 256) return field_error("n_parallel", "must be in 1..256");
  if (opts.n_parallel > 0 && opts.kv_window > 0) return field_error("n_parallel", "(paged KV cache) does not combine with kv_window");
  if (opts.kv_window > 0 && (opts.kv_sinks < 0 || opts.kv_sinks >= window))
    return field_error("kv_sinks", "must be in 0.." + std::to_string(window - 1) + " (below the window)");
  EnginePlan p;
  p.n_ctx = opts.n_ctx > 0 ? opts.n_ctx : window > 0 ? kUnlimitedWindowCtx : (int)std::min<int64_t>(c.n_ctx_train, kDefaultMaxCtx);
  // The cache is allocated up front: refuse sizes that cannot be meant before touching memory.
  if (c.head_dim > kMaxHeadDim)
    return error(ErrorCode::kUnsupported, "head dimension " + std::to_string(c.head_dim) + " exceeds " + std::to_string(kMaxHeadDim));
  KvCacheConfig& kc = p.kv;
  kc.n_layer = (int)c.n_layer;
  kc.n_head_kv = c.n_head_kv;
  kc.head_dim = c.head_dim;
  kc.n_ctx = p.n_ctx;
  kc.n_seq = std::max(1, opts.n_parallel);
  kc.k_type = opts.kv_k_type;
  kc.v_type = opts.kv_v_type;
  if (opts.n_parallel > 0) {
    // Every sequence can reach its full context; the pool is rounded up to whole blocks.
    const int per_seq = (p.n_ctx + kKvBlockSize - 1) / kKvBlockSize;
    p.kv_blocks = per_seq * opts.n_parallel;
  } else if (window > 0 && window < p.n_ctx) {
    kc.window = window;
    kc.sinks = opts.kv_window > 0 ? opts.kv_sinks : 0;  // the model's own window is trained without sinks
    kc.slack = opts.max_batch - 1;
  }
  size_t kv_data = 0, kv_scales = 0;
  if (p.kv_blocks > 0) {  // the pool holds kv_blocks x block size positions in all
    KvCacheConfig pool = kc;
    pool.n_seq = 1;
    pool.n_ctx = p.kv_blocks * kKvBlockSize;
    kv_cache_bytes(pool, &kv_data, &kv_scales);
  } else {
    kv_cache_bytes(kc, &kv_data, &kv_scales);
  }
  const double kv_bytes = (double)kv_data + (double)kv_scales;
  if (kv_bytes > 64.0 * (1ull << 30))
    return error(ErrorCode::kResourceLimit,
                 "context " + std::to_string(p.n_ctx) + " needs a " + std::to_string((long long)(kv_bytes / (1 << 20))) + " MiB KV cache; refusing");
  const int span = kc.window > 0 ? std::min(kc.n_ctx, kc.window) : kc.n_ctx;
  MemoryPlan& mp = p.memory;
  mp.weights = weight_bytes;
  mp.kv_values = kv_data;
  mp.kv_scales = kv_scales;
  mp.activations = scratch_bytes(c, opts.max_batch, span, n_threads);
  mp.logits = (size_t)c.n_vocab * sizeof(float);  // generation reads one row; perplexity's scored rows come on top
  // Larger than this machine can give (or than `ulimit -v` allows): refuse now, with the numbers, instead
  // of a bad_alloc or the OOM killer later. The weights are mapped from the file (page cache, not
  // anonymous memory) but take address space.
  const MemoryHeadroom room = check_host ? memory_headroom() : MemoryHeadroom{};
  const size_t anon = mp.total() - mp.weights;
  if (anon > room.available || mp.total() > room.address_space) {
    const bool as = mp.total() > room.address_space;
    return error(ErrorCode::kResourceLimit,
                 "context " + std::to_string(p.n_ctx) + ": KV cache " + format_mib((double)(kv_data + kv_scales)) + " + activations " +
                     format_mib((double)(mp.activations + mp.logits)) + (as ? " + weights " + format_mib((double)mp.weights) : std::string()) +
                     " exceed the " + format_mib((double)(as ? room.address_space : room.available)) +
                     (as ? " of address space left (ulimit -v)" : " of memory available") + "; use a smaller n_ctx or kv_k_type/kv_v_type");
  }
  if (opts.mem_budget > 0 && mp.total() > opts.mem_budget) {
    const double fixed = (double)(mp.weights + mp.activations + mp.logits);
    const double per_pos = (double)(kv_data + kv_scales) / (double)std::max(1, kc.slots());
    std::string hint;
    if (fixed >= (double)opts.mem_budget)
      hint = "the weights and activations alone exceed it: use a smaller weight type (pocket quantize) or max_batch";
    else
      hint = "fits with n_ctx " + std::to_string((long long)(((double)opts.mem_budget - fixed) / per_pos)) + " or a smaller kv_k_type/kv_v_type";
    return field_error("mem_budget",
                       format_mib((double)opts.mem_budget) + ": weights " + format_mib((double)mp.weights) + " + KV cache " +
                           format_mib((double)(kv_data + kv_scales)) + " (" + kv_type_name(kc.k_type) + "/" + kv_type_name(kc.v_type) + ", " +
                           std::to_string(kc.slots()) + " positions) + activations " + format_mib((double)mp.activations) + " + logits " +
                           format_mib((double)mp.logits) + " = " + format_mib((double)mp.total()) + " exceed it; " + hint,
                       ErrorCode::kResourceLimit);
  }
  return p;
}

}  // namespace pocket
