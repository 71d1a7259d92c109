// pocket sysinfo: CPU features, the kernel table in use, the decode kernel variants chosen by
// measurement (kernels/kernel_choice), and measured memory bandwidth.
#include <cstdio>
#include <thread>

#include "commands.h"
#include "core/cpu_features.h"
#include "kernels/kernel_choice.h"
#include "kernels/kernel_table.h"
#include "runtime/memory_bandwidth.h"

namespace pocket::cli {

namespace {

void print_kernel_choice(const KernelChoice& kc) {
  std::printf("cpu model: %s\n", cpu_model_name().c_str());
  std::printf(
      "decode kernels (single-row vec_dot or 4-row vec_dot_r4 over the file's rows, or packed 16-row groups, chosen by measurement; bit-identical "
      "results):\n");
  switch (kc.source) {
    case ChoiceSource::kNone: std::printf("  %s: single-row everywhere (%s)\n", kc.table.c_str(), kc.note.c_str()); return;
    case ChoiceSource::kForced: std::printf("  forced by %s (no measurement)\n", kc.note.c_str()); break;
    case ChoiceSource::kCache:
      std::printf("  from the cache %s (measured on %zu MiB in %.2f s)\n", kc.cache_path.c_str(), kc.probe_bytes >> 20, kc.probe_seconds);
      break;
    case ChoiceSource::kProbe:
      std::printf("  measured now on %zu MiB in %.2f s, 1 thread, median of alternating passes (%s); %s\n", kc.probe_bytes >> 20, kc.probe_seconds,
                  kc.note.c_str(), kc.cache_path.empty() ? "not cached" : ("cached in " + kc.cache_path).c_str());
      break;
  }
  for (const KernelChoiceEntry& e : kc.entries) {
    const bool packed = e.packed && packing_enabled();
    std::printf("  %-5s %-11s (%4lld cols): %-6s %-6s", traits(e.type).name, width_class_name(e.width_class),
                (long long)probe_cols(e.type, e.width_class), row_variant_name(e.variant), packed ? "packed" : "rows");
    if (e.single_gbps > 0 && e.multi_gbps > 0)
      std::printf("  single %5.1f GB/s, multi %5.1f GB/s (%+.0f %%)", e.single_gbps, e.multi_gbps, 100.0 * (e.multi_gbps / e.single_gbps - 1.0));
    else if (e.single_gbps > 0)
      std::printf("  single %5.1f GB/s, no multi-row kernel      ", e.single_gbps);
    if (e.packed_gbps > 0) std::printf(", packed %5.1f GB/s (%+.0f %%)", e.packed_gbps, 100.0 * (e.packed_gbps / e.single_gbps - 1.0));
    std::printf("\n");
  }
  std::printf(
      "  force: POCKET_KERNEL_CHOICE=single|multi (packed wherever the table can), POCKET_REPACK=off (never packed)%s;\n"
      "  re-measure: pocket sysinfo --probe-kernels (or POCKET_KERNEL_CHOICE=probe)\n",
      packing_enabled() ? "" : " [set]");
}

}  // namespace

Runner register_sysinfo(CLI::App& app) {
  auto threads = std::make_shared<std::vector<int>>();
  auto no_bandwidth = std::make_shared<bool>(false);
  auto probe_kernels = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand("sysinfo", "print CPU features, kernels in use and measured memory bandwidth");
  sub->add_option("-t,--threads", *threads, "thread counts to measure (default: 1 and all cores)")->delimiter(',')->check(CLI::Range(1, 256));
  sub->add_flag("--no-bandwidth", *no_bandwidth, "print CPU features and kernels only (no bandwidth measurement)");
  sub->add_flag("--probe-kernels", *probe_kernels, "measure the decode kernel variants again and rewrite the cache (as POCKET_KERNEL_CHOICE=probe)");
  return [threads, no_bandwidth, probe_kernels] {
    const Status env = check_kernel_environment();
    if (!env.is_ok()) return fail(env);
    const CpuFeatures& f = cpu_features();
#if defined(__aarch64__)
    std::printf("cpu features: neon %d, dotprod %d\n", f.neon, f.dotprod);
    std::printf("kernels: %s (POCKET_KERNELS=ref|neon|neon-dotprod|auto)\n", kernels().name);
#else
    std::printf("cpu features: avx2 %d, fma %d, f16c %d, avx512f %d, avx512bw %d, avx512vl %d, avx512vnni %d, avxvnni %d\n", f.avx2, f.fma, f.f16c,
                f.avx512f, f.avx512bw, f.avx512vl, f.avx512vnni, f.avxvnni);
    std::printf("kernels: %s (POCKET_KERNELS=ref|avx2|avx512vnni|auto)\n", kernels().name);
#endif
    if (*probe_kernels) {
      const KernelTable& kt = kernels();
      print_kernel_choice(select_kernel_choice(kt, KernelChoiceMode::kProbe, kernel_choice_cache_path(kt), cpu_model_name(),
                                               [](const KernelTable& t) { return probe_kernel_choice(t); }));
    } else {
      print_kernel_choice(kernel_choice(kernels()));
    }
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
      std::printf("memory bandwidth, %d thread%s: read %.1f GB/s, triad %.1f GB/s (%zu MiB buffer, best of 5, of 4 streams or 1 prefetched)\n", t,
                  t > 1 ? "s" : "", r.read_gbps, r.triad_gbps, r.bytes >> 20);
    }
    return 0;
  };
}

}  // namespace pocket::cli
