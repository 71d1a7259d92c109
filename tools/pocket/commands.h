// Subcommands of the `pocket` CLI: each registers its options and returns its runner.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "speculative/speculative.h"
#include "dtype/kv_row.h"
#include "pocket/status.h"

namespace pocket {
struct EngineOptions;
}

namespace pocket::cli {

using Runner = std::function<int()>;

Runner register_run(CLI::App& app);
Runner register_info(CLI::App& app);
Runner register_convert(CLI::App& app);
Runner register_bench(CLI::App& app);
Runner register_sysinfo(CLI::App& app);
Runner register_synth(CLI::App& app);
Runner register_perplexity(CLI::App& app);
Runner register_quantize(CLI::App& app);
Runner register_quality(CLI::App& app);
Runner register_plan(CLI::App& app);
Runner register_calibrate(CLI::App& app);
Runner register_serve(CLI::App& app);
Runner register_template(CLI::App& app);
Runner register_chat(CLI::App& app);
Runner register_grammar(CLI::App& app);
Runner register_logits(CLI::App& app);
Runner register_tokenize(CLI::App& app);

// "1,2,3" or whitespace-separated token ids, each below n_vocab; an error names `where` and the id.
Result<std::vector<int32_t>> parse_ids(const std::string& text, const std::string& where, int64_t n_vocab);

// --kv-type (both), --kv-type-k, --kv-type-v: KV cache element types (f32, f16, q8, q4).
struct KvFlags {
  std::string both, k, v;
  int window = 0, sinks = 4;
  std::string mem_budget;  // "512M", "2G", bytes
};
void add_kv_flags(CLI::App* sub, KvFlags* f);
void apply_kv_flags(const KvFlags& f, KvType* k, KvType* v);
// Types, window, sinks and --mem-budget; false (and a message) for a malformed budget.
bool apply_kv_flags(const KvFlags& f, EngineOptions* eo, std::string* err);

// Speculative decoding: --draft, --lookup, --self-draft-layers, --self-draft-type, --draft-max,
// --draft-p-min, --no-adaptive (run and bench).
struct DraftFlags {
  DraftSpec spec;
  SpeculativeOptions opts;
  bool no_adaptive = false;
};
void add_draft_flags(CLI::App* sub, DraftFlags* f);

// --device NAME [--auto] on run: the configuration is checked against (or chosen for) a device
// profile before the model is loaded.
struct DeviceFlags {
  std::string device;
  bool autopick = false;
};
void add_device_flags(CLI::App* sub, DeviceFlags* f);
// False (and a message) when it does not fit, or for a bad profile/model; may change eo's KV/ctx (--auto).
bool apply_device_flags(const DeviceFlags& f, const std::string& model_path, EngineOptions* eo, std::string* err);

// --grammar FILE (GBNF) or --json-schema FILE (converted): the GBNF text, "" when neither is given;
// errors name the file.
Result<std::string> grammar_text(const std::string& grammar_file, const std::string& json_schema_file);

// Prints "pocket: error: <message>" to stderr; returns the exit code for errors (1).
int fail(const std::string& message);
// The same for a library error, which names options by their API names: flag_message renames them
// to our flags ("n_ctx must be >= 0" -> "--ctx must be >= 0").
std::string flag_message(const Status& s);
int fail(const Status& s);

}  // namespace pocket::cli
