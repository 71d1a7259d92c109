#include "plan/calibrate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "core/cpu_features.h"
#include "core/memory_stats.h"
#include "core/timing.h"
#include "kernels/kernel_choice.h"
#include "kernels/kernel_table.h"
#include "model/ops.h"
#include "runtime/memory_bandwidth.h"
#include "runtime/thread_pool.h"

namespace pocket {
namespace {

// A weight matrix of `rows` x `cols` in type t: one random row quantized, copied to every row (the
// kernels' speed does not depend on the values; this keeps set-up fast for 128 MiB).
struct TestMatrix {
  std::vector<uint8_t> data;
  Matrix m;
  TestMatrix(TensorType t, int64_t rows, int64_t cols) {
    const TypeTraits& tr = traits(t);
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.0f, 0.02f);
    std::vector<float> row((size_t)cols);
    for (float& x : row) x = nd(rng);
    const size_t rb = row_bytes(tr, cols);
    data.resize(rb * (size_t)rows);
    tr.from_float(row.data(), data.data(), cols);
    for (int64_t r = 1; r < rows; ++r) std::memcpy(data.data() + rb * (size_t)r, data.data(), rb);
    m.type = t;
    m.rows = rows;
    m.cols = cols;
    m.data = data.data();
    m.row_bytes = rb;
    m.name = "calibrate";
  }
};

// Best-of-n seconds of one call.
double best_seconds(int reps, const std::function<void()>& f) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const double t0 = now_seconds();
    f();
    best = std::min(best, now_seconds() - t0);
  }
  return best;
}

double meminfo_gb(const char* key) { return (double)meminfo_bytes(key) / 1e9; }

}  // namespace

double rapl_power_w(double seconds, const std::function<void()>& load, std::string* why) {
  const char* path = "/sys/class/powercap/intel-rapl:0/energy_uj";
  auto read = [&](double* uj) {
    std::ifstream in(path);
    return (bool)(in >> *uj);
  };
  double e0 = 0, e1 = 0;
  if (!read(&e0)) {
    *why = std::string("no RAPL energy counter readable (") + path + "); power unknown: set power_w in the profile to get energy estimates";
    return 0;
  }
  const double t0 = now_seconds();
  while (now_seconds() - t0 < seconds) load();
  const double t1 = now_seconds();
  if (!read(&e1) || e1 <= e0) {
    *why = "the RAPL counter did not advance (wrapped or not updating); power unknown";
    return 0;
  }
  *why = "package power from RAPL (intel-rapl:0) under the decode kernel load";
  return (e1 - e0) * 1e-6 / (t1 - t0);
}

Result<CalibrateReport> calibrate_host(const CalibrateOptions& o) {
  const int hw = std::max(1, (int)std::thread::hardware_concurrency());
  const int threads = o.threads > 0 ? o.threads : hw;
  if (threads > 256) return field_error("threads", "must be in 1..256");
  if (o.repetitions < 1) return field_error("repetitions", "must be >= 1");
  ThreadPool pool(threads);
  const KernelTable& kt = kernels();
  const KernelChoice& kc = kernel_choice(kt);  // decode rates with the variant decode will use
  CalibrateReport rep;
  DeviceProfile& p = rep.profile;
  p.name = o.name;
  p.device_class = "host";
  p.description = std::string("this machine, measured by pocket calibrate (kernels: ") + kt.name + ")";
  p.ram_gb = meminfo_gb("MemTotal");
  p.usable_ram_gb = std::min(p.ram_gb, meminfo_gb("MemAvailable"));
  if (p.ram_gb <= 0) return error(ErrorCode::kIoError, "/proc/meminfo: MemTotal not readable");
  p.cpu_cores = hw;
  p.threads = threads;
  const BandwidthResult bw = measure_bandwidth(pool);
  p.bandwidth_gbps = bw.read_gbps;
  p.decode_efficiency = 1.0;   // KV reads at the measured read bandwidth
  p.compute_efficiency = 1.0;  // rates below are measured with pocket's kernels
  const CpuFeatures& f = cpu_features();
  p.int8_dot = f.avx2 || f.avx512vnni || f.dotprod;

  // Each type at three row widths (narrow attention rows to wide FFN rows): per-row costs and alignment
  // make the rates depend on it (measured here: Q8_0 decode 10.5 GB/s at 512 columns, 23.7 at 4096).
  const int64_t widths[] = {512, 1536, 4096};
  const TensorType types[] = {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_1, TensorType::Q4_0};
  const int kPrefillTokens = 64;
  const int64_t kPrefillRows = 2048;
  std::vector<float> x((size_t)4096 * kPrefillTokens), y;
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (float& v : x) v = nd(rng);
  std::unique_ptr<TestMatrix> q4_big;
  for (TensorType t : types) {
    const TypeTraits& tr = traits(t);
    for (int64_t cols : widths) {
      std::vector<uint8_t> act(act_row_bytes(t, cols) * kPrefillTokens);
      // Decode: one token against a matrix far larger than the caches, as every weight is read once.
      const int64_t rows = std::max<int64_t>(64, (int64_t)(o.decode_bytes / row_bytes(tr, cols)));
      auto big = std::make_unique<TestMatrix>(t, rows, cols);
      y.resize((size_t)rows);
      matmul(kt, kc, pool, big->m, y.data(), x.data(), 1, act.data());  // page in
      const double dec_s = best_seconds(o.repetitions, [&] { matmul(kt, kc, pool, big->m, y.data(), x.data(), 1, act.data()); });
      // Prefill: a batch of 64 tokens against 2048 rows (each weight block used 64 times).
      TestMatrix sq(t, kPrefillRows, cols);
      y.resize((size_t)kPrefillRows * kPrefillTokens);
      matmul(kt, kc, pool, sq.m, y.data(), x.data(), kPrefillTokens, act.data());
      const double pre_s = best_seconds(o.repetitions, [&] { matmul(kt, kc, pool, sq.m, y.data(), x.data(), kPrefillTokens, act.data()); });
      DeviceProfile::Measured m;
      m.type = tr.name;
      m.cols = cols;
      m.decode_gbps = (double)big->data.size() / dec_s / 1e9;
      m.prefill_gops = 2.0 * (double)cols * (double)kPrefillRows * kPrefillTokens / pre_s / 1e9;
      p.measured.push_back(m);
      if (cols == 4096 && t == TensorType::Q8_0) p.cpu_int8_gops = m.prefill_gops;
      if (cols == 4096 && t == TensorType::F32) p.cpu_fp32_gflops = m.prefill_gops;
      if (cols == 1536 && t == TensorType::Q4_0) q4_big = std::move(big);
    }
  }
  // Fixed cost per layer and token: the forward pass runs about 6 parallel regions per layer (QKV,
  // attention, output, gate+up, down, and the activation quantization inside them); each costs a
  // wake-up and a barrier. Measured with empty tasks, best of many.
  const int kRegionsPerLayer = 6;
  const int kCalls = 2000;
  const double sync_s = best_seconds(o.repetitions, [&] {
    for (int i = 0; i < kCalls; ++i) pool.run([](int, int) {});
  });
  p.sync_us_per_layer = kRegionsPerLayer * sync_s / kCalls * 1e6 + 1.0;  // + norms, RoPE, residual adds (~1 us)
  std::string why;
  std::vector<float> yq((size_t)q4_big->m.rows);
  std::vector<uint8_t> actq(act_row_bytes(TensorType::Q4_0, q4_big->m.cols));
  p.power_w = rapl_power_w(
      1.0, [&] { matmul(kt, kc, pool, q4_big->m, yq.data(), x.data(), 1, actq.data()); }, &why);
  rep.energy_note = why;
  p.sources = {
      "pocket calibrate: STREAM-like read bandwidth (512 MiB, best of 5); decode = one token against a 128 MiB matrix per type and width (512, 1536, "
      "4096); "
      "prefill = 64 tokens against 2048 rows; sync = empty thread-pool regions x 6 per layer; RAM from /proc/meminfo; " +
      why};
  return rep;
}

}  // namespace pocket
