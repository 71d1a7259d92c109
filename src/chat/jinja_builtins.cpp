// Jinja builtins with @huggingface/jinja's behaviour: tests (`is defined`), the methods of strings and
// dicts (`s.startswith`, `d.items()`), and the filters (`| tojson`, `| trim`, `| selectattr`, ...).
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "chat/jinja_interpreter.h"
#include "chat/jinja_text.h"

namespace pocket::jinja {

namespace {

std::string ascii_upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = (char)(c - 32);
  return s;
}
std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
  return s;
}

// /\b\w/g uppercased: the first word character after a non-word one.
std::string title_case(std::string s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (word_char((unsigned char)s[i]) && (i == 0 || !word_char((unsigned char)s[i - 1])) && s[i] >= 'a' && s[i] <= 'z') s[i] = (char)(s[i] - 32);
  return s;
}

// String length in UTF-16 units, as JavaScript counts it.
double utf16_length(const std::string& s) {
  double n = 0;
  for (size_t i = 0; i < s.size();) {
    size_t len;
    const uint32_t cp = decode_at(s, i, &len);
    n += cp >= 0x10000 ? 2 : 1;
    i += len;
  }
  return n;
}

// parseInt(s, 10) / parseFloat(s): leading whitespace, then the longest number prefix; NaN if none.
double parse_int(const std::string& s) {
  const std::string t = trim_start(s);
  size_t i = 0;
  double sign = 1;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) sign = t[i++] == '-' ? -1 : 1;
  const size_t start = i;
  double v = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') v = v * 10 + (t[i++] - '0');
  return i == start ? std::nan("") : sign * v;
}
double parse_float(const std::string& s) {
  const std::string t = trim_start(s);
  size_t i = 0;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
  if (t.compare(i, 8, "Infinity") == 0) return t[0] == '-' ? -INFINITY : INFINITY;
  size_t digits = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++digits;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return std::nan("");
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    size_t j = i + 1;
    if (j < t.size() && (t[j] == '+' || t[j] == '-')) ++j;
    const size_t exp_start = j;
    while (j < t.size() && t[j] >= '0' && t[j] <= '9') ++j;
    if (j > exp_start) i = j;
  }
  return std::strtod(t.substr(0, i).c_str(), nullptr);
}

Value num_or_int(double v, bool integer) { return integer ? Value::integer(v) : Value::real(v); }

// The reference's compareRuntimeValues (sort, dictsort).
int compare(const Value& a, const Value& b, bool case_sensitive) {
  if (a.kind == Kind::kNull && b.kind == Kind::kNull) return 0;
  if (a.kind == Kind::kNull || b.kind == Kind::kNull) throw Error(std::string("Cannot compare ") + a.type_name() + " with " + b.type_name());
  if (a.kind == Kind::kUndefined && b.kind == Kind::kUndefined) return 0;
  if (a.kind == Kind::kUndefined || b.kind == Kind::kUndefined)
    throw Error(std::string("Cannot compare ") + a.type_name() + " with " + b.type_name());
  if (a.is_numeric_like() && b.is_numeric_like()) return a.numeric() < b.numeric() ? -1 : a.numeric() > b.numeric() ? 1 : 0;
  if (a.kind != b.kind) throw Error(std::string("Cannot compare different types: ") + a.type_name() + " and " + b.type_name());
  if (a.kind != Kind::kString) throw Error(std::string("Cannot compare type: ") + a.type_name());
  const std::string x = case_sensitive ? a.str : ascii_lower(a.str), y = case_sensitive ? b.str : ascii_lower(b.str);
  return x < y ? -1 : x > y ? 1 : 0;
}

void sort_values(Array& items, const std::function<int(const Value&, const Value&)>& cmp) {
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) { return cmp(a, b) < 0; });
}

// "details.priority" / "items.0" through objects and arrays; undefined when a step is missing.
Value attribute_path(const Value& item, const std::string& path) {
  Value v = item;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (v.is_container()) {
      const Value* f = v.object->find(part);
      v = f ? *f : Value::undefined();
    } else if (v.is_array()) {
      const double idx = parse_int(part);
      if (std::isnan(idx) || idx < 0 || idx >= (double)v.array->size()) return Value::undefined();
      Value next = (*v.array)[(size_t)idx];
      v = next;
    } else {
      return Value::undefined();
    }
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

// JavaScript's Array.prototype.join over the raw values (null and undefined join as "").
std::string join_raw(const Array& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    if (!items[i].is_none()) out += items[i].raw_string();
  }
  return out;
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, double count) {
  if (count == 0) return s;
  double remaining = count < 0 ? INFINITY : count;
  std::string out;
  if (from.empty()) {  // /(?=)/gu: before every code point and at the end
    const std::vector<std::string> cps = code_points(s);
    for (const std::string& c : cps) {
      if (remaining > 0) out += to, --remaining;
      out += c;
    }
    if (remaining > 0) out += to;
    return out;
  }
  size_t pos = 0;
  while (true) {
    const size_t hit = remaining > 0 ? s.find(from, pos) : std::string::npos;
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
    --remaining;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

Value kwarg(const Object& kw, const char* name) {
  const Value* v = kw.find(name);
  return v ? *v : Value::undefined();
}
// args[i] ?? kwargs[name] ?? fallback
Value arg_or(const std::vector<Value>& args, size_t i, const Object& kw, const char* name, Value fallback) {
  if (i < args.size()) return args[i];
  const Value v = kwarg(kw, name);
  return v.kind == Kind::kUndefined ? fallback : v;
}

Value string_method(const Value& self, const std::string& name) {
  const std::string s = self.str;
  auto fn = [](auto f) { return Value::function([f](std::vector<Value>& args, const std::shared_ptr<Env>&) { return f(args); }); };
  if (name == "upper") return fn([s](std::vector<Value>&) { return Value::string(ascii_upper(s)); });
  if (name == "lower") return fn([s](std::vector<Value>&) { return Value::string(ascii_lower(s)); });
  if (name == "strip") return fn([s](std::vector<Value>&) { return Value::string(trim(s)); });
  if (name == "rstrip") return fn([s](std::vector<Value>&) { return Value::string(trim_end(s)); });
  if (name == "lstrip") return fn([s](std::vector<Value>&) { return Value::string(trim_start(s)); });
  if (name == "title") return fn([s](std::vector<Value>&) { return Value::string(title_case(s)); });
  if (name == "capitalize") return fn([s](std::vector<Value>&) { return Value::string(s.empty() ? s : ascii_upper(s.substr(0, 1)) + s.substr(1)); });
  if (name == "length") return Value::integer(utf16_length(s));
  if (name == "startswith" || name == "endswith") {
    const bool start = name == "startswith";
    return fn([s, start, name](std::vector<Value>& args) {
      if (args.empty()) throw Error(name + "() requires at least one argument");
      auto test = [&](const std::string& p) {
        return p.size() <= s.size() && (start ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0);
      };
      if (args[0].kind == Kind::kString) return Value::of(test(args[0].str));
      if (args[0].is_array()) {
        for (const Value& x : *args[0].array) {
          if (x.kind != Kind::kString) throw Error(name + "() tuple elements must be strings");
          if (test(x.str)) return Value::of(true);
        }
        return Value::of(false);
      }
      throw Error(name + "() argument must be a string or tuple of strings");
    });
  }
  if (name == "split") {
    return fn([s](std::vector<Value>& args) {
      const Value sep = args.size() > 0 ? args[0] : Value::null();
      if (sep.kind != Kind::kString && sep.kind != Kind::kNull) throw Error("sep argument must be a string or null");
      const Value maxv = args.size() > 1 ? args[1] : Value::integer(-1);
      if (maxv.kind != Kind::kInt) throw Error("maxsplit argument must be a number");
      const double maxsplit = maxv.number;
      std::vector<std::string> parts;
      if (sep.kind == Kind::kNull) {
        const std::string text = trim_start(s);
        size_t i = 0;
        while (i < text.size()) {
          size_t n;
          while ((n = space_len(text, i)) > 0) i += n;
          if (i >= text.size()) break;
          size_t j = i;
          while (j < text.size() && space_len(text, j) == 0) {
            size_t len;
            decode_at(text, j, &len);
            j += len;
          }
          if (maxsplit != -1 && (double)parts.size() >= maxsplit) {
            parts.push_back(text.substr(i));
            break;
          }
          parts.push_back(text.substr(i, j - i));
          i = j;
        }
      } else {
        if (sep.str.empty()) throw Error("empty separator");
        size_t pos = 0;
        while (true) {
          const size_t hit = s.find(sep.str, pos);
          if (hit == std::string::npos) break;
          parts.push_back(s.substr(pos, hit - pos));
          pos = hit + sep.str.size();
        }
        parts.push_back(s.substr(pos));
        if (maxsplit != -1 && (double)parts.size() > maxsplit) {
          const size_t keep = maxsplit < 0 ? 0 : (size_t)maxsplit;
          std::string rest;
          for (size_t i = keep; i < parts.size(); ++i) rest += (i > keep ? sep.str : "") + parts[i];
          parts.resize(keep);
          parts.push_back(rest);
        }
      }
      Array out;
      for (std::string& p : parts) out.push_back(Value::string(std::move(p)));
      return Value::make_array(std::move(out));
    });
  }
  if (name == "replace") {
    return fn([s](std::vector<Value>& args) {
      if (args.size() < 2) throw Error("replace() requires at least two arguments");
      if (args[0].kind != Kind::kString || args[1].kind != Kind::kString) throw Error("replace() arguments must be strings");
      Value count = Value::null();
      if (args.size() > 2) {
        count = args[2];
        if (count.kind == Kind::kKwargs) {
          const Value* c = count.object->find("count");
          count = c ? *c : Value::null();
        }
      }
      if (count.kind != Kind::kInt && count.kind != Kind::kNull) throw Error("replace() count argument must be a number or null");
      return Value::string(replace_all(s, args[0].str, args[1].str, count.kind == Kind::kNull ? -1 : count.number));
    });
  }
  return Value::undefined();
}

Value items_of(const Value& o) {
  Array out;
  for (const auto& [k, v] : o.object->items()) out.push_back(Value::make_array({Value::string(k), v}));
  return Value::make_array(std::move(out));
}

Value object_method(const Value& self, const std::string& name) {
  auto fn = [](auto f) { return Value::function([f](std::vector<Value>& args, const std::shared_ptr<Env>&) { return f(args); }); };
  if (name == "get")
    return fn([self](std::vector<Value>& args) {
      const Value key = args.empty() ? Value::undefined() : args[0];
      if (key.kind != Kind::kString) throw Error(std::string("Object key must be a string: got ") + key.type_name());
      if (const Value* v = self.object->find(key.str)) return *v;
      return args.size() > 1 ? args[1] : Value::null();
    });
  if (name == "items") return fn([self](std::vector<Value>&) { return items_of(self); });
  if (name == "keys")
    return fn([self](std::vector<Value>&) {
      Array out;
      for (const auto& [k, v] : self.object->items()) out.push_back(Value::string(k));
      return Value::make_array(std::move(out));
    });
  if (name == "values")
    return fn([self](std::vector<Value>&) {
      Array out;
      for (const auto& [k, v] : self.object->items()) out.push_back(v);
      return Value::make_array(std::move(out));
    });
  if (name == "dictsort")
    return fn([self](std::vector<Value>& args) {
      Object kw;
      std::vector<Value> pos;
      for (const Value& a : args) {
        if (a.kind == Kind::kKwargs)
          kw = *a.object;
        else
          pos.push_back(a);
      }
      const Value cs = arg_or(pos, 0, kw, "case_sensitive", Value::of(false));
      if (cs.kind != Kind::kBool) throw Error("case_sensitive must be a boolean");
      const Value by = arg_or(pos, 1, kw, "by", Value::string("key"));
      if (by.kind != Kind::kString) throw Error("by must be a string");
      if (by.str != "key" && by.str != "value") throw Error("by must be either 'key' or 'value'");
      const Value rev = arg_or(pos, 2, kw, "reverse", Value::of(false));
      if (rev.kind != Kind::kBool) throw Error("reverse must be a boolean");
      Array items = *items_of(self).array;
      const size_t index = by.str == "key" ? 0 : 1;
      sort_values(items, [&](const Value& a, const Value& b) {
        const int r = compare((*a.array)[index], (*b.array)[index], cs.boolean);
        return rev.boolean ? -r : r;
      });
      return Value::make_array(std::move(items));
    });
  return Value::undefined();
}

std::string indent_lines(const std::string& s, const std::string& pad, bool first, bool blank) {
  std::string out;
  size_t start = 0;
  for (size_t line = 0;; ++line) {
    const size_t nl = s.find('\n', start);
    const std::string x = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (line) out += '\n';
    out += ((!first && line == 0) || (!blank && x.empty())) ? x : pad + x;
    if (nl == std::string::npos) return out;
    start = nl + 1;
  }
}

}  // namespace

bool has_test(const std::string& n) {
  static const char* const kTests[] = {"boolean",  "callable", "odd",      "even",  "false", "true",    "none",      "string",  "number", "integer",
                                       "iterable", "mapping",  "sequence", "lower", "upper", "defined", "undefined", "equalto", "eq"};
  return std::any_of(std::begin(kTests), std::end(kTests), [&](const char* t) { return n == t; });
}

bool run_test(const std::string& n, const Value& v) { return run_test_with(n, v, Value::undefined()); }

bool run_test_with(const std::string& n, const Value& v, const Value& arg) {
  if (n == "boolean") return v.kind == Kind::kBool;
  if (n == "callable") return v.kind == Kind::kFunction;
  if (n == "odd" || n == "even") {
    if (v.kind != Kind::kInt) throw Error("cannot " + n + " on " + v.type_name());
    const bool odd = std::fmod(v.number, 2) != 0;
    return n == "odd" ? odd : !odd;
  }
  if (n == "false") return v.kind == Kind::kBool && !v.boolean;
  if (n == "true") return v.kind == Kind::kBool && v.boolean;
  if (n == "none") return v.kind == Kind::kNull;
  if (n == "string") return v.kind == Kind::kString;
  if (n == "number") return v.is_number();
  if (n == "integer") return v.kind == Kind::kInt;
  if (n == "iterable") return v.kind == Kind::kArray || v.kind == Kind::kString;
  if (n == "mapping") return v.is_object();
  if (n == "sequence") return v.is_array() || v.is_object() || v.kind == Kind::kString;
  if (n == "lower") return v.kind == Kind::kString && v.str == ascii_lower(v.str);
  if (n == "upper") return v.kind == Kind::kString && v.str == ascii_upper(v.str);
  if (n == "defined") return v.kind != Kind::kUndefined;
  if (n == "undefined") return v.kind == Kind::kUndefined;
  if (n == "equalto" || n == "eq") return strict_equals(v, arg);  // the reference compares .value with ===
  throw Error("Unknown test: " + n);
}

Value builtin_member(const Value& object, const std::string& name, Interpreter&) {
  if (object.kind == Kind::kString) return string_method(object, name);
  if (object.is_object()) return object_method(object, name);
  if (object.is_array() && name == "length") return Value::integer((double)object.array->size());
  return Value::undefined();
}

Value slice_value(const Value& object, const Value& start, const Value& stop, const Value& step) {
  if (!object.is_array() && object.kind != Kind::kString) throw Error("Slice object must be an array or string");
  for (const auto* p : {&start, &stop, &step})
    if (p->kind != Kind::kInt && p->kind != Kind::kUndefined) throw Error("Slice start, stop and step must be integers or undefined");
  std::vector<Value> chars;
  const std::vector<Value>* items = object.is_array() ? object.array.get() : nullptr;
  if (!items) {
    for (std::string& c : code_points(object.str)) chars.push_back(Value::string(std::move(c)));
    items = &chars;
  }
  const double len = (double)items->size();
  const double st = step.kind == Kind::kUndefined ? 1 : step.number;
  const double dir = st > 0 ? 1 : st < 0 ? -1 : 0;
  double a, b;
  if (dir >= 0) {
    a = start.kind == Kind::kUndefined ? 0 : start.number;
    a = a < 0 ? std::max(len + a, 0.0) : std::min(a, len);
    b = stop.kind == Kind::kUndefined ? len : stop.number;
    b = b < 0 ? std::max(len + b, 0.0) : std::min(b, len);
  } else {
    a = start.kind == Kind::kUndefined ? len - 1 : start.number;
    a = a < 0 ? std::max(len + a, -1.0) : std::min(a, len - 1);
    b = stop.kind == Kind::kUndefined ? -1 : stop.number;
    b = b < -1 ? std::max(len + b, -1.0) : std::min(b, len - 1);
  }
  Array out;
  if (dir != 0)
    for (double i = a; dir * i < dir * b; i += st) out.push_back((*items)[(size_t)i]);
  if (object.is_array()) return Value::make_array(std::move(out));
  std::string s;
  for (const Value& c : out) s += c.str;
  return Value::string(std::move(s));
}

Value filter_by_name(const Value& v, const std::string& f, Interpreter& in, const std::shared_ptr<Env>&) {
  if (f == "safe") return v;
  if (f == "tojson") return Value::string(in.checked(to_json(v, JsonOptions{})));
  if (v.is_array()) {
    const Array& a = *v.array;
    if (f == "list") return v;
    if (f == "first") return a.empty() ? Value::undefined() : a.front();
    if (f == "last") return a.empty() ? Value::undefined() : a.back();
    if (f == "length") return Value::integer((double)a.size());
    if (f == "reverse") return Value::make_array(Array(a.rbegin(), a.rend()));
    if (f == "sort") {
      Array items = a;
      sort_values(items, [](const Value& x, const Value& y) { return compare(x, y, false); });
      return Value::make_array(std::move(items));
    }
    if (f == "join") return Value::string(in.checked(join_raw(a, "")));
    if (f == "string") return Value::string(to_json(v, JsonOptions{}, false));
    if (f == "unique") {
      Array out;
      for (const Value& x : a)
        if (std::none_of(out.begin(), out.end(), [&](const Value& y) { return strict_equals(x, y); })) out.push_back(x);
      return Value::make_array(std::move(out));
    }
    throw Error("Unknown ArrayValue filter: " + f);
  }
  if (v.kind == Kind::kString) {
    if (f == "length" || f == "upper" || f == "lower" || f == "title" || f == "capitalize") {
      const Value m = string_method(v, f);
      if (m.kind == Kind::kFunction) {
        std::vector<Value> none;
        return (*m.fn)(none, nullptr);
      }
      return m;
    }
    if (f == "trim") return Value::string(trim(v.str));
    if (f == "indent") return Value::string(indent_lines(v.str, "    ", false, false));
    if (f == "join" || f == "string") return v;
    if (f == "int") {
      const double x = parse_int(v.str);
      return Value::integer(std::isnan(x) ? 0 : x);
    }
    if (f == "float") {
      const double x = parse_float(v.str);
      return Value::real(std::isnan(x) ? 0 : x);
    }
    throw Error("Unknown StringValue filter: " + f);
  }
  if (v.is_number()) {
    if (f == "abs") return num_or_int(std::fabs(v.number), v.kind == Kind::kInt);
    if (f == "int") return Value::integer(std::floor(v.number));
    if (f == "float") return Value::real(v.number);
    if (f == "string") return Value::string(v.to_string());
    throw Error("Unknown NumericValue filter: " + f);
  }
  if (v.is_object()) {
    if (f == "items") return items_of(v);
    if (f == "length") return Value::integer((double)v.object->size());
    const Value m = object_method(v, f);
    if (m.kind == Kind::kFunction) {
      std::vector<Value> none;
      return (*m.fn)(none, nullptr);
    }
    throw Error("Unknown ObjectValue filter: " + f);
  }
  if (v.kind == Kind::kBool) {
    if (f == "bool") return v;
    if (f == "int") return Value::integer(v.boolean ? 1 : 0);
    if (f == "float") return Value::real(v.boolean ? 1 : 0);
    if (f == "string") return Value::string(v.boolean ? "true" : "false");
    throw Error("Unknown BooleanValue filter: " + f);
  }
  throw Error("Cannot apply filter \"" + f + "\" to type: " + v.type_name());
}

Value filter_call(const Value& v, const std::string& f, const std::vector<AstPtr>& arg_nodes, Interpreter& in, const std::shared_ptr<Env>& env) {
  std::vector<Value> args;
  Object kw;
  auto eval_args = [&] { in.evaluate_arguments(arg_nodes, env, &args, &kw); };
  if (f == "tojson") {
    eval_args();
    JsonOptions o;
    const Value indent = kwarg(kw, "indent");
    if (indent.kind != Kind::kInt && !indent.is_none()) throw Error("If set, indent must be a number");
    if (indent.kind == Kind::kInt) o.indent = (int)std::min(indent.number, 64.0);
    const Value ascii = kwarg(kw, "ensure_ascii");
    if (ascii.kind != Kind::kBool && ascii.kind != Kind::kUndefined) throw Error("If set, ensure_ascii must be a boolean");
    o.ensure_ascii = ascii.kind == Kind::kBool && ascii.boolean;
    const Value sort = kwarg(kw, "sort_keys");
    if (sort.kind != Kind::kBool && sort.kind != Kind::kUndefined) throw Error("If set, sort_keys must be a boolean");
    o.sort_keys = sort.kind == Kind::kBool && sort.boolean;
    const Value seps = kwarg(kw, "separators");
    if (seps.is_array()) {
      if (seps.array->size() != 2 || (*seps.array)[0].kind != Kind::kString || (*seps.array)[1].kind != Kind::kString)
        throw Error("separators must be a tuple of two strings");
      o.has_separators = true;
      o.item_sep = (*seps.array)[0].str;
      o.key_sep = (*seps.array)[1].str;
    } else if (!seps.is_none()) {
      throw Error("If set, separators must be a tuple of two strings");
    }
    return Value::string(in.checked(to_json(v, o)));
  }
  if (f == "join") {
    Array items;
    if (v.kind == Kind::kString) {
      for (std::string& c : code_points(v.str)) items.push_back(Value::string(std::move(c)));
    } else if (v.is_array()) {
      items = *v.array;
    } else {
      throw Error("Cannot apply filter \"join\" to type: " + std::string(v.type_name()));
    }
    eval_args();
    const Value sep = arg_or(args, 0, kw, "separator", Value::string(""));
    if (sep.kind != Kind::kString) throw Error("separator must be a string");
    return Value::string(in.checked(join_raw(items, sep.str)));
  }
  if (f == "int" || f == "float") {
    eval_args();
    const bool is_int = f == "int";
    const Value def = arg_or(args, 0, kw, "default", is_int ? Value::integer(0) : Value::real(0));
    if (v.kind == Kind::kString) {
      const double x = is_int ? parse_int(v.str) : parse_float(v.str);
      return std::isnan(x) ? def : num_or_int(x, is_int);
    }
    if (v.is_number()) return v;
    if (v.kind == Kind::kBool) return num_or_int(v.boolean ? 1 : 0, is_int);
    throw Error("Cannot apply filter \"" + f + "\" to type: " + v.type_name());
  }
  if (f == "default") {
    eval_args();
    const Value def = args.size() > 0 ? args[0] : Value::string("");
    const Value boolean = arg_or(args, 1, kw, "boolean", Value::of(false));
    if (boolean.kind != Kind::kBool) throw Error("`default` filter flag must be a boolean");
    return v.kind == Kind::kUndefined || (boolean.boolean && !v.truthy()) ? def : v;
  }
  if (v.is_array()) {
    const Array& a = *v.array;
    if (f == "sort") {
      eval_args();
      const Value rev = arg_or(args, 0, kw, "reverse", Value::of(false));
      if (rev.kind != Kind::kBool) throw Error("reverse must be a boolean");
      const Value cs = arg_or(args, 1, kw, "case_sensitive", Value::of(false));
      if (cs.kind != Kind::kBool) throw Error("case_sensitive must be a boolean");
      const Value attr = arg_or(args, 2, kw, "attribute", Value::null());
      if (attr.kind != Kind::kString && attr.kind != Kind::kInt && attr.kind != Kind::kNull)
        throw Error("attribute must be a string, integer, or null");
      auto key = [&](const Value& x) {
        if (attr.kind == Kind::kNull) return x;
        return attribute_path(x, attr.kind == Kind::kInt ? js_number(attr.number) : attr.str);
      };
      Array items = a;
      sort_values(items, [&](const Value& x, const Value& y) {
        const int r = compare(key(x), key(y), cs.boolean);
        return rev.boolean ? -r : r;
      });
      return Value::make_array(std::move(items));
    }
    if (f == "selectattr" || f == "rejectattr") {
      const bool select = f == "selectattr";
      for (const Value& x : a)
        if (!x.is_container()) throw Error("`" + f + "` can only be applied to array of objects");
      for (const AstPtr& n : arg_nodes)
        if (n->type != Node::kString) throw Error("arguments of `" + f + "` must be strings");
      std::vector<Value> s;
      for (const AstPtr& n : arg_nodes) s.push_back(in.evaluate(n, env));
      if (s.empty()) throw Error("`" + f + "` needs an attribute name");
      const std::string attr = s[0].str;
      const std::string test = s.size() > 1 ? s[1].str : "";
      if (!test.empty() && !has_test(test)) throw Error("Unknown test: " + test);
      const Value value = s.size() > 2 ? s[2] : Value::undefined();
      Array out;
      for (const Value& x : a) {
        const Value* got = x.object->find(attr);
        const bool r = got ? (test.empty() ? got->truthy() : run_test_with(test, *got, value)) : false;
        if (r == select) out.push_back(x);
      }
      return Value::make_array(std::move(out));
    }
    if (f == "map") {
      eval_args();
      const Value* attr = kw.find("attribute");
      if (!attr) throw Error("`map` expressions without `attribute` set are not currently supported.");
      if (attr->kind != Kind::kString) throw Error("attribute must be a string");
      const Value* def = kw.find("default");
      Array out;
      for (const Value& x : a) {
        if (!x.is_container()) throw Error("items in map must be an object");
        const Value got = attribute_path(x, attr->str);
        out.push_back(got.kind == Kind::kUndefined && def ? *def : got);
      }
      return Value::make_array(std::move(out));
    }
    throw Error("Unknown ArrayValue filter: " + f);
  }
  if (v.kind == Kind::kString) {
    if (f == "indent") {
      eval_args();
      const Value width = arg_or(args, 0, kw, "width", Value::integer(4));
      if (width.kind != Kind::kInt) throw Error("width must be a number");
      const Value first = arg_or(args, 1, kw, "first", Value::of(false));
      const Value blank = arg_or(args, 2, kw, "blank", Value::of(false));
      const std::string pad((size_t)std::clamp(width.number, 0.0, 256.0), ' ');
      return Value::string(in.checked(indent_lines(v.str, pad, first.truthy(), blank.truthy())));
    }
    if (f == "replace") {
      eval_args();
      Value kv = Value::make_object(Kind::kKwargs);
      *kv.object = kw;
      args.push_back(kv);
      const Value m = string_method(v, "replace");
      return Value::string(in.checked((*m.fn)(args, env).str));
    }
    throw Error("Unknown StringValue filter: " + f);
  }
  if (v.is_object()) {
    const Value m = object_method(v, f);
    if (m.kind == Kind::kFunction) {
      eval_args();
      if (kw.size() > 0) {
        Value kv = Value::make_object(Kind::kKwargs);
        *kv.object = kw;
        args.push_back(kv);
      }
      return (*m.fn)(args, env);
    }
    throw Error("Unknown ObjectValue filter: " + f);
  }
  throw Error("Cannot apply filter \"" + f + "\" to type: " + v.type_name());
}

}  // namespace pocket::jinja
