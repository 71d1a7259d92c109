// GGUF metadata values: the 13 value types, with arrays stored as typed vectors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pocket {

enum class GgufType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};
constexpr uint32_t kGgufTypeCount = 13;

const char* gguf_type_name(GgufType t);
bool gguf_type_is_integer(GgufType t);
bool gguf_type_is_float(GgufType t);

struct GgufValue {
  GgufType type = GgufType::UINT32;
  // Scalars: integers in i (signed types) or u (unsigned), floats in f, bools in u (0/1).
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0.0;
  std::string str;
  // Arrays: elem_type tells which vector is filled.
  GgufType elem_type = GgufType::UINT8;
  std::vector<int64_t> arr_int;       // all integer and bool element types (uint64 values beyond int64 are rejected)
  std::vector<double> arr_float;      // FLOAT32 / FLOAT64
  std::vector<std::string> arr_str;   // STRING
  std::vector<GgufValue> arr_nested;  // ARRAY of ARRAY

  size_t array_size() const;

  static GgufValue make_u32(uint32_t v) {
    GgufValue x;
    x.type = GgufType::UINT32;
    x.u = v;
    x.i = v;
    return x;
  }
  static GgufValue make_i32(int32_t v) {
    GgufValue x;
    x.type = GgufType::INT32;
    x.i = v;
    x.u = (uint64_t)v;
    return x;
  }
  static GgufValue make_u64(uint64_t v) {
    GgufValue x;
    x.type = GgufType::UINT64;
    x.u = v;
    x.i = (int64_t)v;
    return x;
  }
  static GgufValue make_f32(float v) {
    GgufValue x;
    x.type = GgufType::FLOAT32;
    x.f = v;
    return x;
  }
  static GgufValue make_bool(bool v) {
    GgufValue x;
    x.type = GgufType::BOOL;
    x.u = v;
    x.i = v;
    return x;
  }
  static GgufValue make_string(std::string v) {
    GgufValue x;
    x.type = GgufType::STRING;
    x.str = std::move(v);
    return x;
  }
  static GgufValue make_str_array(std::vector<std::string> v) {
    GgufValue x;
    x.type = GgufType::ARRAY;
    x.elem_type = GgufType::STRING;
    x.arr_str = std::move(v);
    return x;
  }
  static GgufValue make_f32_array(std::vector<double> v) {
    GgufValue x;
    x.type = GgufType::ARRAY;
    x.elem_type = GgufType::FLOAT32;
    x.arr_float = std::move(v);
    return x;
  }
  static GgufValue make_i32_array(std::vector<int64_t> v) {
    GgufValue x;
    x.type = GgufType::ARRAY;
    x.elem_type = GgufType::INT32;
    x.arr_int = std::move(v);
    return x;
  }
};

// Human-readable one-line rendering (arrays abbreviated), for `pocket info`.
std::string gguf_value_to_string(const GgufValue& v, size_t max_items = 8);

}  // namespace pocket
