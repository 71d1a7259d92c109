// pocket run: generate text from a prompt, streaming it, then report speed and memory.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "commands.h"
#include "core/memory_stats.h"
#include "engine/engine.h"
#include "kernels/kernel_table.h"

namespace pocket::cli {
namespace {

struct RunArgs {
  std::string model;
  std::string prompt;
  std::string prompt_file;
  EngineOptions engine;  // -t, -c, -b; the KV flags and --device/--auto are applied on top
  GenerateOptions gen;   // -n, the sampling flags, --stop; the seed and --no-bos-stop are applied on top
  int64_t seed = -1;
  bool no_display_prompt = false;
  bool no_bos_stop = false;
  bool verbose = false;
  KvFlags kv;
  DeviceFlags device;
  DraftFlags draft;
  std::string grammar_file, json_schema_file;
};

// --grammar FILE (GBNF) or --json-schema FILE: the grammar every generated token must follow.
Status load_grammar(const RunArgs& a, const Engine& engine, std::shared_ptr<Grammar>* out) {
  auto text = grammar_text(a.grammar_file, a.json_schema_file);
  if (!text) return text.status();
  if (text.value().empty()) return Status::ok();
  const std::string& path = a.grammar_file.empty() ? a.json_schema_file : a.grammar_file;
  const std::string& gbnf = text.value();
  auto g = engine.compile_grammar(gbnf);
  if (!g) return Status(ErrorCode::kInvalidArgument, path + ": " + g.status().message());
  *out = g.value();
  return Status::ok();
}

int run(const RunArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string prompt = a.prompt;
  if (!a.prompt_file.empty()) {
    auto r = read_text_file(a.prompt_file, 64u << 20);
    if (!r) return fail(r.status());
    prompt = r.value();
  }
  EngineOptions eo = a.engine;
  std::string kv_err;
  if (!apply_kv_flags(a.kv, &eo, &kv_err)) return fail(kv_err);
  if (!apply_device_flags(a.device, a.model, &eo, &kv_err)) return fail(kv_err);
  auto engine_r = Engine::load(a.model, eo);
  if (!engine_r) return fail(engine_r.status());
  Engine& engine = *engine_r.value();
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const ModelConfig& c = engine.model().config();
  if (a.verbose) {
    std::fprintf(stderr, "model: %s (%s), %lld layers, width %lld, heads %lld/%lld, vocab %lld, ctx %d, kernels %s, threads %d\n", a.model.c_str(),
                 c.arch.c_str(), (long long)c.n_layer, (long long)c.n_embd, (long long)c.n_head, (long long)c.n_head_kv, (long long)c.n_vocab,
                 engine.n_ctx(), kernels().name, eo.n_threads);
    const MemoryPlan& mp = engine.memory();
    std::fprintf(stderr, "memory: weights %.2f MiB (mapped) + KV %.2f MiB + KV scales %.3f MiB + activations %.2f MiB + logits %.2f MiB = %.2f MiB\n",
                 mp.weights / 1048576.0, mp.kv_values / 1048576.0, mp.kv_scales / 1048576.0, mp.activations / 1048576.0, mp.logits / 1048576.0,
                 mp.total() / 1048576.0);
    if (engine.kv().window() > 0)
      std::fprintf(stderr, "kv window: %d positions incl. %d attention sinks, ring of %d slots, positions up to %d\n", engine.kv().window(),
                   engine.kv().sinks(), engine.kv().slots(), engine.n_ctx());
    std::fprintf(
        stderr,
        "kv cache: %s/%s, %zu bytes of values (2 x %lld layers x %lld kv heads x %lld dims x %d positions) + %zu bytes of scales = %.2f MiB\n",
        kv_type_name(eo.kv_k_type), kv_type_name(eo.kv_v_type), engine.kv().data_bytes(), (long long)c.n_layer, (long long)c.n_head_kv,
        (long long)c.head_dim, engine.kv().slots(), engine.kv().scale_bytes(), (double)engine.kv().bytes() / (1 << 20));
  }

  GenerateOptions go = a.gen;
  if (Status gs = load_grammar(a, engine, &go.sampling.grammar); !gs.is_ok()) return fail(gs);
  if (go.sampling.grammar && a.draft.spec.any()) return fail("--grammar / --json-schema cannot be combined with speculative decoding");
  go.sampling.seed = a.seed >= 0 ? (uint64_t)a.seed : (uint64_t)std::random_device{}();
  go.stop_on_bos = !a.no_bos_stop;
  if (a.verbose) std::fprintf(stderr, "seed: %llu\n", (unsigned long long)go.sampling.seed);

  const std::vector<int32_t> ids = engine.tokenizer().encode(prompt, true, false);
  if (!a.no_display_prompt) {
    StreamDecoder dec(engine.tokenizer());
    std::string shown;
    for (size_t i = 0; i < ids.size(); ++i) shown += dec.push(i ? ids[i - 1] : -1, ids[i]);
    shown += dec.flush();
    std::fwrite(shown.data(), 1, shown.size(), stdout);
    std::fflush(stdout);
  }
  auto drafter_r = make_drafter(a.draft.spec, a.model, engine, eo);
  if (!drafter_r) return fail(drafter_r.status());
  std::unique_ptr<Drafter> drafter = std::move(drafter_r).value();
  const auto print = [](const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  };
  SpeculativeOptions so = a.draft.opts;
  so.adaptive = !a.draft.no_adaptive;
  SpeculativeStats ss;
  auto st = drafter ? generate_speculative(engine, *drafter, ids, go, so, print, nullptr, &ss) : engine.generate_tokens(ids, go, print);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  if (!st) return fail(st.status());
  const GenerateStats& s = st.value();
  std::fprintf(stderr, "\nload: %.3f s | prompt: %d tokens, %.1f tokens/s | generation: %d tokens, %.1f tokens/s | stop: %s | peak RSS: %.1f MiB\n",
               load_s, s.n_prompt, s.prompt_seconds > 0 ? s.n_prompt / s.prompt_seconds : 0.0, s.n_generated,
               s.generate_seconds > 0 ? s.n_generated / s.generate_seconds : 0.0, finish_reason_name(s.stop_reason),
               (double)peak_rss_bytes() / (1 << 20));
  if (drafter)
    std::fprintf(stderr,
                 "speculative (%s): %lld of %lld drafted tokens accepted (%.1f %%), %.2f tokens per verification, %d target passes for %d tokens, "
                 "drafting %.3f s, target %.3f s\n",
                 drafter->name().c_str(), (long long)ss.accepted, (long long)ss.drafted, 100.0 * ss.acceptance(), ss.tokens_per_verification(),
                 ss.rounds, s.n_generated, ss.draft_seconds, ss.target_seconds);
  return 0;
}

}  // namespace

Runner register_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand("run", "generate text from a prompt (streams the text as it is generated)");
  sub->add_option("-m,--model", a->model, "GGUF model file")->required()->check(CLI::ExistingFile);
  sub->add_option("-p,--prompt", a->prompt, "prompt text (default: empty, i.e. BOS only)");
  sub->add_option("-f,--file", a->prompt_file, "read the prompt from a file")->check(CLI::ExistingFile);
  sub->add_option("-n,--n-predict", a->gen.n_predict, "new tokens to generate at most (-1: until the context is full)")
      ->check(CLI::Range(-1, 1 << 24));
  sub->add_option("-t,--threads", a->engine.n_threads, "threads")->check(CLI::Range(1, 256));
  sub->add_option("-c,--ctx", a->engine.n_ctx, "context size in tokens (0: the model's, at most 4096)")->check(CLI::Range(0, 1 << 20));
  sub->add_option("-b,--batch", a->engine.max_batch, "prompt tokens per forward chunk")->check(CLI::Range(1, 4096));
  add_kv_flags(sub, &a->kv);
  add_draft_flags(sub, &a->draft);
  sub->add_option("--temp", a->gen.sampling.temperature, "temperature (0: greedy)")->check(CLI::Range(0.0f, 100.0f));
  sub->add_option("--top-k", a->gen.sampling.top_k, "top-k (0: off)")->check(CLI::Range(0, 1 << 24));
  sub->add_option("--top-p", a->gen.sampling.top_p, "top-p nucleus (1: off)")->check(CLI::Range(0.0f, 1.0f));
  sub->add_option("--min-p", a->gen.sampling.min_p, "min-p (0: off)")->check(CLI::Range(0.0f, 1.0f));
  sub->add_option("--repeat-penalty", a->gen.sampling.repeat_penalty, "repetition penalty (1: off)")->check(CLI::Range(0.0f, 100.0f));
  sub->add_option("--repeat-last-n", a->gen.sampling.penalty_last_n, "tokens the penalties look back over")->check(CLI::Range(0, 1 << 20));
  sub->add_option("--frequency-penalty", a->gen.sampling.frequency_penalty, "frequency penalty (0: off)")->check(CLI::Range(-100.0f, 100.0f));
  sub->add_option("--presence-penalty", a->gen.sampling.presence_penalty, "presence penalty (0: off)")->check(CLI::Range(-100.0f, 100.0f));
  sub->add_option("-s,--seed", a->seed, "random seed (-1: random)")->check(CLI::Range((int64_t)-1, (int64_t)UINT32_MAX));
  sub->add_option("--stop", a->gen.stop_strings, "stop string (repeatable): output ends before it");
  sub->add_option("--grammar", a->grammar_file, "GBNF grammar file: every generated token must follow it (llama.cpp's format)")
      ->check(CLI::ExistingFile);
  sub->add_option("--json-schema", a->json_schema_file, "JSON Schema file: the output is a JSON document that validates against it")
      ->check(CLI::ExistingFile);
  sub->add_flag("--no-display-prompt", a->no_display_prompt, "do not echo the prompt");
  sub->add_flag("--no-bos-stop", a->no_bos_stop, "keep going when the model generates BOS (llama2.c models use it to end a story)");
  sub->add_flag("-v,--verbose", a->verbose, "print model, kernel and memory details");
  add_device_flags(sub, &a->device);
  return [a] { return run(*a); };
}

}  // namespace pocket::cli
