#include "plan/planner.h"

#include <algorithm>
#include <cmath>

namespace pocket {

namespace {

// Measured on this machine (x86-64 Debian 12, glibc; `pocket bench` peak RSS minus the engine's plan,
// docs/planner.md): the process with its libraries and first heap arenas, and the tokenizer's tables
// per vocabulary entry (piece strings, the piece -> id hash map, scores, merge ranks).
constexpr double kProcessBaseBytes = 5.7 * (1 << 20);
constexpr double kBytesPerVocabEntry = 180.0;
constexpr double kStackBytesPerThread = 64.0 * 1024;  // touched part of each worker's stack
// Fixed cost per layer and token when a profile has no measured figure: a handful of parallel
// regions (barriers), norms, RoPE and the attention loop over a short context.
constexpr double kDefaultSyncUsPerLayer = 8.0;

bool is_integer_dot(TensorType t) { return t == TensorType::Q8_0 || t == TensorType::Q4_0 || t == TensorType::Q4_1; }

// Seconds to stream `bytes` of weights of type t once (decode), and the compute alternative.
struct Rates {
  double decode_bps;  // bytes of weights per second
  double ops;         // multiply-add x2 per second
};

Rates rates_for(const DeviceProfile& d, TensorType t, int64_t cols, int threads) {
  const double thread_share = std::min(1.0, (double)threads / (double)std::max(1, d.threads));
  Rates r{};
  double dec = 0, pre = 0;
  if (d.measured_rates(traits(t).name, cols, &dec, &pre)) {
    r.decode_bps = dec * 1e9 * thread_share;
    r.ops = pre * 1e9 * thread_share;
    return r;
  }
  r.decode_bps = d.bandwidth_gbps * 1e9 * d.decode_efficiency;
  const double peak = is_integer_dot(t) ? d.cpu_int8_gops : d.cpu_fp32_gflops;
  r.ops = peak * 1e9 * d.compute_efficiency * thread_share;
  return r;
}

double kv_bytes_per_value(KvType t) {
  switch (t) {
    case KvType::kF32: return 4;
    case KvType::kF16: return 2;
    case KvType::kQ8: return 1 + 2.0 / 32;
    case KvType::kQ4: return 0.5 + 2.0 / 32;
  }
  return 4;
}

double cloud_per_token(const CloudAssumptions& a, double tps) { return a.radio_w / tps + a.network_j_per_gb * a.bytes_per_token / 1e9; }

}  // namespace

double weight_type_cost(TensorType t) {
  // Relative perplexity increase of stories15M with every 2-D weight in the type (README, quantization
  // quality table; F16/BF16 from the same evaluation's rounding of F32).
  switch (t) {
    case TensorType::F32: return 0;
    case TensorType::F16: return 0.00002;
    case TensorType::BF16: return 0.0005;
    case TensorType::Q8_0: return 0.001;  // measured -0.05 % +- 0.05 %: counted as its error bar
    case TensorType::Q4_1: return 0.087;
    case TensorType::Q4_0: return 0.134;
    default: return 0.2;
  }
}

double kv_type_cost(KvType t) {
  switch (t) {  // README, KV cache table (stories15M, context 256)
    case KvType::kF32: return 0;
    case KvType::kF16: return 0.00001;
    case KvType::kQ8: return 0.0001;
    case KvType::kQ4: return 0.055;
  }
  return 0.1;
}

size_t runtime_overhead_bytes(const ModelConfig& c, int threads) {
  return (size_t)(kProcessBaseBytes + kBytesPerVocabEntry * (double)c.n_vocab + kStackBytesPerThread * threads);
}

Result<PlanResult> make_plan(const ModelFootprint& m, const DeviceProfile& d, const PlanSettings& s, const CloudAssumptions& cloud) {
  if (s.prompt_tokens < 1) return field_error("prompt_tokens", "must be >= 1");
  if (s.gen_tokens < 1) return field_error("gen_tokens", "must be >= 1");
  EngineOptions eo = s.engine;
  eo.mem_budget = 0;
  if (eo.n_threads <= 0) eo.n_threads = d.threads;
  POCKET_ASSIGN_OR_RETURN(EnginePlan ep, plan_engine(m.config, m.weight_bytes(), eo, /*check_host=*/false));
  const ModelConfig& c = m.config;
  PlanResult r;
  r.model = m.name;
  r.device = d.name;
  r.main_type = m.main_type();
  r.kv_k_type = eo.kv_k_type;
  r.kv_v_type = eo.kv_v_type;
  r.weight_type = traits(r.main_type).name;
  r.kv = std::string(kv_type_name(eo.kv_k_type)) + "/" + kv_type_name(eo.kv_v_type);
  r.n_ctx = ep.n_ctx;
  r.kv_positions = ep.kv.slots();
  r.window = ep.kv.window;
  r.threads = eo.n_threads;
  r.memory = ep.memory;
  r.resident_weights = m.resident_weight_bytes();
  r.runtime_overhead = runtime_overhead_bytes(c, eo.n_threads);
  r.total = r.resident_weights + ep.memory.kv_values + ep.memory.kv_scales + ep.memory.activations + ep.memory.logits + r.runtime_overhead;
  r.usable = (size_t)(d.usable_ram_gb * 1e9);
  r.fits = r.total <= r.usable;
  r.quality_cost = weight_type_cost(m.main_type()) + 0.5 * (kv_type_cost(eo.kv_k_type) + kv_type_cost(eo.kv_v_type));

  // Decode: every matrix streamed once per token (per type at its rate, or its compute time if that
  // is longer), the KV rows read at the mean position, a fixed cost per layer.
  const double sync_us = d.sync_us_per_layer > 0 ? d.sync_us_per_layer : kDefaultSyncUsPerLayer;
  double mem_s = 0, compute_s = 0;
  for (const TensorInfo& t : m.tensors) {
    if (t.rows <= 1 || (t.name == "token_embd.weight" && !m.tied_output)) continue;
    const Rates rt = rates_for(d, t.type, t.ne0, eo.n_threads);
    mem_s += (double)t.bytes / rt.decode_bps;
    compute_s += 2.0 * (double)t.ne0 * (double)t.rows / rt.ops;
  }
  const Rates f32 = rates_for(d, TensorType::F32, c.head_dim, eo.n_threads);
  const double kv_row_bytes = (double)c.n_layer * (double)c.kv_dim() * (kv_bytes_per_value(eo.kv_k_type) + kv_bytes_per_value(eo.kv_v_type));
  const double mean_pos = std::min<double>(r.kv_positions, s.prompt_tokens + s.gen_tokens / 2.0);
  const double kv_s = kv_row_bytes * mean_pos / (d.bandwidth_gbps * 1e9 * d.decode_efficiency);
  const double attn_s = 4.0 * (double)c.n_layer * (double)c.q_dim() * mean_pos / f32.ops;
  const double fixed_s = (double)c.n_layer * sync_us * 1e-6;
  r.decode_bound = compute_s > mem_s ? "compute" : "memory";
  const double t_token = std::max(mem_s, compute_s) + kv_s + attn_s + fixed_s;
  r.decode_tps = 1.0 / t_token;

  // Prefill of P tokens in chunks of the batch size: matrix products at the GEMM rate, weights
  // streamed once per chunk, attention over the growing prefix, the fixed cost per chunk.
  const double P = s.prompt_tokens;
  const double chunks = std::ceil(P / eo.max_batch);
  double gemm_s = 0;
  for (const TensorInfo& t : m.tensors) {
    if (t.rows <= 1 || (t.name == "token_embd.weight" && !m.tied_output)) continue;
    const Rates rt = rates_for(d, t.type, t.ne0, eo.n_threads);
    gemm_s += 2.0 * (double)t.ne0 * (double)t.rows * P / rt.ops;
  }
  const double pre_attn_s = 2.0 * (double)c.n_layer * (double)c.q_dim() * P * P / f32.ops;
  const double t_prompt = std::max(gemm_s, chunks * mem_s) + pre_attn_s + chunks * fixed_s;
  r.prefill_tps = P / t_prompt;
  r.ttft_s = t_prompt + t_token;

  if (d.power_w > 0) {
    r.j_per_token = d.power_w * t_token;
    r.tokens_per_j = 1.0 / r.j_per_token;
  }
  r.cloud.ttft_s = (cloud.rtt_ms + cloud.server_ttft_ms) / 1e3;
  r.cloud.tps = cloud.server_tps;
  r.cloud.device_j_per_token = cloud.radio_w / cloud.server_tps;
  r.cloud.total_j_per_token = cloud_per_token(cloud, cloud.server_tps) + cloud.server_j_per_token;
  return r;
}

std::vector<PlanResult> fitting_configurations(const ModelFootprint& m, const DeviceProfile& d, const PlanSettings& s, int limit) {
  std::vector<PlanResult> out;
  EngineOptions base = s.engine;
  base.n_ctx = s.engine.n_ctx > 0 ? s.engine.n_ctx : (int)std::min<int64_t>(m.config.n_ctx_train, 4096);
  const TensorType types[] = {TensorType::F16, TensorType::Q8_0, TensorType::Q4_1, TensorType::Q4_0};
  const KvType kvs[] = {KvType::kF16, KvType::kQ8, KvType::kQ4};
  std::vector<TensorType> wtypes(std::begin(types), std::end(types));
  if (std::find(wtypes.begin(), wtypes.end(), m.main_type()) == wtypes.end()) wtypes.insert(wtypes.begin(), m.main_type());
  for (TensorType wt : wtypes) {
    const ModelFootprint mf = wt == m.main_type() ? m : m.with_weight_type(wt);
    for (KvType kv : kvs) {
      for (int ctx = base.n_ctx; ctx >= 512 || ctx == base.n_ctx; ctx /= 2) {
        for (int windowed = 0; windowed < 2; ++windowed) {
          if (windowed && ctx == base.n_ctx) continue;
          PlanSettings ps = s;
          ps.engine.kv_k_type = ps.engine.kv_v_type = kv;
          ps.engine.n_ctx = windowed ? base.n_ctx : ctx;
          ps.engine.kv_window = windowed ? ctx : -1;
          Result<PlanResult> r = make_plan(mf, d, ps);
          if (!r.is_ok() || !r.value().fits) continue;
          PlanResult p = r.value();
          if (windowed) p.quality_cost += 0.05;  // attends to the last `ctx` positions only
          out.push_back(p);
        }
        if (ctx < 1024) break;
      }
    }
  }
  // The longest context first (it is what the application asked for), then quality, then speed.
  std::stable_sort(out.begin(), out.end(), [](const PlanResult& a, const PlanResult& b) {
    if (a.n_ctx != b.n_ctx) return a.n_ctx > b.n_ctx;
    if (a.quality_cost != b.quality_cost) return a.quality_cost < b.quality_cost;
    return a.decode_tps > b.decode_tps;
  });
  if ((int)out.size() > limit) out.resize((size_t)limit);
  return out;
}

}  // namespace pocket
