// Planner output: a readable report, JSON, and an SVG chart of decode speed per device.
#pragma once

#include <string>
#include <vector>

#include "plan/planner.h"

namespace pocket {

// One configuration in detail, with the configurations that fit (best first) when it does not.
std::string plan_to_text(const PlanResult& r, const DeviceProfile& d, const std::vector<PlanResult>& options);
std::string plan_to_json(const std::vector<PlanResult>& plans, const std::vector<std::vector<PlanResult>>& options);
// One row per device: fits, memory, tokens/s, time to first token, tokens per joule.
std::string plans_to_table(const std::vector<PlanResult>& plans);
std::string plans_to_svg(const std::vector<PlanResult>& plans, const std::string& title);

}  // namespace pocket
