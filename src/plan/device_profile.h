// Device profiles: what the planner knows about a phone, tablet, edge board or this machine.
// Data files (JSON, schema in docs/planner.md) shipped in devices/, written by `pocket calibrate`, or
// given by the user with --device FILE. Every field is validated; errors name the file and field.
#pragma once

#include <string>
#include <vector>

#include "pocket/status.h"

namespace pocket {

struct DeviceProfile {
  std::string name;          // what --device takes
  std::string device_class;  // budget-phone, flagship-phone, tablet, edge, host, ...
  std::string description;
  double ram_gb = 0;                // physical RAM
  double usable_ram_gb = 0;         // what one app may use before the OS kills it
  double bandwidth_gbps = 0;        // DRAM read bandwidth (peak, or measured for host)
  double decode_efficiency = 0.6;   // share of bandwidth_gbps a CPU decode loop reaches (1 for measured)
  int cpu_cores = 0;                // cores in the SoC
  int threads = 0;                  // cores a generation thread pool should use (performance cores)
  double cpu_int8_gops = 0;         // int8 multiply-adds x2 per second over `threads` cores (peak or measured)
  double cpu_fp32_gflops = 0;       // fp32 FLOP/s over `threads` cores
  double compute_efficiency = 0.4;  // share of the peak compute our GEMM reaches (1 for measured)
  double power_w = 0;               // sustained package power while generating; 0: unknown (no energy estimate)
  double npu_tops = 0;              // INT8 TOPS of the NPU/GPU accelerator (pocket runs on the CPU; shown for reference)
  bool int8_dot = false;            // CPU has an int8 dot-product instruction (sdot, VNNI, or AVX2 maddubs)
  bool int4 = false;                // accelerator runs int4 weights natively
  // Measured throughput of pocket's own kernels by weight type (host profiles from `pocket calibrate`):
  // decode GB/s of weights streamed, prefill GOPS; empty for datasheet profiles.
  // Kernel speed depends on the row width (per-row costs, alignment), so each type is measured at a
  // few widths and the planner interpolates in log(width).
  struct Measured {
    std::string type;
    int64_t cols = 0;
    double decode_gbps = 0;
    double prefill_gops = 0;
  };
  std::vector<Measured> measured;
  double sync_us_per_layer = 0;  // measured fixed cost per layer and token (threads, small ops); 0: use 8 us
  std::vector<std::string> sources;
  std::string file;  // where it was read from

  // Rates for a tensor of `type` with rows of `cols` (interpolated between measured widths, clamped);
  // false when the type was not measured.
  bool measured_rates(const std::string& type, int64_t cols, double* decode_gbps, double* prefill_gops) const;
};

// Parses and validates one profile (text = the file's contents; file names it in errors).
Result<DeviceProfile> parse_device_profile(const std::string& text, const std::string& file);
Result<DeviceProfile> load_device_profile(const std::string& path);
std::string device_profile_json(const DeviceProfile& p);

// Directories searched for NAME.json, in order: $POCKET_DEVICES (colon-separated), the user's
// ~/.config/pocket/devices (where `pocket calibrate` writes host.json), the shipped devices/.
std::vector<std::string> device_dirs();
// NAME or a path to a .json file.
Result<DeviceProfile> find_device_profile(const std::string& name_or_path);
// Every profile found in device_dirs() (first of each name wins), sorted as shipped classes first.
Result<std::vector<DeviceProfile>> all_device_profiles();

}  // namespace pocket
