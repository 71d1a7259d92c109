#include "plan/device_profile.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace pocket {

using nlohmann::json;

bool DeviceProfile::measured_rates(const std::string& type, int64_t cols, double* dec, double* pre) const {
  std::vector<const Measured*> pts;
  for (const Measured& m : measured)
    if (m.type == type) pts.push_back(&m);
  if (pts.empty()) return false;
  std::sort(pts.begin(), pts.end(), [](const Measured* a, const Measured* b) { return a->cols < b->cols; });
  if (cols <= pts.front()->cols || pts.size() == 1) {
    *dec = pts.front()->decode_gbps, *pre = pts.front()->prefill_gops;
    if (pts.size() == 1 || cols <= pts.front()->cols) return true;
  }
  if (cols >= pts.back()->cols) {
    *dec = pts.back()->decode_gbps, *pre = pts.back()->prefill_gops;
    return true;
  }
  for (size_t i = 1; i < pts.size(); ++i) {
    if (cols > pts[i]->cols) continue;
    const double a = std::log((double)pts[i - 1]->cols), b = std::log((double)pts[i]->cols);
    const double t = b > a ? (std::log((double)cols) - a) / (b - a) : 0.0;
    *dec = pts[i - 1]->decode_gbps + t * (pts[i]->decode_gbps - pts[i - 1]->decode_gbps);
    *pre = pts[i - 1]->prefill_gops + t * (pts[i]->prefill_gops - pts[i - 1]->prefill_gops);
    return true;
  }
  return true;
}

namespace {

constexpr const char* kSchema = "pocket-device/1";

// Field readers: each names the file and field in its error.
class Reader {
 public:
  Reader(const json& j, const std::string& file) : j_(j), file_(file) {}

  Status fail(const std::string& field, const std::string& why) const { return error(ErrorCode::kFormatError, file_ + ": " + field + ": " + why); }
  Status number(const char* field, double* out, double lo, double hi, bool required) {
    seen_.insert(field);
    if (!j_.contains(field)) return required ? fail(field, "missing (a number is required)") : Status::ok();
    const json& v = j_[field];
    if (!v.is_number()) return fail(field, "must be a number, got " + std::string(v.type_name()));
    const double x = v.get<double>();
    if (!(x >= lo && x <= hi)) {
      std::ostringstream os;
      os << "must be in [" << lo << ", " << hi << "], got " << x;
      return fail(field, os.str());
    }
    *out = x;
    return Status::ok();
  }
  Status integer(const char* field, int* out, int lo, int hi, bool required) {
    double x = *out;
    POCKET_RETURN_IF_ERROR(number(field, &x, lo, hi, required));
    if (x != (double)(int)x) return fail(field, "must be a whole number");
    *out = (int)x;
    return Status::ok();
  }
  Status text(const char* field, std::string* out, bool required) {
    seen_.insert(field);
    if (!j_.contains(field)) return required ? fail(field, "missing (a string is required)") : Status::ok();
    if (!j_[field].is_string()) return fail(field, "must be a string, got " + std::string(j_[field].type_name()));
    *out = j_[field].get<std::string>();
    return Status::ok();
  }
  Status boolean(const char* field, bool* out) {
    seen_.insert(field);
    if (!j_.contains(field)) return Status::ok();
    if (!j_[field].is_boolean()) return fail(field, "must be true or false, got " + std::string(j_[field].type_name()));
    *out = j_[field].get<bool>();
    return Status::ok();
  }
  // A misspelt field would otherwise silently take its default.
  Status no_unknown_fields() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!seen_.count(it.key())) return fail(it.key(), "unknown field (see docs/planner.md for the schema)");
    return Status::ok();
  }
  void allow(const char* field) { seen_.insert(field); }

 private:
  const json& j_;
  std::string file_;
  std::set<std::string> seen_;
};

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

std::string read_text(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = (bool)in;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int class_rank(const std::string& c) {
  static const char* order[] = {"budget-phone", "flagship-phone", "tablet", "edge", "chip", "host"};
  for (int i = 0; i < 6; ++i)
    if (c == order[i]) return i;
  return 6;
}

}  // namespace

Result<DeviceProfile> parse_device_profile(const std::string& text, const std::string& file) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return error(ErrorCode::kFormatError, file + ": not valid JSON");
  if (!j.is_object()) return error(ErrorCode::kFormatError, file + ": the profile must be a JSON object");
  Reader r(j, file);
  DeviceProfile p;
  p.file = file;
  std::string schema;
  POCKET_RETURN_IF_ERROR(r.text("schema", &schema, true));
  if (schema != kSchema) return r.fail("schema", "must be \"" + std::string(kSchema) + "\", got \"" + schema + "\"");
  POCKET_RETURN_IF_ERROR(r.text("name", &p.name, true));
  if (!valid_name(p.name)) return r.fail("name", "must be 1-64 characters of letters, digits, '-', '_' or '.'");
  POCKET_RETURN_IF_ERROR(r.text("class", &p.device_class, true));
  POCKET_RETURN_IF_ERROR(r.text("description", &p.description, false));
  POCKET_RETURN_IF_ERROR(r.number("ram_gb", &p.ram_gb, 0.01, 4096, true));
  POCKET_RETURN_IF_ERROR(r.number("usable_ram_gb", &p.usable_ram_gb, 0.01, 4096, true));
  if (p.usable_ram_gb > p.ram_gb) return r.fail("usable_ram_gb", "exceeds ram_gb");
  POCKET_RETURN_IF_ERROR(r.number("bandwidth_gbps", &p.bandwidth_gbps, 0.1, 100000, true));
  POCKET_RETURN_IF_ERROR(r.number("decode_efficiency", &p.decode_efficiency, 0.01, 1, false));
  POCKET_RETURN_IF_ERROR(r.integer("cpu_cores", &p.cpu_cores, 1, 1024, true));
  p.threads = p.cpu_cores;
  POCKET_RETURN_IF_ERROR(r.integer("threads", &p.threads, 1, 1024, false));
  if (p.threads > p.cpu_cores) return r.fail("threads", "exceeds cpu_cores");
  POCKET_RETURN_IF_ERROR(r.number("cpu_int8_gops", &p.cpu_int8_gops, 0.1, 1e7, true));
  POCKET_RETURN_IF_ERROR(r.number("cpu_fp32_gflops", &p.cpu_fp32_gflops, 0.1, 1e7, true));
  POCKET_RETURN_IF_ERROR(r.number("compute_efficiency", &p.compute_efficiency, 0.01, 1, false));
  POCKET_RETURN_IF_ERROR(r.number("power_w", &p.power_w, 0, 10000, false));
  POCKET_RETURN_IF_ERROR(r.number("npu_tops", &p.npu_tops, 0, 100000, false));
  POCKET_RETURN_IF_ERROR(r.boolean("int8_dot", &p.int8_dot));
  POCKET_RETURN_IF_ERROR(r.boolean("int4", &p.int4));
  POCKET_RETURN_IF_ERROR(r.number("sync_us_per_layer", &p.sync_us_per_layer, 0, 1e6, false));
  r.allow("measured");
  if (j.contains("measured")) {
    const json& m = j["measured"];
    if (!m.is_array()) return r.fail("measured", "must be an array of {type, cols, decode_gbps, prefill_gops}");
    for (size_t i = 0; i < m.size(); ++i) {
      const std::string field = "measured[" + std::to_string(i) + "]";
      if (!m[i].is_object()) return r.fail(field, "must be an object");
      Reader mr(m[i], file + ": " + field);
      DeviceProfile::Measured e;
      POCKET_RETURN_IF_ERROR(mr.text("type", &e.type, true));
      int cols = 2048;
      POCKET_RETURN_IF_ERROR(mr.integer("cols", &cols, 1, 1 << 20, false));
      e.cols = cols;
      POCKET_RETURN_IF_ERROR(mr.number("decode_gbps", &e.decode_gbps, 0.001, 100000, true));
      POCKET_RETURN_IF_ERROR(mr.number("prefill_gops", &e.prefill_gops, 0.001, 1e7, true));
      POCKET_RETURN_IF_ERROR(mr.no_unknown_fields());
      p.measured.push_back(e);
    }
  }
  r.allow("sources");
  if (j.contains("sources")) {
    const json& s = j["sources"];
    if (!s.is_array()) return r.fail("sources", "must be an array of strings");
    for (const json& x : s) {
      if (!x.is_string()) return r.fail("sources", "must be an array of strings");
      p.sources.push_back(x.get<std::string>());
    }
  }
  POCKET_RETURN_IF_ERROR(r.no_unknown_fields());
  return p;
}

Result<DeviceProfile> load_device_profile(const std::string& path) {
  bool ok = false;
  const std::string text = read_text(path, &ok);
  if (!ok) return error(ErrorCode::kIoError, path + ": cannot open device profile");
  if (text.size() > (1u << 20)) return error(ErrorCode::kFormatError, path + ": larger than 1 MiB; not a device profile");
  return parse_device_profile(text, path);
}

std::string device_profile_json(const DeviceProfile& p) {
  json j = {{"schema", kSchema},
            {"name", p.name},
            {"class", p.device_class},
            {"description", p.description},
            {"ram_gb", p.ram_gb},
            {"usable_ram_gb", p.usable_ram_gb},
            {"bandwidth_gbps", p.bandwidth_gbps},
            {"decode_efficiency", p.decode_efficiency},
            {"cpu_cores", p.cpu_cores},
            {"threads", p.threads},
            {"cpu_int8_gops", p.cpu_int8_gops},
            {"cpu_fp32_gflops", p.cpu_fp32_gflops},
            {"compute_efficiency", p.compute_efficiency},
            {"power_w", p.power_w},
            {"npu_tops", p.npu_tops},
            {"int8_dot", p.int8_dot},
            {"int4", p.int4},
            {"sync_us_per_layer", p.sync_us_per_layer},
            {"sources", p.sources}};
  json m = json::array();
  for (const auto& e : p.measured)
    m.push_back({{"type", e.type}, {"cols", e.cols}, {"decode_gbps", e.decode_gbps}, {"prefill_gops", e.prefill_gops}});
  j["measured"] = m;
  return j.dump(2) + "\n";
}

std::vector<std::string> device_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("POCKET_DEVICES")) {
    std::string s = env;
    size_t a = 0;
    while (a <= s.size()) {
      const size_t b = s.find(':', a);
      const std::string d = s.substr(a, b == std::string::npos ? std::string::npos : b - a);
      if (!d.empty()) dirs.push_back(d);
      if (b == std::string::npos) break;
      a = b + 1;
    }
  }
  if (const char* home = std::getenv("HOME")) dirs.push_back(std::string(home) + "/.config/pocket/devices");
  dirs.push_back(POCKET_DEVICES_DIR);  // the source tree's devices/ (a build that is not installed)
#ifdef POCKET_INSTALLED_DEVICES_DIR
  dirs.push_back(POCKET_INSTALLED_DEVICES_DIR);  // where cmake --install puts them
#endif
  return dirs;
}

Result<DeviceProfile> find_device_profile(const std::string& name) {
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) return load_device_profile(name);
  if (!valid_name(name))
    return Status(ErrorCode::kInvalidArgument, "name_or_path: '" + name + "' is neither a profile name nor a .json file", "name_or_path");
  for (const std::string& d : device_dirs()) {
    const std::string path = d + "/" + name + ".json";
    std::ifstream probe(path);
    if (probe) return load_device_profile(path);
  }
  std::string names;
  auto all = all_device_profiles();
  if (all.is_ok())
    for (const auto& p : all.value()) names += (names.empty() ? "" : ", ") + p.name;
  std::string hint = name == "host" ? " (run `pocket calibrate` to measure this machine)" : "";
  return Status(ErrorCode::kInvalidArgument, "name_or_path: no profile named '" + name + "'" + hint + "; known: " + names, "name_or_path");
}

Result<std::vector<DeviceProfile>> all_device_profiles() {
  std::vector<DeviceProfile> out;
  std::set<std::string> seen;
  for (const std::string& d : device_dirs()) {
    DIR* dir = opendir(d.c_str());
    if (dir == nullptr) continue;
    std::vector<std::string> files;
    while (dirent* e = readdir(dir)) {
      const std::string f = e->d_name;
      if (f.size() > 5 && f.compare(f.size() - 5, 5, ".json") == 0) files.push_back(f);
    }
    closedir(dir);
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      POCKET_ASSIGN_OR_RETURN(DeviceProfile p, load_device_profile(d + "/" + f));
      if (seen.insert(p.name).second) out.push_back(std::move(p));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const DeviceProfile& a, const DeviceProfile& b) {
    if (class_rank(a.device_class) != class_rank(b.device_class)) return class_rank(a.device_class) < class_rank(b.device_class);
    return a.ram_gb < b.ram_gb;
  });
  return out;
}

}  // namespace pocket
