#include "api/c_options.h"

#include <thread>

using namespace pocket;
using namespace pocket::capi;

extern "C" {

POCKET_API pocket_session_params pocket_session_default_params(void) {
  pocket_session_params p{};
  p.size = sizeof p;
  p.n_ctx = 0;
  p.n_threads = 0;
  p.n_batch = 64;
  p.kv_type_k = POCKET_KV_F32;
  p.kv_type_v = POCKET_KV_F32;
  p.kv_window = 0;
  p.kv_sinks = 4;
  p.mem_budget = 0;
  return p;
}

POCKET_API pocket_sampling_params pocket_sampling_default_params(void) {
  const SamplingParams d;
  pocket_sampling_params p{};
  p.size = sizeof p;
  p.temperature = d.temperature;
  p.top_k = d.top_k;
  p.top_p = d.top_p;
  p.min_p = d.min_p;
  p.repeat_penalty = d.repeat_penalty;
  p.frequency_penalty = d.frequency_penalty;
  p.presence_penalty = d.presence_penalty;
  p.penalty_last_n = d.penalty_last_n;
  p.seed = d.seed;
  return p;
}

POCKET_API pocket_generate_params pocket_generate_default_params(void) {
  pocket_generate_params p{};
  p.size = sizeof p;
  p.n_predict = 128;
  p.sampling = nullptr;
  p.stop_on_bos = true;
  p.add_special = true;
  p.parse_special = false;
  p.draft_max = SpeculativeOptions().draft_max;
  p.draft_adaptive = true;
  return p;
}

}  // extern "C"

namespace pocket::capi {

namespace {

pocket_status field(const char* fn, const char* name, const std::string& reason) {
  return set_error(POCKET_ERR_INVALID_ARGUMENT, std::string(fn) + ": " + name + " " + reason);
}

// "name[i]" (built by appending: g++ 12 warns falsely about "literal" + std::string here).
std::string indexed(const char* name, size_t i) {
  std::string s(name);
  s += '[';
  s += std::to_string(i);
  s += ']';
  return s;
}

}  // namespace

pocket_status engine_options(const char* fn, const pocket_session_params* in, EngineOptions* out) {
  pocket_session_params p;
  if (pocket_status s = read_params(fn, "pocket_session_params", in, pocket_session_default_params(), &p)) return s;
  if (p.n_ctx < 0) return field(fn, "n_ctx", "must be >= 0 (0: the model's training context, at most 4096)");
  if (p.n_threads < 0 || p.n_threads > 256) return field(fn, "n_threads", "must be in 0..256 (0: one per core)");
  if (p.n_batch < 1 || p.n_batch > 4096) return field(fn, "n_batch", "must be in 1..4096");
  if (p.kv_type_k < POCKET_KV_F32 || p.kv_type_k > POCKET_KV_Q4)
    return field(fn, "kv_type_k", "must be a pocket_kv_type (0..3), got " + std::to_string((int)p.kv_type_k));
  if (p.kv_type_v < POCKET_KV_F32 || p.kv_type_v > POCKET_KV_Q4)
    return field(fn, "kv_type_v", "must be a pocket_kv_type (0..3), got " + std::to_string((int)p.kv_type_v));
  out->n_ctx = p.n_ctx;
  out->n_threads = p.n_threads > 0 ? p.n_threads : std::max(1, std::min(256, (int)std::thread::hardware_concurrency()));
  out->max_batch = p.n_batch;
  out->kv_k_type = (KvType)p.kv_type_k;
  out->kv_v_type = (KvType)p.kv_type_v;
  out->kv_window = p.kv_window;
  out->kv_sinks = p.kv_sinks;
  out->mem_budget = (size_t)p.mem_budget;
  out->n_parallel = 0;
  return POCKET_OK;
}

pocket_status sampling_params(const char* fn, const pocket_sampling_params* in, SamplingParams* out) {
  pocket_sampling_params p;
  if (pocket_status s = read_params(fn, "pocket_sampling_params", in, pocket_sampling_default_params(), &p)) return s;
  out->temperature = p.temperature;
  out->top_k = p.top_k;
  out->top_p = p.top_p;
  out->min_p = p.min_p;
  out->repeat_penalty = p.repeat_penalty;
  out->frequency_penalty = p.frequency_penalty;
  out->presence_penalty = p.presence_penalty;
  out->penalty_last_n = p.penalty_last_n;
  out->seed = p.seed;
  Status st = out->validate();
  if (!st.is_ok()) return from_status(fn, st);
  return POCKET_OK;
}

pocket_status generate_options(const char* fn, const pocket_generate_params* in, SessionGenerateOptions* out) {
  pocket_generate_params p;
  if (pocket_status s = read_params(fn, "pocket_generate_params", in, pocket_generate_default_params(), &p)) return s;
  if (pocket_status s = sampling_params(fn, p.sampling, &out->gen.sampling)) return s;
  out->gen.n_predict = p.n_predict;
  out->gen.stop_on_bos = p.stop_on_bos;
  out->add_special = p.add_special;
  out->parse_special = p.parse_special;
  if (p.n_stop_strings > 0 && p.stop_strings == nullptr)
    return field(fn, "stop_strings", "is NULL but n_stop_strings is " + std::to_string(p.n_stop_strings));
  if (p.n_stop_strings > 64) return field(fn, "n_stop_strings", "must be at most 64");
  for (size_t i = 0; i < p.n_stop_strings; ++i) {
    if (p.stop_strings[i] == nullptr) return field(fn, indexed("stop_strings", i).c_str(), "is NULL");
    if (p.stop_strings[i][0] == '\0') return field(fn, indexed("stop_strings", i).c_str(), "is empty");
    out->gen.stop_strings.emplace_back(p.stop_strings[i]);
  }
  const int sources = (p.draft_model && *p.draft_model ? 1 : 0) + (p.draft_lookup ? 1 : 0) + (p.draft_self_layers != 0 ? 1 : 0) +
                      (p.draft_self_type && *p.draft_self_type ? 1 : 0);
  if (sources > 1) return field(fn, "draft_model/draft_lookup/draft_self_layers/draft_self_type", "are exclusive: choose one source of drafts");
  if (p.draft_self_type) out->draft.self_type = p.draft_self_type;
  if (p.draft_self_layers < 0) return field(fn, "draft_self_layers", "must be >= 0");
  if (p.draft_model) out->draft.model = p.draft_model;
  out->draft.lookup = p.draft_lookup;
  out->draft.self_layers = p.draft_self_layers;
  if (p.draft_max < 1 || p.draft_max > 32) return field(fn, "draft_max", "must be in 1..32");
  out->speculative.draft_max = p.draft_max;
  out->speculative.adaptive = p.draft_adaptive;
  return POCKET_OK;
}

pocket_status fill_memory_plan(const char* fn, const EnginePlan& p, pocket_memory_plan* out) {
  pocket_memory_plan m{};
  m.size = sizeof m;
  if (pocket_status s = read_params(fn, "pocket_memory_plan", out, m, &m)) return s;
  const size_t caller_size = out->size;
  m.n_ctx = p.n_ctx;
  m.kv_positions = p.kv.slots();
  m.weights = p.memory.weights;
  m.kv_values = p.memory.kv_values;
  m.kv_scales = p.memory.kv_scales;
  m.activations = p.memory.activations;
  m.logits = p.memory.logits;
  m.total = p.memory.total();
  std::memcpy(static_cast<void*>(out), &m, caller_size);
  out->size = caller_size;
  return POCKET_OK;
}

}  // namespace pocket::capi
