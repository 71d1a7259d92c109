#include "eval/spec_bench.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/stats.h"

namespace pocket {

Result<std::vector<SpecBenchRow>> run_spec_bench(const SpecBenchConfig& cfg) {
  if (cfg.models.empty()) return Status(ErrorCode::kInvalidArgument, "bench: give at least one model (models)", "models");
  if (!cfg.draft.any())
    return Status(ErrorCode::kInvalidArgument, "bench: speculative mode needs a draft (model, lookup, self_layers or self_type)", "draft");
  if (cfg.n_gen < 1) return Status(ErrorCode::kInvalidArgument, "bench: speculative mode needs n_gen >= 1", "n_gen");
  std::vector<SpecBenchRow> rows;
  for (const std::string& path : cfg.models) {
    for (int t : cfg.threads) {
      EngineOptions eo = cfg.engine;
      eo.n_threads = t;
      POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Engine> target, Engine::load(path, eo));
      const std::vector<int32_t> prompt = target->tokenizer().encode(cfg.prompt, true, false);
      if ((int)prompt.size() + cfg.n_gen > target->n_ctx())
        return Status(ErrorCode::kOutOfRange,
                      "bench: prompt (" + std::to_string(prompt.size()) + " tokens) + n_gen " + std::to_string(cfg.n_gen) + " exceed the context " +
                          std::to_string(target->n_ctx()),
                      "n_gen");
      POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Drafter> drafter, make_drafter(cfg.draft, path, *target, eo));
      GenerateOptions go;
      go.n_predict = cfg.n_gen;
      go.sampling = cfg.sampling;
      go.stop_on_bos = false;
      // Warm-up: page in both models.
      POCKET_RETURN_IF_ERROR(target->generate_tokens(prompt, go, nullptr).status());
      POCKET_RETURN_IF_ERROR(generate_speculative(*target, *drafter, prompt, go, cfg.spec, nullptr, nullptr, nullptr).status());
      SpecBenchRow row;
      row.model = path.substr(path.find_last_of('/') + 1);
      row.drafter = drafter->name();
      row.threads = t;
      row.n_gen = cfg.n_gen;
      row.adaptive = cfg.spec.adaptive;
      row.greedy = cfg.sampling.temperature <= 0;
      std::vector<double> plain, spec, ratio;
      SpeculativeStats total;
      for (int r = 0; r < cfg.repetitions; ++r) {
        go.sampling.seed = cfg.sampling.seed + (uint64_t)r;
        std::vector<int32_t> plain_ids, spec_ids;
        POCKET_ASSIGN_OR_RETURN(GenerateStats ps, target->generate_tokens(prompt, go, nullptr, &plain_ids));
        SpeculativeStats ss;
        POCKET_ASSIGN_OR_RETURN(GenerateStats sps, generate_speculative(*target, *drafter, prompt, go, cfg.spec, nullptr, &spec_ids, &ss));
        const double a = ps.n_generated / ps.generate_seconds, b = sps.n_generated / sps.generate_seconds;
        plain.push_back(a);
        spec.push_back(b);
        ratio.push_back(b / a);
        if (go.sampling.temperature <= 0 && plain_ids != spec_ids) row.same_tokens = false;
        total.drafted += ss.drafted;
        total.accepted += ss.accepted;
        total.verifications += ss.verifications;
        total.draft_seconds += ss.draft_seconds;
        total.target_seconds += ss.target_seconds;
      }
      mean_sd(plain, &row.plain_tps, &row.plain_sd);
      mean_sd(spec, &row.spec_tps, &row.spec_sd);
      mean_sd(ratio, &row.speedup, &row.speedup_sd);
      row.acceptance = total.acceptance();
      row.tokens_per_verification = total.tokens_per_verification();
      const double busy = total.draft_seconds + total.target_seconds;
      row.draft_share = busy > 0 ? total.draft_seconds / busy : 0.0;
      rows.push_back(row);
    }
  }
  return rows;
}

std::string spec_bench_to_markdown(const std::vector<SpecBenchRow>& rows) {
  std::ostringstream os;
  os << "| model | drafter | adaptive | threads | tokens | plain tokens/s | speculative tokens/s | speedup | acceptance | tokens/verification | "
        "drafting share | same tokens |\n";
  os << "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  char buf[640];
  for (const SpecBenchRow& r : rows) {
    std::snprintf(buf, sizeof buf, "| %s | %s | %s | %d | %d | %.1f ± %.1f | %.1f ± %.1f | %.2f ± %.2f | %.1f %% | %.2f | %.0f %% | %s |\n",
                  r.model.c_str(), r.drafter.c_str(), r.adaptive ? "yes" : "no", r.threads, r.n_gen, r.plain_tps, r.plain_sd, r.spec_tps, r.spec_sd,
                  r.speedup, r.speedup_sd, 100 * r.acceptance, r.tokens_per_verification, 100 * r.draft_share,
                  !r.greedy       ? "- (sampling)"
                  : r.same_tokens ? "yes"
                                  : "NO");
    os << buf;
  }
  return os.str();
}

std::string spec_bench_to_json(const std::vector<SpecBenchRow>& rows) {
  nlohmann::json j = nlohmann::json::array();
  for (const SpecBenchRow& r : rows)
    j.push_back({{"model", r.model},
                 {"drafter", r.drafter},
                 {"adaptive", r.adaptive},
                 {"threads", r.threads},
                 {"n_gen", r.n_gen},
                 {"plain_tokens_per_s", r.plain_tps},
                 {"plain_sd", r.plain_sd},
                 {"spec_tokens_per_s", r.spec_tps},
                 {"spec_sd", r.spec_sd},
                 {"speedup", r.speedup},
                 {"speedup_sd", r.speedup_sd},
                 {"acceptance", r.acceptance},
                 {"tokens_per_verification", r.tokens_per_verification},
                 {"draft_share", r.draft_share},
                 {"same_tokens", r.same_tokens}});
  return j.dump(2) + "\n";
}

std::string spec_bench_to_csv(const std::vector<SpecBenchRow>& rows) {
  std::ostringstream os;
  os << "model,drafter,adaptive,threads,n_gen,plain_tokens_per_s,plain_sd,spec_tokens_per_s,spec_sd,speedup,speedup_sd,acceptance,tokens_per_"
        "verification,draft_share,same_tokens\n";
  for (const SpecBenchRow& r : rows)
    os << r.model << ",\"" << r.drafter << "\"," << r.adaptive << ',' << r.threads << ',' << r.n_gen << ',' << r.plain_tps << ',' << r.plain_sd << ','
       << r.spec_tps << ',' << r.spec_sd << ',' << r.speedup << ',' << r.speedup_sd << ',' << r.acceptance << ',' << r.tokens_per_verification << ','
       << r.draft_share << ',' << r.same_tokens << '\n';
  return os.str();
}

}  // namespace pocket
