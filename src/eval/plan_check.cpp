#include "eval/plan_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "plan/planner.h"

namespace pocket {

Result<std::vector<PlanCheckRow>> check_plan_against_bench(const BenchConfig& cfg, const std::vector<BenchRow>& rows, const DeviceProfile& device) {
  int max_ctx = 1;  // the context bench gives its engines
  for (int p : cfg.n_prompt) max_ctx = std::max(max_ctx, p);
  for (int g : cfg.n_gen) max_ctx = std::max(max_ctx, g);
  std::vector<PlanCheckRow> out;
  for (const BenchRow& b : rows) {
    std::string path;
    for (const std::string& m : cfg.models)
      if (m.substr(m.find_last_of('/') + 1) == b.model) path = m;
    if (path.empty()) return error(ErrorCode::kInvalidArgument, "bench row for unknown model " + b.model);
    POCKET_ASSIGN_OR_RETURN(ModelFootprint fp, footprint_of_file(path));
    PlanSettings s;
    s.engine = cfg.engine;  // as run_bench ran it
    s.engine.n_threads = b.threads;
    s.engine.n_ctx = max_ctx;
    const bool gen = b.test.rfind("tg", 0) == 0;
    const int n = std::stoi(b.test.substr(2));
    // tgN decodes positions 0..N-1 (mean N/2); ppN is one prompt of N tokens.
    s.prompt_tokens = gen ? 1 : n;
    s.gen_tokens = gen ? std::max(1, n - 2) : 1;
    POCKET_ASSIGN_OR_RETURN(PlanResult p, make_plan(fp, device, s));
    PlanCheckRow r;
    r.model = b.model;
    r.test = b.test;
    r.threads = b.threads;
    r.predicted_tps = gen ? p.decode_tps : p.prefill_tps;
    r.measured_tps = b.tps_mean;
    r.predicted_bytes = (double)p.total;
    r.measured_rss = (double)b.peak_rss;
    out.push_back(r);
  }
  return out;
}

std::string plan_check_to_markdown(const std::vector<PlanCheckRow>& rows, const std::string& device) {
  std::ostringstream os;
  auto f = [](const char* fmt, double v) {
    char b[48];
    std::snprintf(b, sizeof b, fmt, v);
    return std::string(b);
  };
  os << "\nplanner (--device " << device << ") vs this run:\n\n";
  os << "| model | test | threads | predicted tok/s | measured tok/s | error | predicted MiB | peak RSS MiB | error |\n";
  os << "|---|---|---|---|---|---|---|---|---|\n";
  for (const PlanCheckRow& r : rows) {
    os << "| " << r.model << " | " << r.test << " | " << r.threads << " | " << f("%.1f", r.predicted_tps) << " | " << f("%.1f", r.measured_tps)
       << " | " << f("%+.1f %%", 100 * r.tps_error()) << " | " << f("%.1f", r.predicted_bytes / 1048576.0) << " | "
       << f("%.1f", r.measured_rss / 1048576.0) << " | " << f("%+.1f %%", 100 * r.memory_error()) << " |\n";
  }
  return os.str();
}

}  // namespace pocket
