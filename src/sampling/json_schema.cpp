#include "sampling/json_schema.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>
#include <vector>

namespace pocket {

using ordered_json = nlohmann::ordered_json;

namespace {

constexpr int kMaxLength = 1000;      // longest bounded string / array the grammar spells out
constexpr double kMaxIntRange = 256;  // integer ranges up to this many values become alternatives

// One optional space between tokens: JSON's whitespace freedom, kept small so that a model cannot
// spend its tokens on blank lines.
const char* const kPrimitives[][2] = {
    {"space", "\" \"?"},
    {"value", "object | array | string | number | boolean | null"},
    {"object", "\"{\" space ( string \":\" space value ( \",\" space string \":\" space value )* )? \"}\" space"},
    {"array", "\"[\" space ( value ( \",\" space value )* )? \"]\" space"},
    {"string", "\"\\\"\" char* \"\\\"\" space"},
    {"char", "[^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ( [\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4} )"},
    {"number", "\"-\"? integral-part ( \".\" decimal-part )? ( [eE] [-+]? integral-part )? space"},
    {"integer", "\"-\"? integral-part space"},
    {"integral-part", "[0] | [1-9] [0-9]{0,15}"},
    {"decimal-part", "[0-9]{1,16}"},
    {"boolean", "( \"true\" | \"false\" ) space"},
    {"null", "\"null\" space"},
    {"date", "[0-9]{4} \"-\" ( \"0\" [1-9] | \"1\" [0-2] ) \"-\" ( \"0\" [1-9] | [1-2] [0-9] | \"3\" [0-1] )"},
    {"time",
     "( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] \":\" [0-5] [0-9] ( \".\" [0-9]{3} )? ( \"Z\" | [+-] ( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] "
     "[0-9] )"},
    {"uuid", "[0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{12}"},
};

// Dependencies among the primitives (adding one adds what it uses).
const std::map<std::string, std::vector<std::string>> kUses = {
    {"value", {"object", "array", "string", "number", "boolean", "null"}},
    {"object", {"space", "string", "value"}},
    {"array", {"space", "value"}},
    {"string", {"char", "space"}},
    {"number", {"integral-part", "decimal-part", "space"}},
    {"integer", {"integral-part", "space"}},
    {"boolean", {"space"}},
    {"null", {"space"}},
};

// Keywords that describe and do not constrain.
const std::set<std::string> kAnnotations = {"title",   "description", "$schema",  "$id",       "$comment", "examples",
                                            "default", "deprecated",  "readOnly", "writeOnly", "$defs",    "definitions"};

struct SchemaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Converter {
 public:
  explicit Converter(const ordered_json& root) : root_(root) {}

  std::string run() {
    const std::string top = visit(root_, "root-value", "");
    std::string out = "root ::= " + top + "\n";
    for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
    return out;
  }

  std::string primitive(const std::string& name) {
    if (rules_.count(name)) return name;
    for (const auto& p : kPrimitives)
      if (name == p[0]) rules_[name] = p[1];
    auto it = kUses.find(name);
    if (it != kUses.end())
      for (const std::string& u : it->second) primitive(u);
    return name;
  }

 private:
  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw SchemaError("json_schema: " + (path.empty() ? std::string("(top level)") : path) + ": " + what);
  }

  std::string add(std::string name, const std::string& body) {
    for (char& c : name)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) c = '-';
    auto dup = by_body_.find(body);
    if (dup != by_body_.end()) return dup->second;
    std::string unique = name;
    for (int i = 2; rules_.count(unique) || reserved_.count(unique); ++i) unique = name + "-" + std::to_string(i);
    rules_[unique] = body;
    by_body_[body] = unique;
    return unique;
  }

  static std::string join_path(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

  std::string literal_value(const ordered_json& v) {
    primitive("space");
    return gbnf_literal(v.dump()) + " space";
  }

  std::string visit(const ordered_json& s, const std::string& name, const std::string& path) {
    if (s.is_boolean()) {
      if (!s.get<bool>()) fail(path, "the schema false matches nothing");
      return primitive("value");
    }
    if (!s.is_object()) fail(path, "a schema must be an object or a boolean");
    static const std::set<std::string> kKnown = {"type",
                                                 "properties",
                                                 "required",
                                                 "additionalProperties",
                                                 "items",
                                                 "prefixItems",
                                                 "minItems",
                                                 "maxItems",
                                                 "enum",
                                                 "const",
                                                 "anyOf",
                                                 "oneOf",
                                                 "allOf",
                                                 "$ref",
                                                 "minLength",
                                                 "maxLength",
                                                 "format",
                                                 "minimum",
                                                 "maximum",
                                                 "exclusiveMinimum",
                                                 "exclusiveMaximum",
                                                 "nullable",
                                                 "strict"};
    for (auto it = s.begin(); it != s.end(); ++it)
      if (!kKnown.count(it.key()) && !kAnnotations.count(it.key())) fail(join_path(path, it.key()), "keyword '" + it.key() + "' is not supported");
    if (s.contains("nullable") && s["nullable"] == true) {
      ordered_json inner = s;
      inner.erase("nullable");
      return add(name, visit(inner, name + "-nonnull", path) + " | " + primitive("null"));
    }
    if (s.contains("$ref")) return ref(s["$ref"], join_path(path, "$ref"));
    if (s.contains("const")) return add(name, literal_value(s["const"]));
    if (s.contains("enum")) {
      const ordered_json& e = s["enum"];
      if (!e.is_array() || e.empty()) fail(join_path(path, "enum"), "must be a non-empty array");
      std::string body;
      for (const auto& v : e) body += (body.empty() ? "" : " | ") + literal_value(v);
      return add(name, body);
    }
    for (const char* k : {"anyOf", "oneOf"}) {
      if (!s.contains(k)) continue;
      const ordered_json& alts = s[k];
      if (!alts.is_array() || alts.empty()) fail(join_path(path, k), "must be a non-empty array");
      std::string body;
      for (size_t i = 0; i < alts.size(); ++i)
        body += (i ? " | " : "") + visit(alts[i], name + "-" + std::to_string(i), join_path(path, std::string(k) + "[" + std::to_string(i) + "]"));
      return add(name, body);
    }
    if (s.contains("allOf")) {
      const ordered_json& all = s["allOf"];
      if (!all.is_array() || all.size() != 1) fail(join_path(path, "allOf"), "only allOf with one schema is supported");
      return visit(all[0], name, join_path(path, "allOf[0]"));
    }
    if (s.contains("type") && s["type"].is_array()) {
      std::string body;
      for (const auto& t : s["type"]) {
        ordered_json one = s;
        one["type"] = t;
        body += (body.empty() ? "" : " | ") + visit(one, name + "-" + (t.is_string() ? t.get<std::string>() : "t"), path);
      }
      if (body.empty()) fail(join_path(path, "type"), "must not be empty");
      return add(name, body);
    }
    std::string type = s.contains("type") ? (s["type"].is_string() ? s["type"].get<std::string>() : "") : "";
    if (s.contains("type") && type.empty()) fail(join_path(path, "type"), "must be a string or an array of strings");
    if (type.empty()) {
      if (s.contains("properties") || s.contains("additionalProperties") || s.contains("required"))
        type = "object";
      else if (s.contains("items") || s.contains("prefixItems"))
        type = "array";
      else
        return primitive("value");
    }
    if (type == "object") return object(s, name, path);
    if (type == "array") return array(s, name, path);
    if (type == "string") return string(s, name, path);
    if (type == "integer") return integer(s, name, path);
    if (type == "number") {
      for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
        if (s.contains(k)) fail(join_path(path, k), "bounds on non-integer numbers are not supported");
      return primitive("number");
    }
    if (type == "boolean") return primitive("boolean");
    if (type == "null") return primitive("null");
    fail(join_path(path, "type"), "unknown type '" + type + "'");
  }

  std::string ref(const ordered_json& r, const std::string& path) {
    if (!r.is_string()) fail(path, "must be a string");
    const std::string target = r.get<std::string>();
    std::string key;
    const ordered_json* defs = nullptr;
    for (const char* prefix : {"#/$defs/", "#/definitions/"}) {
      if (target.rfind(prefix, 0) != 0) continue;
      key = target.substr(std::string(prefix).size());
      const char* section = prefix[2] == '$' ? "$defs" : "definitions";
      if (root_.contains(section)) defs = &root_[section];
    }
    if (target == "#") {
      if (!refs_.count("#")) {
        refs_["#"] = "root-value";
        reserved_.insert("root-value");
      }
      return "root-value";
    }
    if (key.empty() || !defs || !defs->is_object() || !defs->contains(key))
      fail(path, "'" + target + "' does not name an entry of $defs or definitions");
    auto it = refs_.find(target);
    if (it != refs_.end()) return it->second;
    std::string rule = "ref-" + key;
    for (char& c : rule)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) c = '-';
    refs_[target] = rule;  // before visiting: a recursive reference finds it
    reserved_.insert(rule);
    const std::string body = visit((*defs)[key], rule + "-body", target);
    rules_[rule] = body;
    return rule;
  }

  std::string object(const ordered_json& s, const std::string& name, const std::string& path) {
    primitive("space");
    const ordered_json props = s.contains("properties") ? s["properties"] : ordered_json::object();
    if (!props.is_object()) fail(join_path(path, "properties"), "must be an object");
    std::set<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) fail(join_path(path, "required"), "must be an array of names");
      for (const auto& r : s["required"]) {
        if (!r.is_string() || !props.contains(r.get<std::string>()))
          fail(join_path(path, "required"), "'" + (r.is_string() ? r.get<std::string>() : r.dump()) + "' is not one of the properties");
        required.insert(r.get<std::string>());
      }
    }
    const ordered_json extra = s.contains("additionalProperties") ? s["additionalProperties"] : ordered_json();
    if (props.empty()) {  // a map: any keys, values of the additionalProperties schema
      if (extra.is_boolean() && !extra.get<bool>()) return add(name, "\"{\" space \"}\" space");
      const std::string value =
          extra.is_null() || extra.is_boolean() ? primitive("value") : visit(extra, name + "-value", join_path(path, "additionalProperties"));
      primitive("string");
      return add(name, "\"{\" space ( string \":\" space " + value + " ( \",\" space string \":\" space " + value + " )* )? \"}\" space");
    }
    if (!extra.is_null() && !extra.is_boolean() && !extra.is_object()) fail(join_path(path, "additionalProperties"), "must be a boolean or a schema");
    // Properties in the schema's order; kv[i] is `"key": value`. after[i]: the rest once one was written.
    std::vector<std::string> kv;
    std::vector<bool> req;
    for (auto it = props.begin(); it != props.end(); ++it) {
      const std::string value = visit(it.value(), name + "-" + it.key(), join_path(path, "properties." + it.key()));
      kv.push_back(add(name + "-" + it.key() + "-kv", gbnf_literal(ordered_json(it.key()).dump()) + " space \":\" space " + value));
      req.push_back(required.count(it.key()) > 0);
    }
    const size_t n = kv.size();
    std::vector<std::string> after(n + 1), first(n + 1);
    after[n] = first[n] = "";
    for (size_t i = n; i-- > 0;) {
      const std::string tail = after[i + 1].empty() ? "" : " " + after[i + 1];
      const std::string a = req[i] ? "\",\" space " + kv[i] + tail : "( \",\" space " + kv[i] + " )?" + tail;
      after[i] = add(name + "-after-" + std::to_string(i), a);
      // (An empty alternative cannot end a line: GBNF continues a rule after a trailing |.)
      const std::string f = req[i] ? kv[i] + tail : first[i + 1].empty() ? "( " + kv[i] + tail + " )?" : kv[i] + tail + " | " + first[i + 1];
      first[i] = add(name + "-from-" + std::to_string(i), f);
    }
    return add(name, "\"{\" space " + first[0] + " \"}\" space");
  }

  int count(const ordered_json& s, const char* key, int def, const std::string& path) {
    if (!s.contains(key)) return def;
    const ordered_json& v = s[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0) fail(join_path(path, key), "must be a non-negative integer");
    if (v.get<int64_t>() > kMaxLength) fail(join_path(path, key), "above " + std::to_string(kMaxLength) + " is not supported");
    return (int)v.get<int64_t>();
  }

  static std::string repeat_range(int lo, int hi) {  // hi < 0: unbounded
    if (hi < 0) return lo == 0 ? "*" : "{" + std::to_string(lo) + ",}";
    return "{" + std::to_string(lo) + "," + std::to_string(hi) + "}";
  }

  std::string array(const ordered_json& s, const std::string& name, const std::string& path) {
    primitive("space");
    const int lo = count(s, "minItems", 0, path), hi = count(s, "maxItems", -1, path);
    if (hi >= 0 && hi < lo) fail(join_path(path, "maxItems"), "is below minItems");
    if (s.contains("prefixItems")) {
      const ordered_json& p = s["prefixItems"];
      if (!p.is_array()) fail(join_path(path, "prefixItems"), "must be an array of schemas");
      if (s.contains("items") && !(s["items"].is_boolean() && !s["items"].get<bool>()))
        fail(join_path(path, "items"), "items after prefixItems are not supported (use items: false)");
      std::string body = "\"[\" space";
      for (size_t i = 0; i < p.size(); ++i)
        body += std::string(i ? " \",\" space " : " ") +
                visit(p[i], name + "-" + std::to_string(i), join_path(path, "prefixItems[" + std::to_string(i) + "]"));
      return add(name, body + " \"]\" space");
    }
    const std::string item = s.contains("items") ? visit(s["items"], name + "-item", join_path(path, "items")) : primitive("value");
    if (hi == 0) return add(name, "\"[\" space \"]\" space");
    const std::string rest = "( \",\" space " + item + " )" + repeat_range(lo > 0 ? lo - 1 : 0, hi < 0 ? -1 : hi - 1);
    const std::string inner = item + " " + rest;
    return add(name, "\"[\" space " + (lo > 0 ? inner : "( " + inner + " )?") + " \"]\" space");
  }

  std::string string(const ordered_json& s, const std::string& name, const std::string& path) {
    primitive("space");
    if (s.contains("format")) {
      if (!s["format"].is_string()) fail(join_path(path, "format"), "must be a string");
      const std::string f = s["format"].get<std::string>();
      if (f != "date" && f != "time" && f != "date-time" && f != "uuid")
        fail(join_path(path, "format"), "format '" + f + "' is not supported (date, time, date-time, uuid)");
      if (s.contains("minLength") || s.contains("maxLength")) fail(path, "minLength/maxLength with a format are not supported");
      const std::string body = f == "date-time" ? primitive("date") + " \"T\" " + primitive("time") : primitive(f);
      return add(name, "\"\\\"\" " + body + " \"\\\"\" space");
    }
    const int lo = count(s, "minLength", 0, path), hi = count(s, "maxLength", -1, path);
    if (hi >= 0 && hi < lo) fail(join_path(path, "maxLength"), "is below minLength");
    if (lo == 0 && hi < 0) return primitive("string");
    primitive("char");
    return add(name, "\"\\\"\" char" + repeat_range(lo, hi) + " \"\\\"\" space");
  }

  std::string integer(const ordered_json& s, const std::string& name, const std::string& path) {
    double lo = -INFINITY, hi = INFINITY;
    auto bound = [&](const char* key, bool exclusive, bool lower) {
      if (!s.contains(key)) return;
      const ordered_json& v = s[key];
      if (!v.is_number()) fail(join_path(path, key), "must be a number");
      double x = v.get<double>();
      x = lower ? (exclusive ? std::floor(x) + 1 : std::ceil(x)) : (exclusive ? std::ceil(x) - 1 : std::floor(x));
      if (lower)
        lo = std::max(lo, x);
      else
        hi = std::min(hi, x);
    };
    bound("minimum", false, true);
    bound("exclusiveMinimum", true, true);
    bound("maximum", false, false);
    bound("exclusiveMaximum", true, false);
    if (lo == -INFINITY && hi == INFINITY) return primitive("integer");
    if (lo > hi) fail(path, "the bounds leave no integer");
    // Written out as digits below: beyond 10^15 a double no longer holds every integer.
    if (std::fabs(lo) > 1e15 && std::isfinite(lo)) fail(join_path(path, "minimum"), "bounds beyond 10^15 are not supported");
    if (std::fabs(hi) > 1e15 && std::isfinite(hi)) fail(join_path(path, "maximum"), "bounds beyond 10^15 are not supported");
    if (hi - lo < kMaxIntRange) {
      std::string body;
      for (double v = lo; v <= hi; ++v) body += (body.empty() ? "" : " | ") + gbnf_literal(std::to_string((long long)v));
      primitive("space");
      return add(name, "( " + body + " ) space");
    }
    if (hi == INFINITY && (lo == 0 || lo == 1)) {
      primitive("space");
      return add(name, lo == 0 ? "( [0] | [1-9] [0-9]{0,15} ) space" : "[1-9] [0-9]{0,15} space");
    }
    fail(path, "integer bounds other than ranges of up to " + std::to_string((int)kMaxIntRange) + " values or minimum 0 / 1 are not supported");
  }

  const ordered_json& root_;
  std::map<std::string, std::string> rules_;
  std::map<std::string, std::string> by_body_;
  std::map<std::string, std::string> refs_;
  std::set<std::string> reserved_;
};

}  // namespace

std::string gbnf_literal(const std::string& text) {
  std::string out = "\"";
  for (char ch : text) {
    const unsigned char c = (unsigned char)ch;
    if (c == '"')
      out += "\\\"";
    else if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7F) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02X", c);
      out += b;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

Result<std::string> json_schema_to_gbnf(const ordered_json& schema) {
  try {
    return Converter(schema).run();
  } catch (const SchemaError& e) { return Status(ErrorCode::kInvalidArgument, e.what(), "json_schema"); }
}

std::string json_object_gbnf() {
  Converter c(ordered_json::object());
  std::string out = "root ::= object\n";
  c.primitive("object");
  // The primitives in a fixed order (the rule set object pulls in).
  for (const auto& p : kPrimitives) {
    const std::string n = p[0];
    if (n == "space" || n == "value" || n == "object" || n == "array" || n == "string" || n == "char" || n == "number" || n == "integral-part" ||
        n == "decimal-part" || n == "boolean" || n == "null")
      out += n + " ::= " + p[1] + "\n";
  }
  return out;
}

}  // namespace pocket
