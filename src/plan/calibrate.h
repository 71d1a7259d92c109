// `pocket calibrate`: measures this machine into a `host` device profile — read bandwidth, the decode
// and prefill rates of pocket's own matrix kernels per weight type, the fixed cost per layer, RAM,
// and package power where a RAPL counter is readable.
#pragma once

#include <functional>
#include <string>

#include "plan/device_profile.h"

namespace pocket {

struct CalibrateOptions {
  int threads = 0;                          // 0: every core
  size_t decode_bytes = size_t(128) << 20;  // weights streamed per decode measurement (beyond the caches)
  int repetitions = 5;                      // best of
  std::string name = "host";
};

struct CalibrateReport {
  DeviceProfile profile;
  std::string energy_note;  // how power was measured, or why it was not
};

Result<CalibrateReport> calibrate_host(const CalibrateOptions& opts);

// Average package power over `seconds` of the given load from RAPL (Linux powercap); 0 with `why` set
// when no counter is readable (VMs, non-Intel/AMD, permissions).
double rapl_power_w(double seconds_of_load, const std::function<void()>& load, std::string* why);

}  // namespace pocket
