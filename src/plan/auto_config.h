// `pocket run --device NAME --auto`: the run settings (KV types, context, sliding window) that make a
// model fit a device profile with the file's own weights, chosen from the planner's ranked
// configurations; when no run setting makes it fit, the weight type it would fit in once quantized.
#pragma once

#include <optional>

#include "plan/planner.h"

namespace pocket {

struct AutoConfig {
  // The file's weights fit with some KV type, context and window: `engine` is the requested options
  // with those (kv_k_type, kv_v_type, n_ctx, kv_window; everything else, kv_sinks and mem_budget
  // included, as requested) and `plan` the chosen configuration's prediction.
  bool fits = false;
  EngineOptions engine;
  PlanResult plan;
  // !fits: the weight type the model would fit in (`pocket quantize --type`), with `plan` the best
  // configuration in it; nullopt when no weight type makes it fit either.
  std::optional<TensorType> quantize_to;
};

// Ranks every configuration fitting_configurations() tries (the requested n_ctx, or the model's, as
// the longest context) and takes the best one whose weights are the file's.
AutoConfig choose_auto_config(const ModelFootprint& model, const DeviceProfile& device, const EngineOptions& requested);

}  // namespace pocket
