// A STREAM-like measurement of this machine's memory bandwidth: the yardstick decode speed is
// reported against (decode reads every weight once per token).
#pragma once

#include <cstddef>

#include "runtime/thread_pool.h"

namespace pocket {

struct BandwidthResult {
  double read_gbps = 0;   // sum over a buffer much larger than the caches (best of repetitions and of two
                          // access patterns: 4 streams per thread, or 1 with software prefetch)
  double triad_gbps = 0;  // a = b + s*c, counting 3 arrays of traffic
  size_t bytes = 0;       // buffer size used for the read test
};

BandwidthResult measure_bandwidth(ThreadPool& pool, size_t bytes = size_t(512) << 20, int repetitions = 5);

}  // namespace pocket
