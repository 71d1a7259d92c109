#include "runtime/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

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
  // Two ways to read, each timed, the faster counts: four streams per thread left to the hardware
  // prefetchers, and one stream per thread with software prefetch ahead (as the decode kernels read
  // their weights). On a Zen 4 VM the four streams gave 17.6 GB/s with 1 thread while a prefetched
  // single-stream decode kernel read 24 GB/s; a yardstick below what decode reaches is no yardstick.
  auto read_pass = [&](bool prefetched) {
    pool.run([&](int ith, int nth) {
      int64_t b, e;
      split_range((int64_t)n, ith, nth, &b, &e);
      uint64_t s0 = 0;
      int64_t i = b;
#if defined(__SSE2__)
      __m128i v0 = _mm_setzero_si128(), v1 = v0, v2 = v0, v3 = v0;
      auto line = [&](const uint64_t* at) {
        const __m128i* p = reinterpret_cast<const __m128i*>(at);
        v0 = _mm_add_epi64(v0, _mm_loadu_si128(p));
        v1 = _mm_add_epi64(v1, _mm_loadu_si128(p + 1));
        v2 = _mm_add_epi64(v2, _mm_loadu_si128(p + 2));
        v3 = _mm_add_epi64(v3, _mm_loadu_si128(p + 3));
      };
      if (prefetched) {
        constexpr int64_t kAhead = 4096 / sizeof(uint64_t);  // elements
        const int64_t end = b + (e - b) / 8 * 8;
        for (; i + kAhead < end; i += 8) {
          _mm_prefetch(reinterpret_cast<const char*>(&a[(size_t)(i + kAhead)]), _MM_HINT_T0);
          line(&a[(size_t)i]);
        }
        for (; i < end; i += 8) line(&a[(size_t)i]);
      } else {
        // Quarters of the thread's range, one 64-byte line from each per step.
        const int64_t q = (e - b) / 32 * 8;  // elements per stream, a multiple of 8 (one line)
        for (int64_t k = 0; k < q; k += 8)
          for (int st = 0; st < 4; ++st) line(&a[(size_t)(b + st * q + k)]);
        i = b + 4 * q;
      }
      alignas(16) uint64_t lanes[2];
      _mm_store_si128(reinterpret_cast<__m128i*>(lanes), _mm_add_epi64(_mm_add_epi64(v0, v1), _mm_add_epi64(v2, v3)));
      s0 = lanes[0] + lanes[1];
#else
      (void)prefetched;
#endif
      for (; i < e; ++i) s0 += a[(size_t)i];
      sums[(size_t)ith * 8] = s0;  // keeps the loads alive
    });
  };
  double best = 1e30;
  for (int rep = 0; rep < repetitions; ++rep)
    for (bool prefetched : {false, true}) {
      const auto t0 = std::chrono::steady_clock::now();
      read_pass(prefetched);
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
