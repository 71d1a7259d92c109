#include "eval/bench.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "core/memory_stats.h"
#include "core/stats.h"
#include "core/timing.h"
#include "engine/engine.h"
#include "runtime/memory_bandwidth.h"

namespace pocket {
namespace {

size_t decode_bytes(const Model& m) {
  const ModelWeights& w = m.weights();
  size_t n = (size_t)w.output.rows * w.output.row_bytes;
  for (const LayerWeights& L : w.layers) {
    for (const Matrix* x : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) n += (size_t)x->rows * x->row_bytes;
  }
  return n;
}

std::string type_summary(const Model& m) {
  std::set<std::string> t;
  for (const TensorView& v : m.file().tensors())
    if (v.n_dims == 2) t.insert(traits(v.type).name);
  std::string s;
  for (const std::string& x : t) s += (s.empty() ? "" : "+") + x;
  return s;
}

}  // namespace

Result<std::vector<BenchRow>> run_bench(const BenchConfig& cfg) {
  if (cfg.models.empty()) return Status(ErrorCode::kInvalidArgument, "bench: give at least one model (models)", "models");
  if (cfg.repetitions < 1) return Status(ErrorCode::kInvalidArgument, "bench: repetitions must be >= 1", "repetitions");
  std::vector<BenchRow> rows;
  std::mt19937 rng(1234);
  int max_ctx = 1;
  for (int p : cfg.n_prompt) max_ctx = std::max(max_ctx, p);
  for (int g : cfg.n_gen) max_ctx = std::max(max_ctx, g);
  for (const std::string& path : cfg.models) {
    for (int t : cfg.threads) {
      EngineOptions eo = cfg.engine;
      eo.n_threads = t;
      eo.n_ctx = max_ctx;
      const double load_start = now_seconds();
      POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Engine> e, Engine::load(path, eo));
      const double load_seconds = now_seconds() - load_start;
      const ModelConfig& c = e->model().config();
      BenchRow base;
      base.model = path.substr(path.find_last_of('/') + 1);
      base.types = type_summary(e->model());
      for (const TensorView& v : e->model().file().tensors()) base.params += v.n_elements();
      base.weight_bytes = e->model().weight_bytes();
      base.bytes_per_token = decode_bytes(e->model());
      base.threads = t;
      base.kv = std::string(kv_type_name(eo.kv_k_type)) + "/" + kv_type_name(eo.kv_v_type);
      base.kv_bytes = e->kv().data_bytes();
      base.kv_scale_bytes = e->kv().scale_bytes();
      std::uniform_int_distribution<int32_t> tok(3, (int32_t)c.n_vocab - 1);
      std::vector<float> logits;
      auto run_prompt = [&](int n) -> Result<double> {
        e->clear_kv();
        Batch b;
        for (int i = 0; i < n; ++i) b.add(tok(rng), i, 0, i + 1 == n);
        const double t0 = now_seconds();
        POCKET_RETURN_IF_ERROR(e->eval(b, &logits));
        return now_seconds() - t0;
      };
      auto run_gen = [&](int n) -> Result<double> {
        e->clear_kv();
        Batch b;
        const double t0 = now_seconds();
        for (int i = 0; i < n; ++i) {
          b.clear();
          b.add(tok(rng), i, 0, true);
          POCKET_RETURN_IF_ERROR(e->eval(b, &logits));
        }
        return now_seconds() - t0;
      };
      // The first prompt after loading pages the weights in: it is the time to first token (with the load)
      // and the warm-up of the timed runs.
      int first_n = std::min(max_ctx, 32);
      for (int p : cfg.n_prompt)
        if (p > 0) {
          first_n = p;
          break;
        }
      POCKET_ASSIGN_OR_RETURN(base.first_prompt_seconds, run_prompt(first_n));
      base.first_prompt_tokens = first_n;
      base.load_seconds = load_seconds;
      // One row per test: `reps` timed runs of `run(n)` (seconds), reported as tokens/s mean and sd.
      auto add_row = [&](const std::string& name, int n, const std::function<Result<double>(int)>& run, bool generation) -> Status {
        std::vector<double> tps;
        for (int r = 0; r < cfg.repetitions; ++r) {
          POCKET_ASSIGN_OR_RETURN(double s, run(n));
          tps.push_back(n / s);
        }
        BenchRow row = base;
        row.test = name + std::to_string(n);
        mean_sd(tps, &row.tps_mean, &row.tps_sd);
        if (generation) row.gbps = (double)row.bytes_per_token * row.tps_mean / 1e9;
        row.peak_rss = peak_rss_bytes();
        rows.push_back(row);
        return Status::ok();
      };
      for (int p : cfg.n_prompt)
        if (p > 0) POCKET_RETURN_IF_ERROR(add_row("pp", p, run_prompt, false));
      for (int g : cfg.n_gen)
        if (g > 0) POCKET_RETURN_IF_ERROR(add_row("tg", g, run_gen, true));
    }
  }
  // Bandwidth last: its 512 MiB buffer must not show up in the models' peak RSS.
  if (cfg.measure_bandwidth) {
    std::map<int, double> bandwidth;
    for (int t : cfg.threads) {
      ThreadPool pool(t);
      bandwidth[t] = measure_bandwidth(pool).read_gbps;
    }
    for (BenchRow& row : rows) {
      row.read_bandwidth_gbps = bandwidth[row.threads];
      row.bandwidth_share = row.gbps > 0 && row.read_bandwidth_gbps > 0 ? row.gbps / row.read_bandwidth_gbps : 0.0;
    }
  }
  return rows;
}

std::string bench_to_markdown(const std::vector<BenchRow>& rows) {
  std::ostringstream os;
  os << "| model | types | MiB | MB read/token | KV k/v | KV MiB (+scales) | threads | test | tokens/s | GB/s | share of read bandwidth | peak RSS "
        "MiB | load s | time to first token s |\n";
  os << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  char buf[512];
  for (const BenchRow& r : rows) {
    const bool tg = r.test.rfind("tg", 0) == 0;
    std::snprintf(
        buf, sizeof(buf), "| %s | %s | %.1f | %.1f | %s | %.2f (+%.3f) | %d | %s | %.1f ± %.1f | %s | %s | %.0f | %.3f | %.3f |\n", r.model.c_str(),
        r.types.c_str(), (double)r.weight_bytes / (1 << 20), (double)r.bytes_per_token / 1e6, r.kv.c_str(), (double)r.kv_bytes / (1 << 20),
        (double)r.kv_scale_bytes / (1 << 20), r.threads, r.test.c_str(), r.tps_mean, r.tps_sd, tg ? std::to_string(r.gbps).substr(0, 5).c_str() : "-",
        tg && r.read_bandwidth_gbps > 0
            ? (std::to_string((int)std::lround(100 * r.bandwidth_share)) + " % of " + std::to_string(r.read_bandwidth_gbps).substr(0, 4) + " GB/s")
                  .c_str()
            : "-",
        (double)r.peak_rss / (1 << 20), r.load_seconds, r.load_seconds + r.first_prompt_seconds);
    os << buf;
  }
  return os.str();
}

std::string bench_to_json(const std::vector<BenchRow>& rows) {
  nlohmann::json j = nlohmann::json::array();
  for (const BenchRow& r : rows) {
    j.push_back({{"model", r.model},
                 {"types", r.types},
                 {"params", r.params},
                 {"weight_bytes", r.weight_bytes},
                 {"bytes_per_token", r.bytes_per_token},
                 {"kv", r.kv},
                 {"kv_bytes", r.kv_bytes},
                 {"kv_scale_bytes", r.kv_scale_bytes},
                 {"threads", r.threads},
                 {"test", r.test},
                 {"tokens_per_s", r.tps_mean},
                 {"tokens_per_s_sd", r.tps_sd},
                 {"gbps", r.gbps},
                 {"read_bandwidth_gbps", r.read_bandwidth_gbps},
                 {"bandwidth_share", r.bandwidth_share},
                 {"peak_rss", r.peak_rss},
                 {"load_s", r.load_seconds},
                 {"first_prompt_s", r.first_prompt_seconds},
                 {"first_prompt_tokens", r.first_prompt_tokens},
                 {"time_to_first_token_s", r.load_seconds + r.first_prompt_seconds}});
  }
  return j.dump(2) + "\n";
}

std::string bench_to_csv(const std::vector<BenchRow>& rows) {
  std::ostringstream os;
  os << "model,types,params,weight_bytes,bytes_per_token,kv,kv_bytes,kv_scale_bytes,threads,test,tokens_per_s,tokens_per_s_sd,gbps,read_bandwidth_"
        "gbps,bandwidth_share,peak_rss,load_s,first_prompt_s,first_prompt_tokens,time_to_first_token_s\n";
  for (const BenchRow& r : rows)
    os << r.model << ',' << r.types << ',' << r.params << ',' << r.weight_bytes << ',' << r.bytes_per_token << ',' << r.kv << ',' << r.kv_bytes << ','
       << r.kv_scale_bytes << ',' << r.threads << ',' << r.test << ',' << r.tps_mean << ',' << r.tps_sd << ',' << r.gbps << ','
       << r.read_bandwidth_gbps << ',' << r.bandwidth_share << ',' << r.peak_rss << ',' << r.load_seconds << ',' << r.first_prompt_seconds << ','
       << r.first_prompt_tokens << ',' << r.load_seconds + r.first_prompt_seconds << '\n';
  return os.str();
}

}  // namespace pocket
