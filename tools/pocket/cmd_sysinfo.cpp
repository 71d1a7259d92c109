// pocket sysinfo: CPU features, the kernel table in use, and measured memory bandwidth.
#include <cstdio>
#include <thread>

#include "commands.h"
#include "core/cpu_features.h"
#include "kernels/kernel_table.h"
#include "runtime/memory_bandwidth.h"

namespace pocket::cli {

Runner register_sysinfo(CLI::App& app) {
  auto threads = std::make_shared<std::vector<int>>();
  auto no_bandwidth = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand("sysinfo", "print CPU features, kernels in use and measured memory bandwidth");
  sub->add_option("-t,--threads", *threads, "thread counts to measure (default: 1 and all cores)")->delimiter(',')->check(CLI::Range(1, 256));
  sub->add_flag("--no-bandwidth", *no_bandwidth, "print CPU features and kernels only (no bandwidth measurement)");
  return [threads, no_bandwidth] {
    const CpuFeatures& f = cpu_features();
#if defined(__aarch64__)
    std::printf("cpu features: neon %d, dotprod %d\n", f.neon, f.dotprod);
    std::printf("kernels: %s (POCKET_KERNELS=ref|neon|neon-dotprod|auto)\n", kernels().name);
#else
    std::printf("cpu features: avx2 %d, fma %d, f16c %d, avx512f %d, avx512bw %d, avx512vl %d, avx512vnni %d, avxvnni %d\n", f.avx2, f.fma, f.f16c,
                f.avx512f, f.avx512bw, f.avx512vl, f.avx512vnni, f.avxvnni);
    std::printf("kernels: %s (POCKET_KERNELS=ref|avx2|avx512vnni|auto)\n", kernels().name);
#endif
    if (*no_bandwidth) return 0;
    std::vector<int> ts = *threads;
    if (ts.empty()) {
      ts.push_back(1);
      const int hw = (int)std::thread::hardware_concurrency();
      if (hw > 1) ts.push_back(hw);
    }
    for (int t : ts) {
      ThreadPool pool(t);
      const BandwidthResult r = measure_bandwidth(pool);
      std::printf("memory bandwidth, %d thread%s: read %.1f GB/s, triad %.1f GB/s (%zu MiB buffer, best of 5)\n", t, t > 1 ? "s" : "", r.read_gbps,
                  r.triad_gbps, r.bytes >> 20);
    }
    return 0;
  };
}

}  // namespace pocket::cli
