#include "format/gguf_value.h"

#include <sstream>

namespace pocket {

const char* gguf_type_name(GgufType t) {
  static const char* kNames[] = {"uint8", "int8",   "uint16", "int16",  "uint32", "int32",  "float32",
                                 "bool",  "string", "array",  "uint64", "int64",  "float64"};
  const uint32_t i = (uint32_t)t;
  return i < kGgufTypeCount ? kNames[i] : "invalid";
}

bool gguf_type_is_integer(GgufType t) {
  switch (t) {
    case GgufType::UINT8:
    case GgufType::INT8:
    case GgufType::UINT16:
    case GgufType::INT16:
    case GgufType::UINT32:
    case GgufType::INT32:
    case GgufType::UINT64:
    case GgufType::INT64: return true;
    default: return false;
  }
}

bool gguf_type_is_float(GgufType t) { return t == GgufType::FLOAT32 || t == GgufType::FLOAT64; }

size_t GgufValue::array_size() const {
  if (type != GgufType::ARRAY) return 0;
  if (elem_type == GgufType::STRING) return arr_str.size();
  if (elem_type == GgufType::ARRAY) return arr_nested.size();
  if (gguf_type_is_float(elem_type)) return arr_float.size();
  return arr_int.size();
}

std::string gguf_value_to_string(const GgufValue& v, size_t max_items) {
  std::ostringstream os;
  switch (v.type) {
    case GgufType::STRING: {
      std::string s = v.str.size() > 80 ? v.str.substr(0, 77) + "..." : v.str;
      for (char& c : s)
        if (c == '\n') c = ' ';
      os << '"' << s << '"';
      break;
    }
    case GgufType::FLOAT32:
    case GgufType::FLOAT64: os << v.f; break;
    case GgufType::BOOL: os << (v.u ? "true" : "false"); break;
    case GgufType::UINT8:
    case GgufType::UINT16:
    case GgufType::UINT32:
    case GgufType::UINT64: os << v.u; break;
    case GgufType::ARRAY: {
      const size_t n = v.array_size();
      os << "[" << gguf_type_name(v.elem_type) << " x " << n << "] ";
      for (size_t k = 0; k < n && k < max_items; ++k) {
        if (k) os << ", ";
        if (v.elem_type == GgufType::STRING)
          os << '"' << v.arr_str[k] << '"';
        else if (gguf_type_is_float(v.elem_type))
          os << v.arr_float[k];
        else if (v.elem_type == GgufType::ARRAY)
          os << "[...]";
        else
          os << v.arr_int[k];
      }
      if (n > max_items) os << ", ...";
      break;
    }
    default: os << v.i; break;
  }
  return os.str();
}

}  // namespace pocket
