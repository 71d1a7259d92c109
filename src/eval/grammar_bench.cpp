#include "eval/grammar_bench.h"

#include <algorithm>
#include <cstdio>

#include "core/timing.h"
#include "engine/engine.h"

namespace pocket {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
double spread(const std::vector<double>& v) {
  if (v.empty()) return 0;
  const double m = median(v);
  return m > 0 ? (*std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end())) / m : 0;
}

}  // namespace

Result<GrammarBenchResult> run_grammar_bench(const GrammarBenchConfig& cfg) {
  EngineOptions eo;
  eo.n_threads = cfg.threads;
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::load(cfg.model, eo));
  GrammarBenchResult r;
  const double t0 = now_seconds();
  POCKET_ASSIGN_OR_RETURN(std::shared_ptr<Grammar> grammar, engine->compile_grammar(cfg.gbnf));
  (void)engine->grammar_vocab();
  r.compile_ms = (now_seconds() - t0) * 1e3;
  const std::vector<int32_t> prompt = engine->tokenizer().encode(cfg.prompt, true, false);
  // g: the grammar to decode under (nullptr: free).
  auto one = [&](const std::shared_ptr<Grammar>& g, int* n, std::string* text) -> Result<double> {
    GenerateOptions go;
    go.n_predict = cfg.n_gen;
    go.sampling = cfg.sampling;
    go.stop_on_bos = false;
    go.sampling.grammar = g;
    std::string out;
    POCKET_ASSIGN_OR_RETURN(GenerateStats s, engine->generate_tokens(prompt, go, [&](const std::string& t) {
      out += t;
      return true;
    }));
    *n = s.n_generated;
    if (text) *text = out;
    if (s.n_generated == 0) return Status(ErrorCode::kInvalidArgument, "grammar bench: a run generated no token");
    return s.generate_seconds * 1e3 / s.n_generated;
  };
  std::vector<double> free, cold, warm, compile;
  // A free warm-up run first: the cold constrained runs measure empty grammar caches, not the first
  // touch of the weights and the KV cache.
  POCKET_ASSIGN_OR_RETURN(double warm_up, one(nullptr, &r.free_tokens, nullptr));
  (void)warm_up;
  for (int i = 0; i < cfg.repetitions; ++i) {
    // Each repetition: free, then a freshly compiled grammar (empty caches: a new schema's first
    // request), then the same grammar again (warm caches: a repeated schema).
    POCKET_ASSIGN_OR_RETURN(double f, one(nullptr, &r.free_tokens, nullptr));
    const double tc = now_seconds();
    POCKET_ASSIGN_OR_RETURN(std::shared_ptr<Grammar> fresh, engine->compile_grammar(cfg.gbnf));
    compile.push_back((now_seconds() - tc) * 1e3);
    POCKET_ASSIGN_OR_RETURN(double c, one(fresh, &r.constrained_tokens, &r.sample));
    POCKET_ASSIGN_OR_RETURN(double w, one(fresh, &r.constrained_tokens, &r.sample));
    free.push_back(f);
    cold.push_back(c);
    warm.push_back(w);
    grammar = fresh;
  }
  r.free_ms_per_token = median(free);
  r.cold_ms_per_token = median(cold);
  r.cold_spread = spread(cold);
  r.recompile_ms = median(compile);
  r.warm_ms_per_token = median(warm);
  r.free_spread = spread(free);
  r.warm_spread = spread(warm);
  const Grammar::Stats st = grammar->stats();
  r.states = st.byte_states;
  r.masks = st.masks_built;
  return r;
}

std::string grammar_bench_to_markdown(const GrammarBenchConfig& cfg, const GrammarBenchResult& r) {
  char buf[2048];
  std::string out;
  std::snprintf(buf, sizeof buf,
                "grammar: %s (compiled in %.1f ms with the vocabulary's trie, %.1f ms once that exists), prompt \"%s\", temperature %g, %d threads, "
                "%d repetitions alternating\n\n",
                cfg.label.c_str(), r.compile_ms, r.recompile_ms, cfg.prompt.c_str(), cfg.sampling.temperature, cfg.threads, cfg.repetitions);
  out += buf;
  out += "| decoding | ms/token (median) | spread | vs free |\n|---|---|---|---|\n";
  std::snprintf(buf, sizeof buf, "| free | %.3f | %.1f %% | 1.000 |\n", r.free_ms_per_token, 100 * r.free_spread);
  out += buf;
  std::snprintf(buf, sizeof buf, "| grammar, first run (empty caches) | %.3f | %.1f %% | %.3f |\n", r.cold_ms_per_token, 100 * r.cold_spread,
                r.cold_ms_per_token / r.free_ms_per_token);
  out += buf;
  std::snprintf(buf, sizeof buf, "| grammar, caches warm | %.3f | %.1f %% | %.3f |\n", r.warm_ms_per_token, 100 * r.warm_spread,
                r.warm_ms_per_token / r.free_ms_per_token);
  out += buf;
  std::snprintf(buf, sizeof buf, "\nconstrained run: %d tokens, %zu grammar states, %zu token masks built; free run: %d tokens\nlast output: %s\n",
                r.constrained_tokens, r.states, r.masks, r.free_tokens, r.sample.c_str());
  out += buf;
  return out;
}

}  // namespace pocket
