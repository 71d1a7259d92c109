// Models: loading (with progress and cancel), metadata, the memory plan and the planner's answer.
#include <map>
#include <thread>

#include "api/c_handles.h"
#include "api/c_options.h"
#include "core/log.h"
#include "format/gguf_value.h"
#include "plan/device_profile.h"
#include "plan/model_footprint.h"
#include "plan/planner.h"

using namespace pocket;
using namespace pocket::capi;

namespace {

// Reads one byte per page of every tensor so that generation does not wait for the disk; progress after
// each tensor (at most ~200 calls). False when the callback cancelled.
bool populate(const Model& model, const pocket_model_params& p) {
  const auto& tensors = model.file().tensors();
  size_t total = 0, done = 0;
  for (const TensorView& t : tensors) total += t.nbytes;
  size_t next_report = 0;
  volatile uint8_t sink = 0;
  for (const TensorView& t : tensors) {
    for (size_t off = 0; off < t.nbytes; off += 4096) sink = sink + t.data[off];
    done += t.nbytes;
    if (p.progress && done >= next_report && done < total) {
      if (!p.progress(total ? (float)((double)done / (double)total) : 1.0f, p.progress_user)) return false;
      next_report = done + total / 200;
    }
  }
  (void)sink;
  return true;
}

void describe(pocket_model* m) {
  const Model& model = *m->model;
  const GgufFile& f = model.file();
  m->arch = model.config().arch;
  m->name = f.get_string_or("general.name", "");
  m->chat_template = f.get_string_or("tokenizer.chat_template", "");
  m->family = detect_chat_template(m->chat_template);
  m->chat_family = chat_template_name(m->family);
  std::map<std::string, std::pair<int, size_t>> by_type;  // name -> (tensors, bytes of layer matrices)
  for (const TensorView& t : f.tensors()) {
    auto& e = by_type[traits(t.type).name];
    ++e.first;
    // The weight type is the layers' (what a "Q4_0 file" means): embeddings and heads are often kept wider.
    if (t.name.rfind("blk.", 0) == 0 && t.n_rows() > 1) e.second += t.nbytes;
    m->n_params += (uint64_t)t.n_elements();
  }
  size_t best = 0;
  for (const auto& [name, e] : by_type) {
    if (!m->weight_types.empty()) m->weight_types += ", ";
    m->weight_types += name + " x " + std::to_string(e.first);
    if (e.second > best) best = e.second, m->weight_type = name;
  }
  if (m->weight_type.empty()) m->weight_type = by_type.empty() ? "F32" : by_type.begin()->first;
}

}  // namespace

extern "C" {

POCKET_API pocket_model_params pocket_model_default_params(void) {
  pocket_model_params p{};
  p.size = sizeof p;
  p.populate = true;
  return p;
}

POCKET_API pocket_status pocket_model_load(const char* path, const pocket_model_params* params, pocket_model** out) {
  static const char* fn = "pocket_model_load";
  return guarded(fn, [&]() -> pocket_status {
    if (out == nullptr) return null_arg(fn, "out");
    *out = nullptr;
    if (path == nullptr) return null_arg(fn, "path");
    pocket_model_params p;
    if (pocket_status s = read_params(fn, "pocket_model_params", params, pocket_model_default_params(), &p)) return s;
    if (p.progress && !p.progress(0.0f, p.progress_user))
      return set_error(POCKET_ERR_CANCELLED, std::string(fn) + ": " + path + ": cancelled by the progress callback");
    Status env = check_kernel_environment();
    if (!env.is_ok()) return from_status(fn, env);
    Result<std::unique_ptr<Model>> model = Model::load(path);
    if (!model) return from_status(fn, model.status());
    auto m = std::make_unique<pocket_model>();
    m->path = path;
    m->model = std::move(model).value();
    Result<std::shared_ptr<const Tokenizer>> tok = load_tokenizer(*m->model);
    if (!tok) return from_status(fn, tok.status());
    m->tokenizer = tok.value();
    if (p.populate && !populate(*m->model, p))
      return set_error(POCKET_ERR_CANCELLED, std::string(fn) + ": " + path + ": cancelled by the progress callback");
    if (p.progress && !p.progress(1.0f, p.progress_user))
      return set_error(POCKET_ERR_CANCELLED, std::string(fn) + ": " + path + ": cancelled by the progress callback");
    describe(m.get());
    log_message(LogLevel::kInfo,
                std::string("loaded ") + path + ": " + m->arch + ", " + m->weight_type + ", " + std::to_string(m->n_params) + " parameters");
    *out = m.release();
    return POCKET_OK;
  });
}

POCKET_API void pocket_model_free(pocket_model* model) { delete model; }

POCKET_API pocket_status pocket_model_get_info(const pocket_model* model, pocket_model_info* info) {
  static const char* fn = "pocket_model_get_info";
  return guarded(fn, [&]() -> pocket_status {
    if (model == nullptr) return null_arg(fn, "model");
    if (info == nullptr) return null_arg(fn, "info");
    pocket_model_info i{};
    i.size = sizeof i;
    if (pocket_status s = read_params(fn, "pocket_model_info", info, i, &i)) return s;
    const size_t caller_size = info->size;
    const ModelConfig& c = model->model->config();
    const Vocab& v = model->tokenizer->vocab();
    i.architecture = model->arch.c_str();
    i.name = model->name.c_str();
    i.weight_type = model->weight_type.c_str();
    i.weight_types = model->weight_types.c_str();
    i.chat_template = model->chat_template.c_str();
    i.chat_family = model->chat_family.c_str();
    i.n_params = model->n_params;
    i.weight_bytes = model->model->weight_bytes();
    i.n_vocab = (int32_t)c.n_vocab;
    i.n_ctx_train = (int32_t)c.n_ctx_train;
    i.n_embd = (int32_t)c.n_embd;
    i.n_layer = (int32_t)c.n_layer;
    i.n_head = (int32_t)c.n_head;
    i.n_head_kv = (int32_t)c.n_head_kv;
    i.head_dim = (int32_t)c.head_dim;
    i.n_ff = (int32_t)c.n_ff;
    i.sliding_window = (int32_t)c.sliding_window;
    i.bos = v.bos;
    i.eos = v.eos;
    i.eot = v.eot;
    std::memcpy(static_cast<void*>(info), &i, caller_size);  // an older caller's shorter struct gets its fields
    info->size = caller_size;
    return POCKET_OK;
  });
}

POCKET_API pocket_status pocket_model_meta(const pocket_model* model, const char* key, char* buf, size_t capacity, size_t* n_written) {
  static const char* fn = "pocket_model_meta";
  return guarded(fn, [&]() -> pocket_status {
    if (model == nullptr) return null_arg(fn, "model");
    if (key == nullptr) return null_arg(fn, "key");
    const GgufValue* v = model->model->file().find(key);
    if (v == nullptr) return set_error(POCKET_ERR_INVALID_ARGUMENT, std::string(fn) + ": " + model->path + ": no metadata key \"" + key + "\"");
    const std::string text = v->type == GgufType::STRING ? v->str : gguf_value_to_string(*v);
    return write_text(fn, text, buf, capacity, n_written);
  });
}

POCKET_API bool pocket_token_is_eog(const pocket_model* model, pocket_token token) {
  return model != nullptr && model->tokenizer->vocab().is_eog(token);
}

POCKET_API pocket_status pocket_model_plan(const pocket_model* model, const pocket_session_params* params, pocket_memory_plan* plan) {
  static const char* fn = "pocket_model_plan";
  return guarded(fn, [&]() -> pocket_status {
    if (model == nullptr) return null_arg(fn, "model");
    if (plan == nullptr) return null_arg(fn, "plan");
    EngineOptions eo;
    if (pocket_status s = engine_options(fn, params, &eo)) return s;
    Result<EnginePlan> p = plan_engine(model->model->config(), model->model->weight_bytes(), eo, false);
    if (!p) return from_status(fn, p.status());
    return fill_memory_plan(fn, p.value(), plan);
  });
}

POCKET_API pocket_status pocket_model_fits(const pocket_model* model, const pocket_session_params* params, const char* device, pocket_fit* fit) {
  static const char* fn = "pocket_model_fits";
  return guarded(fn, [&]() -> pocket_status {
    if (model == nullptr) return null_arg(fn, "model");
    if (fit == nullptr) return null_arg(fn, "fit");
    pocket_fit f{};
    f.size = sizeof f;
    if (pocket_status s = read_params(fn, "pocket_fit", fit, f, &f)) return s;
    const size_t caller_size = fit->size;
    EngineOptions eo;
    if (pocket_status s = engine_options(fn, params, &eo)) return s;
    std::string reason;
    if (device == nullptr) {
      Result<EnginePlan> p = plan_engine(model->model->config(), model->model->weight_bytes(), eo, true);
      Result<EnginePlan> need = plan_engine(model->model->config(), model->model->weight_bytes(), eo, false);
      if (!need) return from_status(fn, need.status());
      f.needed_bytes = need.value().memory.total();
      f.fits = p.is_ok();
      if (!p) {
        if (p.status().code() != ErrorCode::kResourceLimit) return from_status(fn, p.status());
        reason = p.status().message();
      }
      f.usable_bytes = 0;
    } else {
      Result<DeviceProfile> d = find_device_profile(device);
      if (!d) return from_status(fn, d.status());
      Result<ModelFootprint> fp = footprint_of_file(model->path);
      if (!fp) return from_status(fn, fp.status());
      PlanSettings ps;
      ps.engine = eo;
      ps.engine.mem_budget = 0;
      Result<PlanResult> r = make_plan(fp.value(), d.value(), ps);
      if (!r) return from_status(fn, r.status());
      const PlanResult& pr = r.value();
      f.fits = pr.fits;
      f.needed_bytes = pr.total;
      f.usable_bytes = pr.usable;
      f.decode_tokens_per_s = pr.decode_tps;
      f.prefill_tokens_per_s = pr.prefill_tps;
      if (!pr.fits) reason = "needs " + format_mib((double)pr.total) + " but " + d.value().name + " leaves an app " + format_mib((double)pr.usable);
    }
    std::snprintf(f.reason, sizeof f.reason, "%s", reason.c_str());
    std::memcpy(static_cast<void*>(fit), &f, caller_size);
    fit->size = caller_size;
    return POCKET_OK;
  });
}

}  // extern "C"
