#include "runtime/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

namespace pocket {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

BandwidthResult measure_bandwidth(ThreadPool& pool, size_t bytes, int repetitions) {
  BandwidthResult r;
  const size_t n = bytes / sizeof(uint64_t);
  std::vector<uint64_t> a(n);
  // First touch from the threads that will read, so pages land near them.
  pool.run([&](int ith, int nth) {
    int64_t b, e;
    split_range((int64_t)n, ith, nth, &b, &e);
    for (int64_t i = b; i < e; ++i) a[(size_t)i] = (uint64_t)i * 2654435761u;
  });
  std::vector<uint64_t> sums((size_t)pool.size() * 8);
  double best = 1e30;
  for (int rep = 0; rep < repetitions; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.run([&](int ith, int nth) {
      int64_t b, e;
      split_range((int64_t)n, ith, nth, &b, &e);
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // independent chains; the compiler vectorizes the adds
      int64_t i = b;
      for (; i + 4 <= e; i += 4) {
        s0 += a[(size_t)i];
        s1 += a[(size_t)i + 1];
        s2 += a[(size_t)i + 2];
        s3 += a[(size_t)i + 3];
      }
      for (; i < e; ++i) s0 += a[(size_t)i];
      sums[(size_t)ith * 8] = s0 + s1 + s2 + s3;  // keeps the loads alive
    });
    best = std::min(best, seconds_since(t0));
  }
  r.bytes = n * sizeof(uint64_t);
  r.read_gbps = (double)r.bytes / best / 1e9;

  const size_t m = n / 3;
  std::vector<float> x(m, 1.0f), y(m, 2.0f), z(m, 0.0f);
  best = 1e30;
  for (int rep = 0; rep < repetitions; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.run([&](int ith, int nth) {
      int64_t b, e;
      split_range((int64_t)m, ith, nth, &b, &e);
      for (int64_t i = b; i < e; ++i) z[(size_t)i] = x[(size_t)i] + 3.0f * y[(size_t)i];
    });
    best = std::min(best, seconds_since(t0));
  }
  r.triad_gbps = 3.0 * (double)m * sizeof(float) / best / 1e9;
  return r;
}

}  // namespace pocket
