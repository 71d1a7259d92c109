// pocket plan: will a model fit a device, how fast, at what energy (src/plan/, docs/planner.md).
#include <cstdio>
#include <fstream>

#include "commands.h"
#include "engine/memory_plan.h"
#include "plan/plan_report.h"
#include "plan/planner.h"

namespace pocket::cli {

namespace {

struct PlanFlags {
  std::string model, shape, type, device, format = "text", plot;
  bool all_devices = false;
  PlanSettings settings;  // -c, -t (0: the profile's), -b, --prompt-tokens, --gen-tokens; the KV flags on top
  KvFlags kv;
  CloudAssumptions cloud;
};

int run_plan(const PlanFlags& f) {
  if (f.model.empty() == f.shape.empty()) return fail("plan: give a model file (-m) or a named shape (--shape), not both");
  if (f.device.empty() == !f.all_devices) return fail("plan: give --device NAME|FILE or --all-devices");
  Result<ModelFootprint> fp = error(ErrorCode::kInvalidArgument, "");
  if (!f.model.empty()) {
    fp = footprint_of_file(f.model);
  } else {
    const auto t = type_from_name(f.type.empty() ? "q4_0" : f.type);
    if (!t) return fail("--type: unknown weight type '" + f.type + "' (f32, f16, bf16, q8_0, q4_0, q4_1)");
    fp = footprint_of_shape(f.shape, *t);
  }
  if (!fp) return fail(fp.status());
  ModelFootprint model = fp.value();
  if (!f.model.empty() && !f.type.empty()) {  // "what if I quantized it"
    const auto t = type_from_name(f.type);
    if (!t) return fail("--type: unknown weight type '" + f.type + "' (f32, f16, bf16, q8_0, q4_0, q4_1)");
    model = model.with_weight_type(*t);
  }
  PlanSettings s = f.settings;
  std::string kv_err;
  if (!apply_kv_flags(f.kv, &s.engine, &kv_err)) return fail(kv_err);
  std::vector<DeviceProfile> devices;
  if (f.all_devices) {
    auto all = all_device_profiles();
    if (!all) return fail(all.status());
    devices = all.value();
  } else {
    auto d = find_device_profile(f.device);
    if (!d) return fail(d.status());
    devices.push_back(d.value());
  }
  std::vector<PlanResult> plans;
  std::vector<std::vector<PlanResult>> options;
  for (const DeviceProfile& d : devices) {
    auto r = make_plan(model, d, s, f.cloud);
    if (!r) return fail(r.status());
    plans.push_back(r.value());
    options.push_back(fitting_configurations(model, d, s, 8));
  }
  std::string out;
  if (f.format == "json")
    out = plan_to_json(plans, options);
  else if (f.format == "md" || devices.size() > 1)
    out = plans_to_table(plans);
  else
    out = plan_to_text(plans[0], devices[0], options[0]);
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (!f.plot.empty()) {
    const std::string tmp = f.plot + ".tmp";
    std::ofstream o(tmp, std::ios::binary);
    o << plans_to_svg(plans, model.name + " (" + traits(model.main_type()).name + "): predicted decode speed");
    o.close();
    if (!o || std::rename(tmp.c_str(), f.plot.c_str()) != 0) {
      std::remove(tmp.c_str());
      return fail(f.plot + ": cannot write the plot");
    }
  }
  // Exit status says whether it fits (1 device), so scripts can ask "does it fit?".
  return devices.size() == 1 && !plans[0].fits ? 3 : 0;
}

}  // namespace

Runner register_plan(CLI::App& app) {
  auto f = std::make_shared<PlanFlags>();
  f->settings.engine.n_threads = 0;
  CLI::App* sub = app.add_subcommand("plan", "predict memory, speed and energy of a model on a device (exit 3: does not fit)");
  sub->add_option("-m,--model", f->model, "GGUF model (only its header is read)")->check(CLI::ExistingFile);
  sub->add_option("--shape", f->shape, "a named shape instead of a file (smollm2-135m, qwen2.5-0.5b, llama-2-7b, ...)");
  sub->add_option("--type", f->type, "weight type: of the shape (default q4_0), or the file as if quantized to it");
  sub->add_option("--device", f->device, "profile name (devices/, ~/.config/pocket/devices, $POCKET_DEVICES) or a .json file");
  sub->add_flag("--all-devices", f->all_devices, "one row per known profile");
  sub->add_option("-c,--ctx", f->settings.engine.n_ctx, "context length (0: the model's, at most 4096)")->check(CLI::Range(0, 1 << 24));
  sub->add_option("-t,--threads", f->settings.engine.n_threads, "threads (0: the profile's)")->check(CLI::Range(0, 256));
  sub->add_option("-b,--batch", f->settings.engine.max_batch, "prompt tokens per forward chunk")->check(CLI::Range(1, 4096));
  sub->add_option("--prompt-tokens", f->settings.prompt_tokens, "prompt length for prefill speed and first-token time")
      ->check(CLI::Range(1, 1 << 20));
  sub->add_option("--gen-tokens", f->settings.gen_tokens, "generated tokens the decode speed is averaged over")->check(CLI::Range(1, 1 << 20));
  sub->add_option("-o,--output", f->format, "text, md or json")->check(CLI::IsMember({"text", "md", "json"}));
  sub->add_option("--plot", f->plot, "write an SVG bar chart of decode speed per device");
  sub->add_option("--cloud-tps", f->cloud.server_tps, "cloud comparison: streamed tokens/s")->check(CLI::Range(0.1, 1e6));
  sub->add_option("--cloud-rtt-ms", f->cloud.rtt_ms, "cloud comparison: network round trip in ms")->check(CLI::Range(0.0, 1e6));
  sub->add_option("--radio-w", f->cloud.radio_w, "cloud comparison: device radio power while streaming (W)")->check(CLI::Range(0.0, 1e3));
  add_kv_flags(sub, &f->kv);
  return [f] { return run_plan(*f); };
}

}  // namespace pocket::cli
