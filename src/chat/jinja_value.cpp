#include "chat/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "chat/jinja_text.h"

namespace pocket::jinja {

const Value* Object::find(const std::string& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &items_[it->second].second;
}

void Object::set(const std::string& key, Value v) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    items_[it->second].second = std::move(v);
    return;
  }
  index_.emplace(key, items_.size());
  items_.emplace_back(key, std::move(v));
}

bool Object::erase(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return false;
  items_.erase(items_.begin() + (std::ptrdiff_t)it->second);
  index_.clear();
  for (size_t i = 0; i < items_.size(); ++i) index_.emplace(items_[i].first, i);
  return true;
}

Value Value::null() {
  Value v;
  v.kind = Kind::kNull;
  return v;
}
Value Value::of(bool b) {
  Value v;
  v.kind = Kind::kBool;
  v.boolean = b;
  return v;
}
Value Value::integer(double x) {
  Value v;
  v.kind = Kind::kInt;
  v.number = x;
  return v;
}
Value Value::real(double x) {
  Value v;
  v.kind = Kind::kFloat;
  v.number = x;
  return v;
}
Value Value::string(std::string s) {
  Value v;
  v.kind = Kind::kString;
  v.str = std::move(s);
  return v;
}
Value Value::make_array(Array items, Kind k) {
  Value v;
  v.kind = k;
  v.array = std::make_shared<Array>(std::move(items));
  return v;
}
Value Value::make_object(Kind k) {
  Value v;
  v.kind = k;
  v.object = std::make_shared<Object>();
  return v;
}
Value Value::function(Function f) {
  Value v;
  v.kind = Kind::kFunction;
  v.fn = std::make_shared<Function>(std::move(f));
  return v;
}

bool Value::truthy() const {
  switch (kind) {
    case Kind::kUndefined:
    case Kind::kNull: return false;
    case Kind::kBool: return boolean;
    case Kind::kInt:
    case Kind::kFloat: return number != 0 && !std::isnan(number);
    case Kind::kString: return !str.empty();
    case Kind::kArray:
    case Kind::kTuple: return !array->empty();
    case Kind::kObject:
    case Kind::kKwargs: return object->size() > 0;
    case Kind::kNamespace:  // a JavaScript Map is always truthy
    case Kind::kFunction: return true;
  }
  return false;
}

const char* Value::type_name() const {
  switch (kind) {
    case Kind::kUndefined: return "UndefinedValue";
    case Kind::kNull: return "NullValue";
    case Kind::kBool: return "BooleanValue";
    case Kind::kInt: return "IntegerValue";
    case Kind::kFloat: return "FloatValue";
    case Kind::kString: return "StringValue";
    case Kind::kArray: return "ArrayValue";
    case Kind::kTuple: return "TupleValue";
    case Kind::kObject: return "ObjectValue";
    case Kind::kKwargs: return "KeywordArgumentsValue";
    case Kind::kNamespace: return "NamespaceValue";
    case Kind::kFunction: return "FunctionValue";
  }
  return "?";
}

std::string js_number(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x == 0) return "0";
  // Shortest round-trip digits, then JavaScript's layout (ECMA-262 Number::toString).
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exp10 = std::atoi(sci.c_str() + e + 1);
  const int k = (int)digits.size(), n = exp10 + 1;
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string((size_t)(n - k), '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, (size_t)n) + "." + digits.substr((size_t)n);
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string((size_t)-n, '0') + digits;
  } else {
    out = digits.substr(0, 1);
    if (k > 1) out += "." + digits.substr(1);
    out += (n - 1 >= 0 ? "e+" : "e-") + std::to_string(std::abs(n - 1));
  }
  return sign + out;
}

std::string js_quote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    const unsigned char c = (unsigned char)ch;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          out += b;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

namespace {

// JavaScript's String(number) for a FloatValue: integral values keep one decimal, as Python prints them.
std::string float_string(double x) {
  if (x == 0 && std::signbit(x)) return "-0.0";
  if (std::isfinite(x) && std::fmod(x, 1.0) == 0 && std::fabs(x) < 1e21) return js_number(x) + ".0";
  return js_number(x);
}

// ensure_ascii: every UTF-16 unit from 0x7F up as \uXXXX.
std::string ascii_safe(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t n;
    const uint32_t cp = decode_at(s, i, &n);
    i += n;
    if (cp < 0x7F) {
      out += (char)cp;
      continue;
    }
    auto unit = [&](uint32_t u) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", u);
      out += b;
    };
    if (cp >= 0x10000) {
      unit(0xD800 + ((cp - 0x10000) >> 10));
      unit(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      unit(cp);
    }
  }
  return out;
}

}  // namespace

std::string to_json(const Value& v, const JsonOptions& o, bool undefined_to_null, int depth) {
  std::string item_sep = ", ", key_sep = ": ";
  if (o.has_separators) {
    item_sep = o.item_sep;
    key_sep = o.key_sep;
  } else if (o.indent > 0) {
    item_sep = ",";
  }
  switch (v.kind) {
    case Kind::kNull: return "null";
    case Kind::kUndefined: return undefined_to_null ? "null" : "undefined";
    case Kind::kInt:
    case Kind::kFloat: return std::isfinite(v.number) ? js_number(v.number) : "null";
    case Kind::kBool: return v.boolean ? "true" : "false";
    case Kind::kString: return o.ensure_ascii ? ascii_safe(js_quote(v.str)) : js_quote(v.str);
    case Kind::kArray:
    case Kind::kTuple:
    case Kind::kObject:
    case Kind::kKwargs:
    case Kind::kNamespace: {
      if (depth > 512) throw Error("tojson: nesting deeper than 512");
      const std::string ind = o.indent > 0 ? std::string((size_t)o.indent, ' ') : "";
      std::string base = "\n";
      for (int i = 0; i < depth; ++i) base += ind;
      const std::string child = base + ind;
      std::vector<std::string> core;
      if (v.is_array()) {
        for (const Value& x : *v.array) core.push_back(to_json(x, o, undefined_to_null, depth + 1));
      } else {
        std::vector<std::pair<std::string, Value>> entries = v.object->items();
        if (o.sort_keys) std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [key, val] : entries) {
          std::string k = js_quote(key);
          if (o.ensure_ascii) k = ascii_safe(k);
          std::string e = k + key_sep + to_json(val, o, undefined_to_null, depth + 1);
          core.push_back(o.indent > 0 ? child + e : e);
        }
      }
      const bool pretty = o.indent > 0 && !core.empty();
      std::string out = v.is_array() ? "[" : "{";
      if (pretty && v.is_array()) out += child;
      for (size_t i = 0; i < core.size(); ++i) {
        if (i) out += v.is_array() && pretty ? item_sep + child : item_sep;
        out += core[i];
      }
      if (pretty) out += base;
      return out + (v.is_array() ? "]" : "}");
    }
    case Kind::kFunction: throw Error("Cannot convert to JSON: FunctionValue");
  }
  return "null";
}

std::string Value::to_string() const {
  switch (kind) {
    case Kind::kUndefined: return "undefined";
    case Kind::kNull: return "null";
    case Kind::kBool: return boolean ? "true" : "false";
    case Kind::kInt: return js_number(number);
    case Kind::kFloat: return float_string(number);
    case Kind::kString: return str;
    case Kind::kArray:
    case Kind::kTuple:
    case Kind::kObject:
    case Kind::kKwargs:
    case Kind::kNamespace: return to_json(*this, JsonOptions{}, false);
    case Kind::kFunction: return "[function]";
  }
  return "";
}

std::string Value::raw_string() const {
  switch (kind) {
    case Kind::kInt:
    case Kind::kFloat: return js_number(number);
    case Kind::kArray:
    case Kind::kTuple: {  // Array.prototype.toString: the elements' toString, joined by commas
      std::string out;
      for (size_t i = 0; i < array->size(); ++i) out += (i ? "," : "") + (*array)[i].to_string();
      return out;
    }
    case Kind::kObject:
    case Kind::kKwargs:
    case Kind::kNamespace: return "[object Map]";
    default: return to_string();
  }
}

namespace {

// JavaScript's ToNumber(string): surrounding whitespace ignored, "" is 0, anything else unparsable NaN.
double js_to_number(const std::string& s) {
  const std::string t = trim(s);
  if (t.empty()) return 0;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size() ? v : std::nan("");
}

}  // namespace

bool loose_equals(const Value& a, const Value& b) {
  if (a.is_none() || b.is_none()) return a.is_none() && b.is_none();
  if (a.is_numeric_like() && b.is_numeric_like()) return a.numeric() == b.numeric();
  if (a.kind == Kind::kString && b.kind == Kind::kString) return a.str == b.str;
  if (a.kind == Kind::kString && b.is_numeric_like()) return js_to_number(a.str) == b.numeric();
  if (b.kind == Kind::kString && a.is_numeric_like()) return js_to_number(b.str) == a.numeric();
  return strict_equals(a, b);
}

bool strict_equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return a.number == b.number;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kUndefined:
    case Kind::kNull: return true;
    case Kind::kBool: return a.boolean == b.boolean;
    case Kind::kString: return a.str == b.str;
    case Kind::kArray:
    case Kind::kTuple: return a.array == b.array;
    case Kind::kObject:
    case Kind::kKwargs:
    case Kind::kNamespace: return a.object == b.object;
    case Kind::kFunction: return a.fn == b.fn;
    default: return false;
  }
}

Value from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::null();
    case nlohmann::ordered_json::value_t::boolean: return Value::of(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::integer((double)j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: return Value::integer((double)j.get<uint64_t>());
    case nlohmann::ordered_json::value_t::number_float: {
      const double d = j.get<double>();
      return std::isfinite(d) && std::fmod(d, 1.0) == 0 ? Value::integer(d) : Value::real(d);
    }
    case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      Array items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(from_json(x));
      return Value::make_array(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Value v = Value::make_object();
      for (auto it = j.begin(); it != j.end(); ++it) v.object->set(it.key(), from_json(it.value()));
      return v;
    }
    default: return Value::undefined();
  }
}

}  // namespace pocket::jinja
