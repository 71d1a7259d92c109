// Type-checked reads of JSON values (nlohmann::json without exceptions) for the Hugging Face readers:
// a missing required key or a value of the wrong type is an error naming the file and the key.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "core/mapped_file.h"
#include "pocket/status.h"

namespace pocket::hf_json {

using json = nlohmann::json;

inline Result<json> load_json(const std::string& path) {
  POCKET_ASSIGN_OR_RETURN(std::string text, read_text_file(path, 512u << 20));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return error(ErrorCode::kFormatError, path + ": not valid JSON");
  return j;
}

inline Status bad(const std::string& path, const std::string& field, const std::string& why) {
  return error(ErrorCode::kFormatError, path + ": " + field + ": " + why);
}

inline Status get_int(const json& j, const std::string& path, const std::string& key, bool required, int64_t def, int64_t* out) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) return bad(path, key, "required key is missing");
    *out = def;
    return Status::ok();
  }
  if (!j[key].is_number_integer() || j[key].get<int64_t>() <= 0 || j[key].get<int64_t>() > (1 << 22))
    return bad(path, key, "must be a positive integer");
  *out = j[key].get<int64_t>();
  return Status::ok();
}

// Optional key of one JSON type: absent or null (or j not an object) gives `def`; any other type is an
// error naming `field` (the key's full name in the file).
inline Status get_bool(const json& j, const std::string& path, const std::string& key, bool def, bool* out, const std::string& field = "") {
  *out = def;
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return Status::ok();
  if (!j[key].is_boolean()) return bad(path, field.empty() ? key : field, "must be true or false");
  *out = j[key].get<bool>();
  return Status::ok();
}

inline Status get_string(const json& j, const std::string& path, const std::string& key, const std::string& def, std::string* out,
                         const std::string& field = "") {
  *out = def;
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return Status::ok();
  if (!j[key].is_string()) return bad(path, field.empty() ? key : field, "must be a string");
  *out = j[key].get<std::string>();
  return Status::ok();
}

// A finite number in (lo, hi).
inline Status get_float(const json& j, const std::string& path, const std::string& key, double lo, double hi, float def, float* out) {
  *out = def;
  if (!j.contains(key) || j[key].is_null()) return Status::ok();
  if (!j[key].is_number()) return bad(path, key, "must be a number");
  const double v = j[key].get<double>();
  if (!std::isfinite(v) || v <= lo || v >= hi) return bad(path, key, "must be in (" + std::to_string(lo) + ", " + std::to_string(hi) + ")");
  *out = (float)v;
  return Status::ok();
}

}  // namespace pocket::hf_json
