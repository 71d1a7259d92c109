// pocket: one CLI over libpocket. Subcommands live in cmd_*.cpp.
#include <cstdio>
#include <map>

#include "commands.h"
#include "engine/engine.h"

namespace pocket::cli {
int fail(const std::string& message) {
  std::fprintf(stderr, "pocket: error: %s\n", message.c_str());
  return 1;
}
void add_kv_flags(CLI::App* sub, KvFlags* f) {
  const auto names = CLI::IsMember({"f32", "f16", "q8", "q4"});
  sub->add_option("--kv-type", f->both, "KV cache type for K and V: f32, f16, q8 (int8 + scale per 32 / head), q4")->check(names);
  sub->add_option("--kv-type-k", f->k, "KV cache type for K only")->check(names);
  sub->add_option("--kv-type-v", f->v, "KV cache type for V only")->check(names);
  sub->add_option("--kv-window", f->window, "sliding window W: attend to the last W positions (0: the model's own, -1: off)")->check(CLI::Range(-1, 1 << 24));
  sub->add_option("--mem-budget", f->mem_budget, "memory budget (e.g. 800M, 2G): weights + KV + activations must fit, checked before allocating");
  sub->add_option("--kv-sinks", f->sinks, "with a window: first positions always kept (attention sinks)")->check(CLI::Range(0, 1 << 20));
}

bool apply_kv_flags(const KvFlags& f, EngineOptions* eo, std::string* err) {
  apply_kv_flags(f, &eo->kv_k_type, &eo->kv_v_type);
  eo->kv_window = f.window;
  eo->kv_sinks = f.sinks;
  if (f.mem_budget.empty()) return true;
  // A number with an optional binary suffix: 1536, 512K, 800M, 2G.
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(f.mem_budget, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string suffix = f.mem_budget.substr(used);
  const double mult = suffix.empty() ? 1 : suffix == "K" || suffix == "k" ? 1024.0 : suffix == "M" || suffix == "m" ? 1048576.0
                      : suffix == "G" || suffix == "g" ? 1073741824.0 : -1;
  if (used == 0 || mult < 0 || !(v > 0) || v * mult > 1e15) {
    *err = "--mem-budget: '" + f.mem_budget + "' is not a size like 800M or 2G";
    return false;
  }
  eo->mem_budget = (size_t)(v * mult);
  return true;
}

void apply_kv_flags(const KvFlags& f, KvType* k, KvType* v) {
  if (!f.both.empty()) *k = *v = *kv_type_from_name(f.both);
  if (!f.k.empty()) *k = *kv_type_from_name(f.k);
  if (!f.v.empty()) *v = *kv_type_from_name(f.v);
}

}  // namespace pocket::cli

int main(int argc, char** argv) {
  CLI::App app{"pocket - run, inspect and convert language models on small devices"};
  app.require_subcommand(1);
  std::map<CLI::App*, pocket::cli::Runner> runners;
  auto add = [&](pocket::cli::Runner (*reg)(CLI::App&), const char* name) {
    (void)name;
    const size_t before = app.get_subcommands({}).size();
    pocket::cli::Runner r = reg(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) runners[subs.back()] = std::move(r);
  };
  add(pocket::cli::register_run, "run");
  add(pocket::cli::register_info, "info");
  add(pocket::cli::register_convert, "convert");
  add(pocket::cli::register_bench, "bench");
  add(pocket::cli::register_sysinfo, "sysinfo");
  add(pocket::cli::register_synth, "synth");
  add(pocket::cli::register_perplexity, "perplexity");
  add(pocket::cli::register_quantize, "quantize");
  add(pocket::cli::register_quality, "quality");
  add(pocket::cli::register_plan, "plan");
  add(pocket::cli::register_calibrate, "calibrate");
  add(pocket::cli::register_serve, "serve");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (auto& [sub, run] : runners) {
    if (sub->parsed()) return run();
  }
  return 2;
}
