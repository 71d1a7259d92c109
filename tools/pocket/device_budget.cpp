// pocket run --device NAME [--auto]: check (or choose) the configuration against a device profile
// before the model is loaded, with the planner's memory arithmetic.
#include <cstdio>

#include "commands.h"
#include "engine/memory_plan.h"
#include "plan/auto_config.h"
#include "plan/planner.h"

namespace pocket::cli {

namespace {

std::string label(const PlanResult& r) {
  std::string s = "KV " + r.kv + ", ctx " + std::to_string(r.n_ctx);
  if (r.window > 0) s += ", window " + std::to_string(r.window);
  return s;
}

}  // namespace

void add_device_flags(CLI::App* sub, DeviceFlags* f) {
  sub->add_option("--device", f->device, "refuse, before loading, a configuration that does not fit this device profile (name or .json)");
  sub->add_flag("--auto", f->autopick, "with --device: pick the KV type, context and window that fit best (keeps an explicit --ctx as the maximum)");
}

bool apply_device_flags(const DeviceFlags& f, const std::string& model_path, EngineOptions* eo, std::string* err) {
  if (f.device.empty()) {
    if (f.autopick) *err = "--auto needs --device NAME (the profile whose memory it must fit)";
    return !f.autopick;
  }
  auto dev = find_device_profile(f.device);
  if (!dev) return *err = flag_message(dev.status()), false;
  auto fp = footprint_of_file(model_path);
  if (!fp) return *err = flag_message(fp.status()), false;
  const DeviceProfile& d = dev.value();
  PlanSettings s;
  s.engine = *eo;
  s.engine.mem_budget = 0;
  if (f.autopick) {
    const AutoConfig a = choose_auto_config(fp.value(), d, *eo);
    if (a.fits) {
      *eo = a.engine;
      std::fprintf(stderr, "pocket: --auto for %s: %s (%.1f MiB of %.1f MiB usable, predicted %.1f tokens/s)\n", d.name.c_str(),
                   label(a.plan).c_str(), a.plan.total / 1048576.0, a.plan.usable / 1048576.0, a.plan.decode_tps);
      return true;
    }
    std::string hint;
    if (a.quantize_to) {
      const char* t = traits(*a.quantize_to).name;
      hint = std::string("; it would fit as ") + t + " (pocket quantize --type " + t + "), " + label(a.plan);
    }
    *err = model_path + ": no KV type, context or window makes it fit " + d.name + " (" + format_mib(d.usable_ram_gb * 1e9) + " usable)" + hint;
    return false;
  }
  auto plan = make_plan(fp.value(), d, s);
  if (!plan) return *err = flag_message(plan.status()), false;
  const PlanResult& p = plan.value();
  if (p.fits) return true;
  std::string hint;
  std::vector<PlanResult> options = fitting_configurations(fp.value(), d, s, 1);
  if (!options.empty()) hint = "; fits with " + options[0].weight_type + " weights, " + label(options[0]) + " (or use --auto)";
  *err = model_path + ": does not fit " + d.name + ": needs " + format_mib((double)p.total) + " (weights " + format_mib((double)p.resident_weights) +
         " + KV " + format_mib((double)(p.memory.kv_values + p.memory.kv_scales)) + " + activations and runtime " +
         format_mib((double)(p.memory.activations + p.memory.logits + p.runtime_overhead)) + ") but " + format_mib((double)p.usable) + " is usable" +
         hint;
  return false;
}

}  // namespace pocket::cli
