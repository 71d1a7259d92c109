// Wall-clock seconds from the monotonic clock, for throughput and latency measurements.
#pragma once

#include <chrono>

namespace pocket {

inline double now_seconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace pocket
