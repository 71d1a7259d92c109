// pocket bench: prompt-processing and generation speed, table / JSON / CSV.
#include <cstdio>

#include "commands.h"
#include "eval/bench.h"
#include "eval/spec_bench.h"
#include "eval/grammar_bench.h"
#include "core/mapped_file.h"
#include "engine/engine.h"
#include "eval/plan_check.h"

namespace pocket::cli {

Runner register_bench(CLI::App& app) {
  auto cfg = std::make_shared<BenchConfig>();
  auto format = std::make_shared<std::string>("md");
  auto no_bw = std::make_shared<bool>(false);
  auto kv = std::make_shared<KvFlags>();
  auto device = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("bench", "measure prompt processing (ppN) and generation (tgN) tokens/s");
  sub->add_option("-m,--model", cfg->models, "GGUF model(s)")->required()->check(CLI::ExistingFile);
  sub->add_option("-p,--n-prompt", cfg->n_prompt, "prompt sizes (0: skip)")->delimiter(',')->check(CLI::Range(0, 1 << 16));
  sub->add_option("-n,--n-gen", cfg->n_gen, "generation lengths (0: skip)")->delimiter(',')->check(CLI::Range(0, 1 << 16));
  sub->add_option("-t,--threads", cfg->threads, "thread counts")->delimiter(',')->check(CLI::Range(1, 256));
  sub->add_option("-r,--repetitions", cfg->repetitions, "repetitions of each test")->check(CLI::Range(1, 1000));
  sub->add_option("-b,--batch", cfg->engine.max_batch, "prompt tokens per forward chunk")->check(CLI::Range(1, 4096));
  sub->add_option("-o,--output", *format, "md, json or csv")->check(CLI::IsMember({"md", "json", "csv"}));
  sub->add_flag("--no-bandwidth", *no_bw, "skip the memory bandwidth measurement");
  add_kv_flags(sub, kv.get());
  sub->add_option("--device", *device, "also print the planner's prediction for every row (e.g. host from pocket calibrate) and its error");
  auto draft = std::make_shared<DraftFlags>();
  auto text = std::make_shared<std::string>("The little dog was very happy because");
  auto temp = std::make_shared<float>(0.0f);
  add_draft_flags(sub, draft.get());
  sub->add_option("--text", *text, "speculative mode: the prompt text (default: \"The little dog was very happy because\")");
  sub->add_option("--temp", *temp, "speculative mode: sampling temperature (0: greedy, outputs compared token for token)")
      ->check(CLI::Range(0.0f, 100.0f));
  auto grammar = std::make_shared<std::string>();
  auto schema = std::make_shared<std::string>();
  sub->add_option("--grammar", *grammar, "grammar mode: decode freely and under this GBNF grammar, alternating (bench/grammar_overhead.sh)")
      ->check(CLI::ExistingFile);
  sub->add_option("--json-schema", *schema, "grammar mode with a JSON Schema")->check(CLI::ExistingFile);
  return [cfg, format, no_bw, kv, draft, text, temp, device, grammar, schema] {
    if (!grammar->empty() || !schema->empty()) {
      GrammarBenchConfig gc;
      gc.model = cfg->models.front();
      gc.label = grammar->empty() ? *schema : *grammar;
      auto src = grammar_text(*grammar, *schema);
      if (!src) return fail(src.status());
      gc.gbnf = src.value();
      if (*text != "The little dog was very happy because") gc.prompt = *text;
      gc.n_gen = cfg->n_gen.empty() ? 256 : cfg->n_gen.front();
      gc.repetitions = cfg->repetitions;
      gc.threads = cfg->threads.empty() ? 1 : cfg->threads.front();
      gc.sampling.temperature = *temp;
      gc.sampling.seed = 42;
      auto r = run_grammar_bench(gc);
      if (!r) return fail(r.status());
      const std::string out = grammar_bench_to_markdown(gc, r.value());
      std::fwrite(out.data(), 1, out.size(), stdout);
      return 0;
    }
    if (draft->spec.any()) {  // speculative vs plain decoding of the same target
      SpecBenchConfig sc;
      sc.models = cfg->models;
      sc.draft = draft->spec;
      sc.spec = draft->opts;
      sc.spec.adaptive = !draft->no_adaptive;
      sc.threads = cfg->threads;
      sc.n_gen = cfg->n_gen.empty() ? 200 : cfg->n_gen.front();
      sc.repetitions = cfg->repetitions;
      sc.prompt = *text;
      sc.sampling.temperature = *temp;
      sc.sampling.seed = 42;
      auto rows = run_spec_bench(sc);
      if (!rows) return fail(rows.status());
      const std::string out = *format == "json"  ? spec_bench_to_json(rows.value())
                              : *format == "csv" ? spec_bench_to_csv(rows.value())
                                                 : spec_bench_to_markdown(rows.value());
      std::fwrite(out.data(), 1, out.size(), stdout);
      return 0;
    }
    cfg->measure_bandwidth = !*no_bw;
    std::string kv_err;
    if (!apply_kv_flags(*kv, &cfg->engine, &kv_err)) return fail(kv_err);
    if (kv->window == 0) cfg->engine.kv_window = -1;  // synthetic shapes carry no window: only an explicit one
    DeviceProfile profile;
    if (!device->empty()) {  // before the run: a bad profile should not cost a benchmark
      auto d = find_device_profile(*device);
      if (!d) return fail(d.status());
      profile = d.value();
    }
    auto rows = run_bench(*cfg);
    if (!rows) return fail(rows.status());
    const std::string out = *format == "json"  ? bench_to_json(rows.value())
                            : *format == "csv" ? bench_to_csv(rows.value())
                                               : bench_to_markdown(rows.value());
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (!device->empty()) {
      auto check = check_plan_against_bench(*cfg, rows.value(), profile);
      if (!check) return fail(check.status());
      const std::string t = plan_check_to_markdown(check.value(), profile.name);
      std::fwrite(t.data(), 1, t.size(), *format == "md" ? stdout : stderr);
    }
    return 0;
  };
}

}  // namespace pocket::cli
