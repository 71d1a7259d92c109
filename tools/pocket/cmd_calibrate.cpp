// pocket calibrate: measure this machine into a `host` device profile for `pocket plan`.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sys/stat.h>

#include "commands.h"
#include "plan/calibrate.h"

namespace pocket::cli {

namespace {

// mkdir -p for the default output directory.
bool make_dirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      const std::string part = dir.substr(0, i);
      if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) return false;
    }
  }
  return true;
}

}  // namespace

Runner register_calibrate(CLI::App& app) {
  auto o = std::make_shared<CalibrateOptions>();
  auto out = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("calibrate", "measure this machine (bandwidth, kernel rates, power) into a host device profile");
  sub->add_option("-o,--output", *out, "profile file to write (default: ~/.config/pocket/devices/host.json)");
  sub->add_option("-t,--threads", o->threads, "threads (0: every core)")->check(CLI::Range(0, 256));
  sub->add_option("-r,--repetitions", o->repetitions, "best of N per measurement")->check(CLI::Range(1, 100));
  sub->add_option("--name", o->name, "profile name (what --device takes)");
  return [o, out] {
    std::string path = *out;
    if (path.empty()) {
      const char* home = std::getenv("HOME");
      if (home == nullptr) return fail("calibrate: HOME is not set; give -o FILE");
      const std::string dir = std::string(home) + "/.config/pocket/devices";
      if (!make_dirs(dir)) return fail(dir + ": cannot create the profile directory");
      path = dir + "/" + o->name + ".json";
    }
    std::fprintf(stderr, "calibrate: measuring (about 10-20 s)...\n");
    auto rep = calibrate_host(*o);
    if (!rep) return fail(rep.status());
    const DeviceProfile& p = rep.value().profile;
    std::printf("read bandwidth %.1f GB/s with %d thread%s; RAM %.1f GB (%.1f GB available)\n", p.bandwidth_gbps, p.threads, p.threads > 1 ? "s" : "",
                p.ram_gb, p.usable_ram_gb);
    std::printf("%-6s %8s %14s %16s\n", "type", "columns", "decode GB/s", "prefill GOPS");
    for (const auto& m : p.measured) std::printf("%-6s %8lld %14.2f %16.1f\n", m.type.c_str(), (long long)m.cols, m.decode_gbps, m.prefill_gops);
    std::printf("fixed cost per layer and token: %.1f us\n", p.sync_us_per_layer);
    std::printf("energy: %s\n", rep.value().energy_note.c_str());
    const std::string tmp = path + ".tmp";
    std::ofstream f(tmp, std::ios::binary);
    f << device_profile_json(p);
    f.close();
    if (!f || std::rename(tmp.c_str(), path.c_str()) != 0) {
      std::remove(tmp.c_str());
      return fail(path + ": cannot write the profile");
    }
    std::printf("wrote %s (use --device %s)\n", path.c_str(), p.name.c_str());
    return 0;
  };
}

}  // namespace pocket::cli
