#include "server/tool_calls.h"

#include "sampling/json_schema.h"

namespace pocket {

using ordered_json = nlohmann::ordered_json;

namespace {

// What opens a call in each format (the generic one opens with its object's key).
const char* trigger(ToolFormat f) {
  switch (f) {
    case ToolFormat::kHermes: return "<tool_call>";
    case ToolFormat::kMistral: return "[TOOL_CALLS]";
    case ToolFormat::kPhi4: return "<|tool_call|>";
    case ToolFormat::kLlama3: return "{\"name\"";
    case ToolFormat::kGeneric: return "{\"tool_calls\"";
  }
  return "";
}

// A JSON value starting at text[i]: its end (one past) when complete, else npos.
size_t value_end(const std::string& t, size_t i) {
  if (i >= t.size()) return std::string::npos;
  if (t[i] == '"') {
    for (size_t k = i + 1; k < t.size(); ++k) {
      if (t[k] == '\\')
        ++k;
      else if (t[k] == '"')
        return k + 1;
    }
    return std::string::npos;
  }
  if (t[i] == '{' || t[i] == '[') {
    int depth = 0;
    bool in_str = false;
    for (size_t k = i; k < t.size(); ++k) {
      const char c = t[k];
      if (in_str) {
        if (c == '\\')
          ++k;
        else if (c == '"')
          in_str = false;
      } else if (c == '"') {
        in_str = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return k + 1;
      }
    }
    return std::string::npos;
  }
  size_t k = i;  // a number, true, false, null: ends at a delimiter
  while (k < t.size() && t[k] != ',' && t[k] != '}' && t[k] != ']' && t[k] != ' ' && t[k] != '\n') ++k;
  return k < t.size() ? k : std::string::npos;
}

size_t skip_ws(const std::string& t, size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\t' || t[i] == '\r')) ++i;
  return i;
}

}  // namespace

std::vector<ScannedCall> scan_tool_calls(const std::string& t) {
  std::vector<ScannedCall> out;
  size_t i = 0;
  while (true) {
    const size_t at = t.find("\"name\"", i);
    if (at == std::string::npos) break;
    size_t k = skip_ws(t, at + 6);
    if (k >= t.size() || t[k] != ':') {
      if (k >= t.size()) break;
      i = at + 6;
      continue;
    }
    k = skip_ws(t, k + 1);
    if (k >= t.size() || t[k] != '"') break;
    ScannedCall c;
    const size_t name_end = value_end(t, k);
    if (name_end == std::string::npos) {
      const ordered_json partial = ordered_json::parse(t.substr(k) + "\"", nullptr, false);
      if (partial.is_string()) c.name = partial.get<std::string>();
      out.push_back(c);
      break;
    }
    const ordered_json name = ordered_json::parse(t.substr(k, name_end - k), nullptr, false);
    if (!name.is_string()) break;
    c.name = name.get<std::string>();
    c.name_done = true;
    size_t a = std::string::npos;
    for (const char* key : {"\"arguments\"", "\"parameters\""}) {
      const size_t f = t.find(key, name_end);
      if (f != std::string::npos && (a == std::string::npos || f < a)) a = f;
    }
    if (a == std::string::npos) {
      out.push_back(c);
      break;
    }
    size_t v = t.find(':', a);
    if (v == std::string::npos) {
      out.push_back(c);
      break;
    }
    v = skip_ws(t, v + 1);
    const size_t end = value_end(t, v);
    c.arguments = t.substr(v, end == std::string::npos ? std::string::npos : end - v);
    c.done = end != std::string::npos;
    out.push_back(c);
    if (!c.done) break;
    i = end;
  }
  return out;
}

int tool_call_started(ToolFormat f, const std::string& text) {
  const std::string trig = trigger(f);
  size_t s = skip_ws(text, 0);
  std::string body = text.substr(s);
  // The generic and Llama formats: JSON spacing may differ ({ "tool_calls" ...).
  if (f == ToolFormat::kGeneric || f == ToolFormat::kLlama3) {
    std::string compact;
    bool in_str = false;
    for (char c : body) {
      if (c == '"') in_str = !in_str;
      if (!in_str && (c == ' ' || c == '\n' || c == '\t' || c == '\r')) continue;
      compact += c;
    }
    body = compact;
  }
  if (body.size() >= trig.size()) return body.compare(0, trig.size(), trig) == 0 ? 1 : -1;
  return trig.compare(0, body.size(), body) == 0 ? 0 : -1;
}

Result<std::string> tool_call_grammar(ToolFormat f, const ordered_json& tools, const std::string& only, bool parallel) {
  const char* args_key = f == ToolFormat::kLlama3 ? "parameters" : "arguments";
  ordered_json calls = ordered_json::array();
  ordered_json defs = ordered_json::object();
  for (const auto& t : tools) {
    const ordered_json& fn = t["function"];
    const std::string name = fn["name"].get<std::string>();
    if (!only.empty() && name != only) continue;
    ordered_json params = fn.contains("parameters") ? fn["parameters"] : ordered_json{{"type", "object"}, {"properties", ordered_json::object()}};
    for (const char* section : {"$defs", "definitions"}) {  // hoisted: references stay "#/$defs/..."
      if (!params.contains(section)) continue;
      for (auto it = params[section].begin(); it != params[section].end(); ++it) {
        if (defs.contains(it.key()) && defs[it.key()] != it.value())
          return Status(ErrorCode::kInvalidArgument, "tools: " + name + ": $defs entry '" + it.key() + "' differs from another tool's", "tools");
        defs[it.key()] = it.value();
      }
      params.erase(section);
    }
    calls.push_back({{"type", "object"}, {"properties", {{"name", {{"const", name}}}, {args_key, params}}}, {"required", {"name", args_key}}});
  }
  if (calls.empty()) return Status(ErrorCode::kInvalidArgument, "tool_choice: no tool named '" + only + "'", "tool_choice");
  const int most = parallel && only.empty() ? 8 : 1;
  ordered_json schema = calls.size() == 1 ? calls[0] : ordered_json{{"anyOf", calls}};
  if (f == ToolFormat::kGeneric)
    schema = {{"type", "object"},
              {"properties", {{"tool_calls", {{"type", "array"}, {"items", schema}, {"minItems", 1}, {"maxItems", most}}}}},
              {"required", {"tool_calls"}}};
  if (!defs.empty()) schema["$defs"] = defs;
  auto g = json_schema_to_gbnf(schema);
  if (!g) return Status(ErrorCode::kInvalidArgument, "tools: " + g.status().message(), "tools");
  std::string gbnf = g.value();
  const size_t eol = gbnf.find('\n');
  const std::string call = gbnf.substr(9, eol - 9);  // "root ::= X": X is one call (or the generic object)
  const std::string more = most > 1 ? "{0," + std::to_string(most - 1) + "}" : "{0,0}";
  std::string root;
  switch (f) {
    case ToolFormat::kGeneric:
    case ToolFormat::kLlama3: root = call; break;
    case ToolFormat::kHermes:
      root = "\"<tool_call>\\n\" " + call + " \"\\n</tool_call>\" ( \"\\n<tool_call>\\n\" " + call + " \"\\n</tool_call>\" )" + more;
      break;
    case ToolFormat::kMistral: root = "\"[TOOL_CALLS]\" \"[\" " + call + " ( \",\" space " + call + " )" + more + " \"]\""; break;
    case ToolFormat::kPhi4: root = "\"<|tool_call|>\" \"[\" " + call + " ( \",\" space " + call + " )" + more + " \"]\" \"<|/tool_call|>\""; break;
  }
  return "root ::= " + root + gbnf.substr(eol);
}

}  // namespace pocket
