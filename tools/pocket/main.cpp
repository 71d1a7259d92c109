// pocket: one CLI over libpocket. Subcommands live in cmd_*.cpp.
#include <cstdio>
#include <map>

#include "commands.h"
#include "core/field_names.h"
#include "engine/engine.h"

namespace pocket::cli {

namespace {

// The library names options by their API names (EngineOptions::n_ctx, SamplingParams::temperature, ...);
// our users typed flags. Names with '_' or '.' are never ordinary words, so they are renamed wherever
// they appear (hints included: "raise n_ctx" -> "raise --ctx").
const FieldNames kFlagNames = {
    // SamplingParams, GenerateOptions (run)
    {"temperature", "--temp"},
    {"top_k", "--top-k"},
    {"top_p", "--top-p"},
    {"min_p", "--min-p"},
    {"repeat_penalty", "--repeat-penalty"},
    {"penalty_last_n", "--repeat-last-n"},
    {"frequency_penalty", "--frequency-penalty"},
    {"presence_penalty", "--presence-penalty"},
    {"n_predict", "--n-predict"},
    {"stop_strings", "--stop"},
    // EngineOptions (run, serve, bench, perplexity, plan, quality); --kv-type sets both cache types
    {"n_threads", "--threads"},
    {"n_ctx", "--ctx"},
    {"max_batch", "--batch"},
    {"n_parallel", "--parallel"},
    {"kv_k_type", "--kv-type-k"},
    {"kv_v_type", "--kv-type-v"},
    {"kv_k_type/kv_v_type", "--kv-type"},
    {"kv_window", "--kv-window"},
    {"kv_sinks", "--kv-sinks"},
    {"mem_budget", "--mem-budget"},
    // SpeculativeOptions, DraftSpec (run, bench, serve)
    {"draft_max", "--draft-max"},
    {"p_min", "--draft-p-min"},
    {"lookup_ngram", "--lookup-ngram"},
    {"self_layers", "--self-draft-layers"},
    {"self_type", "--self-draft-type"},
    {"vocab_text", "--draft-vocab-text"},
    // QuantizeOptions (quantize)
    {"target_bpw", "--target-bpw"},
    {"high_type", "--high-type"},
    {"calib_text", "--calib FILE"},
    {"calib.max_tokens", "--calib-tokens"},
    {"calib.n_ctx", "--calib-ctx"},
    {"gptq.damp", "--damp"},
    {"gptq.act_order", "--act-order"},
    {"awq.grid", "--awq-grid"},
    {"prune.method", "--prune"},
    {"prune.pattern", "--pattern"},
    {"prune.sparsity", "--sparsity"},
    // PerplexityOptions, BenchConfig / SpecBenchConfig, PlanSettings, CloudAssumptions, SynthOptions
    {"n_chunks", "--chunks"},
    {"n_prompt", "-p"},
    {"n_gen", "-n"},
    {"prompt_tokens", "--prompt-tokens"},
    {"gen_tokens", "--gen-tokens"},
    {"server_tps", "--cloud-tps"},
    {"rtt_ms", "--cloud-rtt-ms"},
    {"radio_w", "--radio-w"},
    {"n_layer_override", "--layers"},
    // ConvertOptions::outtype, ServerOptions::chat_template, footprint_of_shape, find_device_profile
    {"outtype", "--outtype"},
    {"chat_template", "--chat-template"},
    {"shape_name", "--shape"},
    {"name_or_path", "--device"},
};

// Options whose API name is a plain word (type, model, force): elsewhere the word is just a word (a
// tensor's type, a path like model.gguf), so it is renamed only in the error about that option
// (Status::field()), with the other plain-word options that error names. "integer type": the target_bpw
// error says "needs an integer type as the low type", where only the first is the option.
const std::vector<std::pair<std::string, FieldNames>> kFlagNamesOfField = {
    {"type", {{"type", "--type"}}},  // QuantizeOptions
    {"method", {{"method", "--method"}, {"integer type", "integer --type"}}},
    {"target_bpw", {{"integer type", "integer --type"}}},
    {"prune.method", {{"method", "--method"}}},
    {"group", {{"group", "--group"}}},
    {"overrides", {{"overrides", "--tensor-type"}}},
    {"force", {{"force", "--force"}}},                          // QuantizeOptions, ConvertOptions, SynthOptions
    {"model", {{"model", "--draft"}, {"lookup", "--lookup"}}},  // DraftSpec: "choose one of model, lookup, ..."
    {"lookup", {{"lookup", "--lookup"}}},
    {"vocab", {{"vocab", "--draft-vocab"}, {"lookup", "--lookup"}}},
    {"draft", {{"model", "--draft"}, {"lookup", "--lookup"}}},  // SpecBenchConfig
    {"seed", {{"seed", "--seed"}}},
    {"threads", {{"threads", "--threads"}}},  // CalibrateOptions, BenchConfig
    {"repetitions", {{"repetitions", "--repetitions"}}},
    {"models", {{"models", "-m"}}},
    {"base", {{"base", "--kl-base"}}},  // compute_perplexity
};

}  // namespace

std::string flag_message(const Status& s) {
  FieldNames names = kFlagNames;
  for (const auto& [field, extra] : kFlagNamesOfField)
    if (field == s.field()) names.insert(names.end(), extra.begin(), extra.end());
  return with_field_names(s, names);
}

int fail(const std::string& message) {
  std::fprintf(stderr, "pocket: error: %s\n", message.c_str());
  return 1;
}
int fail(const Status& s) { return fail(flag_message(s)); }
void add_kv_flags(CLI::App* sub, KvFlags* f) {
  const auto names = CLI::IsMember({"f32", "f16", "q8", "q4"});
  sub->add_option("--kv-type", f->both, "KV cache type for K and V: f32, f16, q8 (int8 + scale per 32 / head), q4")->check(names);
  sub->add_option("--kv-type-k", f->k, "KV cache type for K only")->check(names);
  sub->add_option("--kv-type-v", f->v, "KV cache type for V only")->check(names);
  sub->add_option("--kv-window", f->window,
                  "sliding window W: attend to the last W positions (0: the model's own, -1: keep every position; a model's own window still masks)")
      ->check(CLI::Range(-1, 1 << 24));
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
  } catch (const std::exception&) { used = 0; }
  const std::string suffix = f.mem_budget.substr(used);
  const double mult = suffix.empty()                   ? 1
                      : suffix == "K" || suffix == "k" ? 1024.0
                      : suffix == "M" || suffix == "m" ? 1048576.0
                      : suffix == "G" || suffix == "g" ? 1073741824.0
                                                       : -1;
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
  add(pocket::cli::register_template, "template");
  add(pocket::cli::register_chat, "chat");
  add(pocket::cli::register_grammar, "grammar");
  add(pocket::cli::register_logits, "logits");
  add(pocket::cli::register_tokenize, "tokenize");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) { return app.exit(e) == 0 ? 0 : 2; }
  for (auto& [sub, run] : runners) {
    if (sub->parsed()) return run();
  }
  return 2;
}
