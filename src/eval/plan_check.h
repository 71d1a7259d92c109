// The planner checked against measurement: `pocket bench --device host` predicts every bench row
// with the same settings and reports predicted vs measured tokens/s and peak memory.
#pragma once

#include <string>
#include <vector>

#include "eval/bench.h"
#include "plan/device_profile.h"

namespace pocket {

struct PlanCheckRow {
  std::string model, test;
  int threads = 0;
  double predicted_tps = 0, measured_tps = 0;
  double predicted_bytes = 0, measured_rss = 0;
  double tps_error() const { return predicted_tps / measured_tps - 1; }
  double memory_error() const { return predicted_bytes / measured_rss - 1; }
};

// rows from run_bench(cfg); model paths from cfg.models (matched by file name).
Result<std::vector<PlanCheckRow>> check_plan_against_bench(const BenchConfig& cfg, const std::vector<BenchRow>& rows, const DeviceProfile& device);
std::string plan_check_to_markdown(const std::vector<PlanCheckRow>& rows, const std::string& device);

}  // namespace pocket
