#include "plan/auto_config.h"

namespace pocket {

AutoConfig choose_auto_config(const ModelFootprint& model, const DeviceProfile& device, const EngineOptions& requested) {
  PlanSettings s;
  s.engine = requested;
  s.engine.mem_budget = 0;  // the device's usable memory is the budget here
  // Every configuration, so that the best one with the file's weights is among them however many
  // quantized ones rank above it.
  const std::vector<PlanResult> options = fitting_configurations(model, device, s, 1000);
  AutoConfig a;
  a.engine = requested;
  const TensorType file_type = model.main_type();
  for (const PlanResult& o : options) {
    if (o.main_type != file_type) continue;
    a.fits = true;
    a.plan = o;
    a.engine.kv_k_type = o.kv_k_type;
    a.engine.kv_v_type = o.kv_v_type;
    a.engine.n_ctx = o.n_ctx;
    a.engine.kv_window = o.window > 0 ? o.window : -1;
    return a;
  }
  if (!options.empty()) {
    a.plan = options.front();
    a.quantize_to = options.front().main_type;
  }
  return a;
}

}  // namespace pocket
