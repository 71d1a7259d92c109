// The deployment planner: will this model fit this device, how fast, at what energy.
// Memory is the engine's own plan (plan_engine: the arithmetic the engine allocates by) plus the
// resident weights and the runtime's overhead; speed is a roofline over the profile's bandwidth and
// compute (measured kernel rates for a calibrated host); energy is power x time. docs/planner.md.
#pragma once

#include <string>
#include <vector>

#include "engine/memory_plan.h"
#include "plan/device_profile.h"
#include "plan/model_footprint.h"

namespace pocket {

struct PlanSettings {
  EngineOptions engine;     // ctx, batch, KV types, window; n_threads 0 = the profile's threads
  int prompt_tokens = 128;  // prompt for the time to first token and prefill speed
  int gen_tokens = 128;     // decode speed is the mean over these positions after the prompt
};

// The same request answered by a cloud model over the network (assumptions, all settable).
struct CloudAssumptions {
  double rtt_ms = 150;              // round trip, phone on 4G/5G to a regional data centre
  double server_ttft_ms = 250;      // queueing + prefill on the server
  double server_tps = 60;           // streamed tokens per second
  double radio_w = 1.2;             // phone radio + SoC power while a stream is open
  double bytes_per_token = 350;     // one SSE chunk of an OpenAI-style stream, with TLS/TCP overhead
  double network_j_per_gb = 180;    // access + core network energy (0.05 kWh/GB)
  double server_j_per_token = 0.4;  // data-centre energy per generated token (GPU share + PUE)
};

struct CloudEstimate {
  double ttft_s = 0, tps = 0;
  double device_j_per_token = 0;  // the phone's battery
  double total_j_per_token = 0;   // phone + network + server
};

struct PlanResult {
  std::string model, device;
  // The configuration, typed: the model's main weight type and the KV types planned with ...
  TensorType main_type = TensorType::F32;
  KvType kv_k_type = KvType::kF32, kv_v_type = KvType::kF32;
  std::string weight_type, kv;  // ... and the same for display: "Q4_0", "f16/f16"
  int n_ctx = 0, kv_positions = 0, threads = 0;
  int window = 0;               // sliding window of the cache (0: none)
  MemoryPlan memory;            // weights = the whole file
  size_t resident_weights = 0;  // weights paged in while generating
  size_t runtime_overhead = 0;  // process, tokenizer, thread stacks
  size_t total = 0;             // resident weights + KV + activations + logits + overhead
  size_t usable = 0;
  bool fits = false;
  double decode_tps = 0, prefill_tps = 0, ttft_s = 0;
  const char* decode_bound = "";             // "memory" or "compute"
  double j_per_token = 0, tokens_per_j = 0;  // 0: the profile has no power figure
  CloudEstimate cloud;
  double quality_cost = 0;  // expected quality loss of the weight and KV types (lower is better)
};

// Predicts one configuration; errors for options the engine would refuse.
Result<PlanResult> make_plan(const ModelFootprint& model, const DeviceProfile& device, const PlanSettings& settings,
                             const CloudAssumptions& cloud = {});

// Runtime memory beyond the engine's plan: process and libraries, the tokenizer's tables, stacks.
size_t runtime_overhead_bytes(const ModelConfig& c, int threads);

// Configurations that fit the device, best expected quality first (then longer context, then speed):
// weight types F16, Q8_0, Q4_1, Q4_0 × KV f16, q8, q4 × the requested context and its halves down to
// 512 (or a sliding window of that size). At most `limit` rows.
std::vector<PlanResult> fitting_configurations(const ModelFootprint& model, const DeviceProfile& device, const PlanSettings& settings, int limit);

// Expected quality loss (relative perplexity increase on stories15M, docs/quality-stories15M.md) of a
// weight type and a KV type; the planner ranks by their sum.
double weight_type_cost(TensorType t);
double kv_type_cost(KvType t);

}  // namespace pocket
