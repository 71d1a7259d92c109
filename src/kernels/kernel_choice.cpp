#include "kernels/kernel_choice.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/anon_buffer.h"
#include "core/cpu_features.h"
#include "core/log.h"
#include "core/timing.h"
#include "kernels/packed_rows.h"

namespace pocket {

const char* row_variant_name(RowVariant v) { return v == RowVariant::kMulti ? "multi" : "single"; }

const char* width_class_name(int wc) {
  static const char* const names[kWidthClasses] = {"cols<=1024", "cols<=3072", "cols>3072"};
  return names[std::clamp(wc, 0, kWidthClasses - 1)];
}

int64_t width_class_probe_cols(int wc) {
  static const int64_t cols[kWidthClasses] = {576, 2048, 4096};
  return cols[std::clamp(wc, 0, kWidthClasses - 1)];
}

int64_t probe_cols(TensorType t, int wc) {
  const int64_t bs = traits(t).block_size;
  return std::max<int64_t>(bs, width_class_probe_cols(wc) / bs * bs);
}

const char* choice_source_name(ChoiceSource s) {
  switch (s) {
    case ChoiceSource::kNone: return "none";
    case ChoiceSource::kForced: return "forced";
    case ChoiceSource::kCache: return "cache";
    case ChoiceSource::kProbe: return "probe";
  }
  return "none";
}

namespace {

constexpr int kCacheVersion = 4;  // bump when the file's meaning changes (or a table's vec_dot_r4 / vec_dot_packed is rewritten)
                                  // 2: packed rows measured and chosen
constexpr const char* kCacheFormat = "pocket kernel choice";

// Weight types the table can choose for: those with a multi-row decode kernel, in type order.
std::vector<TensorType> choosable_types(const KernelTable& kt) {
  std::vector<TensorType> v;
  for (int t = 0; t < kTypeSlots; ++t)
    if (kt.vec_dot[t] != nullptr && (kt.vec_dot_r4[t] != nullptr || kt.vec_dot_packed[t] != nullptr)) v.push_back((TensorType)t);
  return v;
}

// Last-level cache bytes of cpu0: sysfs first (glibc's sysconf can be wildly off in virtual machines:
// 256 MiB for a 32 MiB L3 on the 2-core EPYC VM this was written on), then sysconf; 0 when unknown.
size_t l3_bytes() {
  for (int i = 0; i < 8; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    FILE* f = std::fopen((dir + "level").c_str(), "r");
    if (f == nullptr) break;
    int level = 0;
    const bool got_level = std::fscanf(f, "%d", &level) == 1;
    std::fclose(f);
    if (!got_level || level != 3) continue;
    f = std::fopen((dir + "size").c_str(), "r");
    if (f == nullptr) break;
    unsigned long long v = 0;
    char unit = 0;
    const int n = std::fscanf(f, "%llu%c", &v, &unit);
    std::fclose(f);
    if (n >= 1) return (size_t)v * (unit == 'K' ? 1024 : unit == 'M' ? 1024 * 1024 : 1);
  }
#ifdef _SC_LEVEL3_CACHE_SIZE
  const long l3 = ::sysconf(_SC_LEVEL3_CACHE_SIZE);  // glibc; 0 or -1 where unknown
  if (l3 > 0) return (size_t)l3;
#endif
  return 0;
}

// Twice the last-level cache, so every pass streams from DRAM as decode does; 64 MiB at least, 256 at most.
size_t default_probe_bytes() { return std::clamp(2 * l3_bytes(), size_t(64) << 20, size_t(256) << 20); }

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// One decode pass over `rows` rows of `cols` columns, as matmul_group runs it on one thread.
double time_pass(const KernelTable& kt, TensorType t, bool multi, const uint8_t* w, size_t rb, int64_t rows, int64_t cols, const void* xa, float* y) {
  const double t0 = now_seconds();
  if (multi) {
    const VecDotR4Fn r4 = kt.vec_dot_r4[(int)t];
    for (int64_t r = 0; r + 4 <= rows; r += 4) r4(cols, w + (size_t)r * rb, rb, xa, y + r);
  } else {
    const VecDotFn dot = kt.vec_dot[(int)t];
    for (int64_t r = 0; r < rows; ++r) y[r] = dot(cols, w + (size_t)r * rb, xa);
  }
  return now_seconds() - t0;
}

// The same decode pass over `groups` packed groups (one token).
double time_packed_pass(const KernelTable& kt, TensorType t, const uint8_t* w, int64_t groups, int64_t cols, const void* xa, const int32_t* corr,
                        float* y) {
  const VecDotPackedFn fn = kt.vec_dot_packed[(int)t];
  const size_t gb = packed_group_bytes(t, cols);
  const double t0 = now_seconds();
  for (int64_t g = 0; g < groups; ++g) fn(cols, w + (size_t)g * gb, xa, 0, corr, 0, 1, y + g * kPackRows, kPackRows);
  return now_seconds() - t0;
}

// Fills buf with copies of one run of valid blocks (random values through the reference quantizer, so
// every scale is finite); the values do not change the kernels' speed, only the addresses streamed do.
void fill_blocks(TensorType t, uint8_t* buf, size_t bytes, uint64_t seed) {
  const TypeTraits& tr = traits(t);
  const int64_t n_pattern = 32 * 1024;  // elements: a pattern of ~32 KiB of blocks
  std::vector<float> x((size_t)n_pattern);
  uint64_t s = seed;
  for (float& v : x) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    v = (float)((int64_t)(s >> 40) - (1 << 23)) / (float)(1 << 23);
  }
  const size_t pb = row_bytes(tr, n_pattern);
  std::vector<uint8_t> pattern(pb);
  tr.from_float(x.data(), pattern.data(), n_pattern);
  for (size_t off = 0; off < bytes; off += pb) std::memcpy(buf + off, pattern.data(), std::min(pb, bytes - off));
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char ch : s) {
    const bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
    if (keep)
      out += ch;
    else if (!out.empty() && out.back() != '_')
      out += '_';
  }
  while (!out.empty() && (out.back() == '_' || out.back() == '.')) out.pop_back();
  if (out.size() > 120) out.resize(120);
  return out.empty() ? "unknown" : out;
}

}  // namespace

void apply_entries(const KernelTable& kt, KernelChoice* c) {
  for (auto& per_type : c->multi)
    for (bool& m : per_type) m = false;
  for (auto& per_type : c->pack)
    for (bool& m : per_type) m = false;
  for (const KernelChoiceEntry& e : c->entries) {
    const int t = (int)e.type;
    if (t < 0 || t >= kTypeSlots || e.width_class < 0 || e.width_class >= kWidthClasses) continue;
    c->multi[t][e.width_class] = e.variant == RowVariant::kMulti && kt.vec_dot_r4[t] != nullptr;
    c->pack[t][e.width_class] = e.packed && kt.vec_dot_packed[t] != nullptr;
  }
}

KernelChoiceMode parse_kernel_choice_mode(const char* value, bool* unknown) {
  if (unknown != nullptr) *unknown = false;
  if (value == nullptr || *value == '\0' || std::strcmp(value, "auto") == 0) return KernelChoiceMode::kAuto;
  if (std::strcmp(value, "probe") == 0) return KernelChoiceMode::kProbe;
  if (std::strcmp(value, "single") == 0) return KernelChoiceMode::kSingle;
  if (std::strcmp(value, "multi") == 0) return KernelChoiceMode::kMulti;
  if (unknown != nullptr) *unknown = true;
  return KernelChoiceMode::kAuto;
}

KernelChoice forced_kernel_choice(const KernelTable& kt, RowVariant v) {
  KernelChoice c;
  c.table = kt.name;
  c.source = ChoiceSource::kForced;
  for (TensorType t : choosable_types(kt))
    for (int wc = 0; wc < kWidthClasses; ++wc) c.entries.push_back({t, wc, v, 0.0, 0.0, 0.0, kt.vec_dot_packed[(int)t] != nullptr});
  apply_entries(kt, &c);
  return c;
}

KernelChoice probe_kernel_choice(const KernelTable& kt, const KernelProbeOptions& o) {
  const double t_start = now_seconds();
  KernelChoice c = forced_kernel_choice(kt, RowVariant::kSingle);
  c.source = ChoiceSource::kProbe;
  if (c.entries.empty()) return c;
  size_t bytes = o.bytes > 0 ? o.bytes : default_probe_bytes();
  std::unique_ptr<uint8_t, FreeDeleter> buf(static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)));
  if (!buf) {
    c.note = "probe: cannot allocate " + std::to_string(bytes >> 20) + " MiB; single-row kept";
    c.cacheable = false;
    return c;
  }
  int64_t max_cols = 0;
  for (int wc = 0; wc < kWidthClasses; ++wc) max_cols = std::max(max_cols, width_class_probe_cols(wc));
  std::vector<float> x((size_t)max_cols);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * (float)i) * 2.0f;
  std::vector<uint8_t> act;
  std::vector<float> y;
  int reps = std::max(1, o.repetitions);
  bool budget_checked = false;
  TensorType filled = TensorType::F32, packed_filled = TensorType::F32;
  AnonBuffer pbuf;
  std::vector<int32_t> corr;
  for (KernelChoiceEntry& e : c.entries) {
    const TypeTraits& tr = traits(e.type);
    const int64_t cols = probe_cols(e.type, e.width_class);
    const size_t rb = row_bytes(tr, cols);
    const bool has_multi = kt.vec_dot_r4[(int)e.type] != nullptr;
    act.resize(act_row_bytes(e.type, cols));
    const void* xa = x.data();
    if (quantize_activations(kt, e.type, x.data(), act.data(), cols)) xa = act.data();
    y.resize(bytes / rb);
    if (e.type != filled) {
      fill_blocks(e.type, buf.get(), bytes, 0x9e3779b97f4a7c15ull + (uint64_t)e.type);
      filled = e.type;
      // The first pass after a fill reads lines the fill left in the cache: untimed. The first one also
      // sizes the rest: fewer repetitions, then a smaller matrix, where a pass is slow.
      const double warm = time_pass(kt, e.type, false, buf.get(), rb, (int64_t)(bytes / rb) / 4 * 4, cols, xa, y.data());
      if (!budget_checked) {
        budget_checked = true;
        const double per_rep = (double)c.entries.size() * 3.0 * warm;
        if (per_rep * reps > o.budget_seconds) {
          reps = std::max(1, (int)(o.budget_seconds / per_rep));
          if (per_rep * reps > o.budget_seconds) {
            bytes = std::max(size_t(16) << 20, (size_t)((double)bytes * o.budget_seconds / (per_rep * reps)));
            // A matrix cut below the DRAM-sized one may sit in the cache (emulators, sanitizer builds): use
            // the result in this process, but never let it stand for the machine.
            c.cacheable = false;
          }
        }
      }
    }
    const int64_t rows = (int64_t)(bytes / rb) / 4 * 4;
    // Packed rows: the buffer refilled with packed blocks once per type (any run of whole packed blocks
    // cut at group boundaries is a valid group at every width), the same bytes streamed.
    const bool has_packed = kt.vec_dot_packed[(int)e.type] != nullptr && packable_type(e.type);
    int64_t groups = 0;
    if (has_packed) {
      // As the model's packed copy (Model::pack_weights): an AnonBuffer, huge pages where the kernel gives them.
      if (pbuf.data() == nullptr) {
        Result<AnonBuffer> b = AnonBuffer::allocate(bytes);
        if (b.is_ok()) pbuf = std::move(b.value());
      }
      if (pbuf.data() != nullptr && packed_filled != e.type) {
        const int64_t pc = width_class_probe_cols(kWidthClasses - 1);
        std::vector<uint8_t> group(packed_group_bytes(e.type, pc));
        pack_rows(e.type, buf.get(), row_bytes(tr, pc), kPackRows, pc, group.data());
        for (size_t off = 0; off < bytes; off += group.size()) std::memcpy(pbuf.data() + off, group.data(), std::min(group.size(), bytes - off));
        packed_filled = e.type;
      }
      if (pbuf.data() != nullptr) {
        groups = (int64_t)(bytes / packed_group_bytes(e.type, cols));
        corr.resize((size_t)cols / 32);
        if (packed_needs_corrections(e.type)) packed_corrections(e.type, xa, cols, corr.data());
        if ((int64_t)y.size() < groups * kPackRows) y.resize((size_t)(groups * kPackRows));
      }
    }
    std::vector<double> ts, tm, tp;
    for (int r = 0; r < reps; ++r) {  // ABC CBA: drift of the clock or the neighbours falls on all
      for (int k = 0; k < 3; ++k) {
        const int v = r % 2 == 0 ? k : 2 - k;
        if (v == 0) ts.push_back(time_pass(kt, e.type, false, buf.get(), rb, rows, cols, xa, y.data()));
        if (v == 1 && has_multi) tm.push_back(time_pass(kt, e.type, true, buf.get(), rb, rows, cols, xa, y.data()));
        if (v == 2 && groups > 0) tp.push_back(time_packed_pass(kt, e.type, pbuf.data(), groups, cols, xa, corr.data(), y.data()));
      }
    }
    const double mb = (double)rows * (double)rb;
    e.single_gbps = mb / std::max(median(ts), 1e-9) / 1e9;
    e.multi_gbps = has_multi ? mb / std::max(median(tm), 1e-9) / 1e9 : 0.0;
    e.variant = e.multi_gbps >= e.single_gbps * (1.0 + o.margin) ? RowVariant::kMulti : RowVariant::kSingle;
    e.packed_gbps = groups > 0 ? (double)groups * (double)packed_group_bytes(e.type, cols) / std::max(median(tp), 1e-9) / 1e9 : 0.0;
    const double rows_gbps = e.variant == RowVariant::kMulti ? e.multi_gbps : e.single_gbps;
    e.packed = groups > 0 && e.packed_gbps >= rows_gbps * (1.0 - o.pack_margin);
  }
  c.probe_bytes = bytes;
  apply_entries(kt, &c);
  c.probe_seconds = now_seconds() - t_start;
  return c;
}

std::string kernel_choice_cache_path(const char* xdg_cache_home, const char* home, const std::string& cpu, const std::string& table) {
  std::string dir;
  if (xdg_cache_home != nullptr && *xdg_cache_home != '\0')
    dir = xdg_cache_home;
  else if (home != nullptr && *home != '\0')
    dir = std::string(home) + "/.cache";
  else
    return "";
  return dir + "/pocket/kernel-choice-" + sanitize(cpu) + "-" + sanitize(table) + ".json";
}

std::string kernel_choice_cache_path(const KernelTable& kt) {
  return kernel_choice_cache_path(std::getenv("XDG_CACHE_HOME"), std::getenv("HOME"), cpu_model_name(), kt.name);
}

Status write_kernel_choice(const std::string& path, const KernelChoice& c) {
  nlohmann::json j;
  j["format"] = kCacheFormat;
  j["version"] = kCacheVersion;
  j["cpu"] = c.cpu;
  j["table"] = c.table;
  j["probe_bytes"] = c.probe_bytes;
  j["probe_seconds"] = c.probe_seconds;
  nlohmann::json arr = nlohmann::json::array();
  for (const KernelChoiceEntry& e : c.entries) {
    arr.push_back({{"type", traits(e.type).name},
                   {"width", width_class_name(e.width_class)},
                   {"probe_cols", width_class_probe_cols(e.width_class)},
                   {"variant", row_variant_name(e.variant)},
                   {"single_gbps", e.single_gbps},
                   {"multi_gbps", e.multi_gbps},
                   {"packed_gbps", e.packed_gbps},
                   {"packed", e.packed}});
  }
  j["choices"] = arr;
  const std::string text = j.dump(2) + "\n";
  std::error_code ec;
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  if (ec) return error(ErrorCode::kIoError, p.parent_path().string() + ": cannot create: " + ec.message());
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return error(ErrorCode::kIoError, tmp + ": cannot create: " + std::strerror(errno));
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    return error(ErrorCode::kIoError, path + ": cannot write: " + std::strerror(e));
  }
  return Status::ok();
}

Result<KernelChoice> read_kernel_choice(const std::string& path, const KernelTable& kt, const std::string& cpu) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return error(ErrorCode::kIoError, path + ": " + (errno == ENOENT ? std::string("no cache yet") : std::strerror(errno)));
  std::string text;
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0 && text.size() < (1u << 20)) text.append(chunk, n);
  std::fclose(f);
  auto bad = [&](const std::string& why) { return error(ErrorCode::kFormatError, path + ": " + why); };
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return bad("not JSON");
  auto str = [&](const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string(); };
  if (str("format") != kCacheFormat || !j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() != kCacheVersion)
    return bad("not a version " + std::to_string(kCacheVersion) + " kernel choice file");
  if (str("cpu") != cpu) return bad("measured on another CPU ('" + str("cpu") + "')");
  if (str("table") != kt.name) return bad("for another kernel table ('" + str("table") + "')");
  if (!j.contains("choices") || !j["choices"].is_array()) return bad("no choices");
  KernelChoice c = forced_kernel_choice(kt, RowVariant::kSingle);
  c.source = ChoiceSource::kCache;
  c.cpu = cpu;
  c.cache_path = path;
  if (j.contains("probe_bytes") && j["probe_bytes"].is_number_unsigned()) c.probe_bytes = j["probe_bytes"].get<size_t>();
  if (j.contains("probe_seconds") && j["probe_seconds"].is_number()) c.probe_seconds = j["probe_seconds"].get<double>();
  std::vector<bool> seen(c.entries.size(), false);
  for (const nlohmann::json& e : j["choices"]) {
    if (!e.is_object()) return bad("a choice is not an object");
    auto field = [&](const char* key) { return e.contains(key) && e[key].is_string() ? e[key].get<std::string>() : std::string(); };
    auto rate = [&](const char* key) { return e.contains(key) && e[key].is_number() ? e[key].get<double>() : -1.0; };
    const std::string variant = field("variant");
    const double rs = rate("single_gbps"), rm = rate("multi_gbps"), rp = rate("packed_gbps");
    if (!e.contains("packed") || !e["packed"].is_boolean()) return bad("a choice has no boolean 'packed'");
    if (variant != "single" && variant != "multi") return bad("variant '" + variant + "' is neither single nor multi");
    if (!(rs >= 0 && std::isfinite(rs) && rm >= 0 && std::isfinite(rm) && rp >= 0 && std::isfinite(rp))) return bad("rates must be finite and >= 0");
    bool matched = false;
    for (size_t i = 0; i < c.entries.size(); ++i) {
      KernelChoiceEntry& ce = c.entries[i];
      if (field("type") != traits(ce.type).name || field("width") != width_class_name(ce.width_class)) continue;
      ce.variant = variant == "multi" ? RowVariant::kMulti : RowVariant::kSingle;
      ce.single_gbps = rs;
      ce.multi_gbps = rm;
      ce.packed_gbps = rp;
      ce.packed = e["packed"].get<bool>();
      seen[i] = matched = true;
    }
    if (!matched) return bad("choice for " + field("type") + " " + field("width") + " that the table cannot make");
  }
  for (size_t i = 0; i < seen.size(); ++i)
    if (!seen[i]) return bad(std::string("no choice for ") + traits(c.entries[i].type).name + " " + width_class_name(c.entries[i].width_class));
  apply_entries(kt, &c);
  return c;
}

KernelChoice select_kernel_choice(const KernelTable& kt, KernelChoiceMode mode, const std::string& cache_path, const std::string& cpu,
                                  const KernelProbeFn& probe) {
  if (choosable_types(kt).empty()) {
    KernelChoice c = forced_kernel_choice(kt, RowVariant::kSingle);
    c.source = ChoiceSource::kNone;
    c.cpu = cpu;
    c.note = "the table has no multi-row kernels";
    return c;
  }
  if (mode == KernelChoiceMode::kSingle || mode == KernelChoiceMode::kMulti) {
    const bool multi = mode == KernelChoiceMode::kMulti;
    KernelChoice c = forced_kernel_choice(kt, multi ? RowVariant::kMulti : RowVariant::kSingle);
    c.cpu = cpu;
    c.note = multi ? "POCKET_KERNEL_CHOICE=multi" : "POCKET_KERNEL_CHOICE=single";
    return c;
  }
  std::string why = "POCKET_KERNEL_CHOICE=probe";
  if (mode == KernelChoiceMode::kAuto) {
    if (cache_path.empty()) {
      why = "no cache directory (HOME and XDG_CACHE_HOME unset)";
    } else {
      Result<KernelChoice> cached = read_kernel_choice(cache_path, kt, cpu);
      if (cached.is_ok()) return std::move(cached).value();
      why = cached.status().message();
    }
  }
  KernelChoice c = probe(kt);
  c.source = ChoiceSource::kProbe;
  c.table = kt.name;
  c.cpu = cpu;
  apply_entries(kt, &c);
  c.cache_path.clear();
  if (!c.cacheable) {
    why += "; not cached (the probe was cut short: slow build or emulator, or no memory)";
  } else if (!cache_path.empty()) {
    const Status s = write_kernel_choice(cache_path, c);
    if (s.is_ok())
      c.cache_path = cache_path;
    else
      why += "; kept in memory only: " + s.message();
  }
  c.note = why;
  return c;
}

namespace {

KernelChoice choose_for_process(const KernelTable& kt) {
  const char* env = std::getenv("POCKET_KERNEL_CHOICE");
  bool unknown = false;
  const KernelChoiceMode mode = parse_kernel_choice_mode(env, &unknown);
  if (unknown) log_message(LogLevel::kWarn, std::string("unknown POCKET_KERNEL_CHOICE='") + env + "' (auto|probe|single|multi); using auto");
  return select_kernel_choice(kt, mode, kernel_choice_cache_path(kt), cpu_model_name(), [](const KernelTable& t) { return probe_kernel_choice(t); });
}

}  // namespace

Status check_kernel_environment() {
#if defined(__aarch64__)
  const std::vector<std::string> tables = {"auto", "ref", "neon", "neon-dotprod"};
#else
  const std::vector<std::string> tables = {"auto", "ref", "avx2", "avx512vnni"};
#endif
  const char* k = std::getenv("POCKET_KERNELS");
  if (k != nullptr && *k != '\0' && std::find(tables.begin(), tables.end(), k) == tables.end()) {
    std::string list;
    for (const std::string& t : tables) list += (list.empty() ? "" : ", ") + t;
    return error(ErrorCode::kInvalidArgument, std::string("POCKET_KERNELS: unknown kernel table '") + k + "' (" + list + ")");
  }
  bool unknown = false;
  const char* c = std::getenv("POCKET_KERNEL_CHOICE");
  parse_kernel_choice_mode(c, &unknown);
  if (unknown) return error(ErrorCode::kInvalidArgument, std::string("POCKET_KERNEL_CHOICE: unknown mode '") + c + "' (auto, probe, single, multi)");
  const char* r = std::getenv("POCKET_REPACK");
  if (r != nullptr && *r != '\0' && std::strcmp(r, "on") != 0 && std::strcmp(r, "off") != 0)
    return error(ErrorCode::kInvalidArgument, std::string("POCKET_REPACK: unknown value '") + r + "' (on, off)");
  return Status::ok();
}

bool packing_enabled() {
  const char* r = std::getenv("POCKET_REPACK");
  return r == nullptr || std::strcmp(r, "off") != 0;
}

const KernelChoice& kernel_choice(const KernelTable& kt) {
  static const KernelTable& active = kernels();
  if (&kt == &active) {
    static const KernelChoice c = choose_for_process(active);
    return c;
  }
  // Other tables (tests comparing every table, POCKET_KERNELS-independent callers): once each, under a lock.
  static std::mutex mu;
  static std::map<const KernelTable*, std::unique_ptr<KernelChoice>> others;
  std::lock_guard<std::mutex> lock(mu);
  std::unique_ptr<KernelChoice>& p = others[&kt];
  if (!p) p = std::make_unique<KernelChoice>(choose_for_process(kt));
  return *p;
}

}  // namespace pocket
