#include "server/openai_api.h"

#include <algorithm>
#include <iterator>

namespace pocket {

using nlohmann::json;
using nlohmann::ordered_json;

json ApiError::body() const {
  return {{"error",
           {{"message", message}, {"type", type}, {"param", param.empty() ? json() : json(param)}, {"code", code.empty() ? json() : json(code)}}}};
}

namespace {

bool bad(ApiError* e, const std::string& param, const std::string& msg) {
  e->status = 400;
  e->param = param;
  e->message = param.empty() ? msg : param + ": " + msg;
  return false;
}

bool get_number(const json& j, const char* key, double lo, double hi, double* out, ApiError* e) {
  if (!j.contains(key) || j[key].is_null()) return true;
  if (!j[key].is_number()) return bad(e, key, std::string("must be a number, got ") + j[key].type_name());
  const double v = j[key].get<double>();
  if (!(v >= lo && v <= hi)) return bad(e, key, "must be in [" + json(lo).dump() + ", " + json(hi).dump() + "], got " + json(v).dump());
  *out = v;
  return true;
}

// A field this server does not implement, given a value that asks for nothing (so it can be accepted).
bool asks_for_nothing(const std::string& k, const json& v) {
  if (k == "logprobs" || k == "echo" || k == "store") return v.is_boolean() && !v.get<bool>();
  if (k == "top_logprobs") return v.is_number_integer() && v.get<int64_t>() == 0;
  if (k == "best_of") return v.is_number_integer() && v.get<int64_t>() == 1;
  if (k == "tools" || k == "functions") return v.is_array() && v.empty();
  if (k == "tool_choice" || k == "function_call") return v == "none";
  if (k == "parallel_tool_calls") return v.is_boolean();  // without tools it changes nothing
  if (k == "response_format") return v.is_object() && v.size() == 1 && v.contains("type") && v["type"] == "text";
  if (k == "logit_bias" || k == "metadata") return v.is_object() && v.empty();
  if (k == "suffix") return v.is_string() && v.get<std::string>().empty();
  if (k == "modalities") return v == json::array({"text"});
  if (k == "service_tier") return v == "auto" || v == "default";
  return false;
}

// Every request field: read by the parser, metadata that changes nothing, or an error naming it.
bool check_fields(const json& j, bool chat, ApiError* e) {
  static const char* const kRead[] = {"model",
                                      "max_tokens",
                                      "max_completion_tokens",
                                      "temperature",
                                      "top_p",
                                      "top_k",
                                      "min_p",
                                      "repeat_penalty",
                                      "presence_penalty",
                                      "frequency_penalty",
                                      "seed",
                                      "n",
                                      "stop",
                                      "stream",
                                      "stream_options",
                                      "logprobs",
                                      "top_logprobs",
                                      "tools",
                                      "tool_choice",
                                      "parallel_tool_calls",
                                      "response_format",
                                      "grammar",
                                      "user"};  // user: the caller's end-user id, metadata only
  static const char* const kLater[] = {"functions", "function_call", "logit_bias",   "echo",  "best_of",    "suffix",           "store",
                                       "metadata",  "modalities",    "service_tier", "audio", "prediction", "reasoning_effort", "web_search_options"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == (chat ? "messages" : "prompt") || it.value().is_null()) continue;  // null: not given
    if (std::find(std::begin(kRead), std::end(kRead), k) != std::end(kRead)) continue;
    if (std::find(std::begin(kLater), std::end(kLater), k) != std::end(kLater)) {
      if (asks_for_nothing(k, it.value())) continue;
      return bad(e, k, "is not supported by this server (yet): leave it out or send its neutral value");
    }
    return bad(e, k, std::string("unknown parameter for ") + (chat ? "/v1/chat/completions" : "/v1/completions"));
  }
  return true;
}

}  // namespace

namespace {

// Text parts ([{type: "text", text}]) joined, a string as is; null only where allow_null.
bool message_text(const ordered_json& c, const std::string& p, bool allow_null, std::string* out, bool* is_null, ApiError* e) {
  *is_null = false;
  if (c.is_string()) {
    *out = c.get<std::string>();
    return true;
  }
  if (c.is_null() && allow_null) {
    *is_null = true;
    return true;
  }
  if (c.is_array()) {
    out->clear();
    for (const auto& part : c) {
      if (!part.is_object() || !part.contains("type") || part["type"] != "text" || !part.contains("text") || !part["text"].is_string())
        return bad(e, p + ".content", "only text parts are supported");
      *out += part["text"].get<std::string>();
    }
    return true;
  }
  return bad(e, p + ".content", allow_null ? "must be a string, an array of text parts or null" : "must be a string or an array of text parts");
}

bool parse_messages(const ordered_json& j, CompletionRequest* r, ApiError* e) {
  if (!j.contains("messages")) return bad(e, "messages", "is required");
  const ordered_json& m = j["messages"];
  if (!m.is_array() || m.empty()) return bad(e, "messages", "must be a non-empty array");
  for (size_t i = 0; i < m.size(); ++i) {
    const std::string p = "messages[" + std::to_string(i) + "]";
    if (!m[i].is_object()) return bad(e, p, "must be an object with role and content");
    if (!m[i].contains("role") || !m[i]["role"].is_string()) return bad(e, p + ".role", "must be a string");
    const std::string role = m[i]["role"].get<std::string>();
    if (role != "system" && role != "developer" && role != "user" && role != "assistant" && role != "tool")
      return bad(e, p + ".role", "must be system, developer, user, assistant or tool, got '" + role + "'");
    for (auto it = m[i].begin(); it != m[i].end(); ++it) {
      const std::string& k = it.key();
      const bool known = k == "role" || k == "content" || k == "name" || (k == "tool_calls" && role == "assistant") ||
                         (k == "tool_call_id" && role == "tool") || (k == "refusal" && it.value().is_null()) ||
                         (k == "reasoning_content" && role == "assistant" && it.value().is_string());
      if (!known) return bad(e, p + "." + k, "is not supported for a " + role + " message");
    }
    ordered_json out = {{"role", role}};
    const bool has_calls = role == "assistant" && m[i].contains("tool_calls") && !m[i]["tool_calls"].is_null();
    std::string text;
    bool is_null = false;
    if (!message_text(m[i].contains("content") ? m[i]["content"] : ordered_json(), p, has_calls, &text, &is_null, e)) return false;
    out["content"] = is_null ? ordered_json() : ordered_json(text);
    if (m[i].contains("name")) {
      if (!m[i]["name"].is_string()) return bad(e, p + ".name", "must be a string");
      out["name"] = m[i]["name"];
    }
    if (m[i].contains("reasoning_content")) out["reasoning_content"] = m[i]["reasoning_content"];
    if (has_calls) {
      const ordered_json& calls = m[i]["tool_calls"];
      if (!calls.is_array()) return bad(e, p + ".tool_calls", "must be an array");
      ordered_json list = ordered_json::array();
      for (size_t c = 0; c < calls.size(); ++c) {
        const std::string cp = p + ".tool_calls[" + std::to_string(c) + "]";
        const ordered_json& call = calls[c];
        if (!call.is_object() || !call.contains("function") || !call["function"].is_object())
          return bad(e, cp, "must be {id, type: function, function}");
        if (call.contains("type") && call["type"] != "function") return bad(e, cp + ".type", "must be function");
        const ordered_json& fn = call["function"];
        if (!fn.contains("name") || !fn["name"].is_string()) return bad(e, cp + ".function.name", "must be a string");
        if (!fn.contains("arguments") || !fn["arguments"].is_string()) return bad(e, cp + ".function.arguments", "must be a JSON string");
        if (ordered_json::parse(fn["arguments"].get<std::string>(), nullptr, false).is_discarded())
          return bad(e, cp + ".function.arguments", "is not valid JSON");
        list.push_back({{"id", call.value("id", "call_" + std::to_string(c))},
                        {"type", "function"},
                        {"function", {{"name", fn["name"]}, {"arguments", fn["arguments"]}}}});
      }
      out["tool_calls"] = list;
    }
    if (role == "tool") {
      if (!m[i].contains("tool_call_id") || !m[i]["tool_call_id"].is_string()) return bad(e, p + ".tool_call_id", "must be a string");
      out["tool_call_id"] = m[i]["tool_call_id"];
    }
    r->messages_json.push_back(out);
    r->messages.push_back({role, text});
  }
  return true;
}

bool valid_function_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

bool parse_tools(const ordered_json& j, CompletionRequest* r, ApiError* e) {
  if (j.contains("tools") && !j["tools"].is_null()) {
    const ordered_json& t = j["tools"];
    if (!t.is_array()) return bad(e, "tools", "must be an array");
    for (size_t i = 0; i < t.size(); ++i) {
      const std::string p = "tools[" + std::to_string(i) + "]";
      if (!t[i].is_object() || t[i].value("type", "") != "function" || !t[i].contains("function") || !t[i]["function"].is_object())
        return bad(e, p, "must be {type: \"function\", function: {name, description, parameters}}");
      for (auto it = t[i].begin(); it != t[i].end(); ++it)
        if (it.key() != "type" && it.key() != "function") return bad(e, p + "." + it.key(), "is not supported");
      const ordered_json& fn = t[i]["function"];
      for (auto it = fn.begin(); it != fn.end(); ++it)
        if (it.key() != "name" && it.key() != "description" && it.key() != "parameters" && it.key() != "strict")
          return bad(e, p + ".function." + it.key(), "is not supported");
      if (!fn.contains("name") || !fn["name"].is_string() || !valid_function_name(fn["name"].get<std::string>()))
        return bad(e, p + ".function.name", "must be 1 to 64 of a-z, A-Z, 0-9, _ and -");
      for (const auto& prev : r->tools)
        if (prev["function"]["name"] == fn["name"]) return bad(e, p + ".function.name", "'" + fn["name"].get<std::string>() + "' is given twice");
      if (fn.contains("parameters") && !fn["parameters"].is_object()) return bad(e, p + ".function.parameters", "must be a JSON Schema object");
      if (fn.contains("description") && !fn["description"].is_string()) return bad(e, p + ".function.description", "must be a string");
      r->tools.push_back(t[i]);
    }
  }
  if (j.contains("tool_choice") && !j["tool_choice"].is_null()) {
    const ordered_json& c = j["tool_choice"];
    if (c.is_string()) {
      r->tool_choice = c.get<std::string>();
      if (r->tool_choice != "none" && r->tool_choice != "auto" && r->tool_choice != "required")
        return bad(e, "tool_choice", "must be none, auto, required or {type: function, function: {name}}");
    } else if (c.is_object() && c.value("type", "") == "function" && c.contains("function") && c["function"].is_object() &&
               c["function"].contains("name") && c["function"]["name"].is_string()) {
      r->tool_choice = "function";
      r->tool_choice_name = c["function"]["name"].get<std::string>();
      bool found = false;
      for (const auto& t : r->tools) found = found || t["function"]["name"] == r->tool_choice_name;
      if (!found) return bad(e, "tool_choice.function.name", "'" + r->tool_choice_name + "' is not one of the tools");
    } else {
      return bad(e, "tool_choice", "must be none, auto, required or {type: function, function: {name}}");
    }
    if (r->tools.empty() && r->tool_choice != "none" && r->tool_choice != "auto") return bad(e, "tool_choice", "needs tools");
  }
  if (j.contains("parallel_tool_calls") && !j["parallel_tool_calls"].is_null()) {
    if (!j["parallel_tool_calls"].is_boolean()) return bad(e, "parallel_tool_calls", "must be true or false");
    r->parallel_tool_calls = j["parallel_tool_calls"].get<bool>();
  }
  if (r->tools.empty()) r->tool_choice = "none";
  return true;
}

bool parse_output_constraints(const ordered_json& j, bool chat, CompletionRequest* r, ApiError* e) {
  if (j.contains("response_format") && !j["response_format"].is_null()) {
    const ordered_json& f = j["response_format"];
    if (!f.is_object() || !f.contains("type") || !f["type"].is_string())
      return bad(e, "response_format", "must be {type: text | json_object | json_schema}");
    r->response_format = f["type"].get<std::string>();
    for (auto it = f.begin(); it != f.end(); ++it)
      if (it.key() != "type" && !(it.key() == "json_schema" && r->response_format == "json_schema"))
        return bad(e, "response_format." + it.key(), "is not supported for type " + r->response_format);
    if (r->response_format == "json_schema") {
      if (!f.contains("json_schema") || !f["json_schema"].is_object())
        return bad(e, "response_format.json_schema", "is required: {name, schema, strict}");
      const ordered_json& js = f["json_schema"];
      for (auto it = js.begin(); it != js.end(); ++it)
        if (it.key() != "name" && it.key() != "schema" && it.key() != "strict" && it.key() != "description")
          return bad(e, "response_format.json_schema." + it.key(), "is not supported");
      if (!js.contains("name") || !js["name"].is_string()) return bad(e, "response_format.json_schema.name", "must be a string");
      if (js.contains("strict") && !js["strict"].is_null() && !js["strict"].is_boolean())
        return bad(e, "response_format.json_schema.strict", "must be true or false");
      r->json_schema = js.contains("schema") ? js["schema"] : ordered_json::object();
    } else if (r->response_format != "text" && r->response_format != "json_object") {
      return bad(e, "response_format.type", "must be text, json_object or json_schema, got '" + r->response_format + "'");
    }
  }
  if (j.contains("grammar") && !j["grammar"].is_null()) {
    if (!j["grammar"].is_string() || j["grammar"].get<std::string>().empty()) return bad(e, "grammar", "must be a GBNF grammar string");
    if (r->response_format != "text") return bad(e, "grammar", "cannot be combined with response_format " + r->response_format);
    r->grammar = j["grammar"].get<std::string>();
  }
  if (r->tool_choice != "none" && r->tool_choice != "auto" && (r->response_format != "text" || !r->grammar.empty()))
    return bad(e, "tool_choice", "a required or named tool choice cannot be combined with response_format or grammar");
  if (chat) {
    if (j.contains("logprobs") && !j["logprobs"].is_null()) {
      if (!j["logprobs"].is_boolean()) return bad(e, "logprobs", "must be true or false");
      r->logprobs = j["logprobs"].get<bool>();
    }
    if (j.contains("top_logprobs") && !j["top_logprobs"].is_null()) {
      if (!j["top_logprobs"].is_number_integer() || j["top_logprobs"].get<int64_t>() < 0 || j["top_logprobs"].get<int64_t>() > 20)
        return bad(e, "top_logprobs", "must be an integer in [0, 20]");
      r->top_logprobs = (int)j["top_logprobs"].get<int64_t>();
      if (!r->logprobs && r->top_logprobs > 0) return bad(e, "top_logprobs", "needs logprobs: true");
    }
  } else if (j.contains("logprobs") && !j["logprobs"].is_null()) {  // completions: the number of alternatives
    if (!j["logprobs"].is_number_integer() || j["logprobs"].get<int64_t>() < 0 || j["logprobs"].get<int64_t>() > 5)
      return bad(e, "logprobs", "must be an integer in [0, 5] for /v1/completions");
    r->logprobs = true;
    r->top_logprobs = (int)j["logprobs"].get<int64_t>();
  }
  if (!chat && j.contains("top_logprobs") && !j["top_logprobs"].is_null()) return bad(e, "top_logprobs", "is a chat parameter (use logprobs: N)");
  if (!chat && (!r->tools.empty() || (j.contains("tool_choice") && !j["tool_choice"].is_null())))
    return bad(e, "tools", "tools are a /v1/chat/completions parameter");
  return true;
}

}  // namespace

bool parse_completion_request(const std::string& body, bool chat, CompletionRequest* r, ApiError* e) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return bad(e, "", "request body is not valid JSON");
  if (!j.is_object()) return bad(e, "", "request body must be a JSON object");
  r->chat = chat;
  if (!check_fields(j, chat, e)) return false;
  if (j.contains("model")) {
    if (!j["model"].is_string()) return bad(e, "model", "must be a string");
    r->model = j["model"].get<std::string>();
  }
  const ordered_json oj = ordered_json::parse(body, nullptr, false);  // key order kept (schemas, tools)
  if (chat) {
    if (!parse_messages(oj, r, e)) return false;
  } else {
    if (!j.contains("prompt")) return bad(e, "prompt", "is required");
    const json& p = j["prompt"];
    if (p.is_string())
      r->prompt = p.get<std::string>();
    else if (p.is_array() && p.size() == 1 && p[0].is_string())
      r->prompt = p[0].get<std::string>();
    else
      return bad(e, "prompt", "must be a string (batched prompts are not supported)");
  }
  const char* max_key = j.contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  if (j.contains(max_key) && !j[max_key].is_null()) {
    if (!j[max_key].is_number_integer()) return bad(e, max_key, "must be an integer");
    const int64_t v = j[max_key].get<int64_t>();
    if (v < 1 || v > (1 << 30)) return bad(e, max_key, "must be in [1, 1073741824], got " + std::to_string(v));
    r->max_tokens = (int)v;
  }
  if (!get_number(j, "temperature", 0, 2, &r->temperature, e)) return false;
  if (!get_number(j, "top_p", 0, 1, &r->top_p, e)) return false;
  if (!get_number(j, "min_p", 0, 1, &r->min_p, e)) return false;
  if (!get_number(j, "repeat_penalty", 0, 10, &r->repeat_penalty, e)) return false;
  if (j.contains("top_k") && !j["top_k"].is_null()) {
    if (!j["top_k"].is_number_integer()) return bad(e, "top_k", "must be an integer");
    const int64_t v = j["top_k"].get<int64_t>();
    if (v < 0 || v > (1 << 24)) return bad(e, "top_k", "must be in [0, 16777216] (0: off), got " + std::to_string(v));
    r->top_k = (int)v;
  }
  if (!get_number(j, "presence_penalty", -2, 2, &r->presence_penalty, e)) return false;
  if (!get_number(j, "frequency_penalty", -2, 2, &r->frequency_penalty, e)) return false;
  if (j.contains("seed") && !j["seed"].is_null()) {
    if (!j["seed"].is_number_integer()) return bad(e, "seed", "must be an integer");
    r->seed = j["seed"].get<int64_t>();
  }
  if (j.contains("n") && !j["n"].is_null() && !(j["n"].is_number_integer() && j["n"].get<int64_t>() == 1))
    return bad(e, "n", "only n = 1 is supported");
  if (j.contains("stop") && !j["stop"].is_null()) {
    const json& s = j["stop"];
    if (s.is_string()) {
      r->stop.push_back(s.get<std::string>());
    } else if (s.is_array() && s.size() <= 4) {
      for (const json& x : s) {
        if (!x.is_string() || x.get<std::string>().empty()) return bad(e, "stop", "must be non-empty strings");
        r->stop.push_back(x.get<std::string>());
      }
    } else {
      return bad(e, "stop", "must be a string or an array of up to 4 strings");
    }
  }
  if (j.contains("stream") && !j["stream"].is_null()) {
    if (!j["stream"].is_boolean()) return bad(e, "stream", "must be true or false");
    r->stream = j["stream"].get<bool>();
  }
  if (!parse_tools(oj, r, e) || !parse_output_constraints(oj, chat, r, e)) return false;
  if (j.contains("stream_options") && !j["stream_options"].is_null()) {
    const json& so = j["stream_options"];
    if (!so.is_object()) return bad(e, "stream_options", "must be an object");
    if (so.contains("include_usage") && !so["include_usage"].is_null()) {
      if (!so["include_usage"].is_boolean()) return bad(e, "stream_options.include_usage", "must be true or false");
      r->include_usage = so["include_usage"].get<bool>();
    }
  }
  return true;
}

const FieldNames& openai_field_names() {
  static const FieldNames names = {
      {"temperature", "temperature"},
      {"top_p", "top_p"},
      {"top_k", "top_k"},
      {"min_p", "min_p"},
      {"repeat_penalty", "repeat_penalty"},
      {"presence_penalty", "presence_penalty"},
      {"frequency_penalty", "frequency_penalty"},
      {"seed", "seed"},
      {"n_predict", "max_tokens"},
      {"stop_strings", "stop"},
  };
  return names;
}

ApiError request_error(const Status& s) {
  ApiError e;
  e.status = 400;
  e.param = field_name_of(s, openai_field_names());
  // Engine options are the server's, not the request's: name the flag that sets them.
  FieldNames names = openai_field_names();
  names.push_back({"n_ctx", "the server's --ctx"});
  e.message = with_field_names(s, names);
  return e;
}

std::string to_json_text(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json usage_json(const CompletionResult& r) {
  return {{"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.completion_tokens}, {"total_tokens", r.prompt_tokens + r.completion_tokens}};
}

json logprob_entry(const TokenLogprobJson& t) {
  auto bytes = [](const std::string& s) {
    json b = json::array();
    for (unsigned char c : s) b.push_back((int)c);
    return b;
  };
  json top = json::array();
  for (const auto& [tok, lp] : t.top) top.push_back({{"token", tok}, {"logprob", lp}, {"bytes", bytes(tok)}});
  return {{"token", t.token}, {"logprob", t.logprob}, {"bytes", bytes(t.token)}, {"top_logprobs", top}};
}

json logprobs_json(const std::vector<TokenLogprobJson>& lps, bool chat) {
  if (chat) {
    json content = json::array();
    for (const auto& t : lps) content.push_back(logprob_entry(t));
    return {{"content", content}, {"refusal", nullptr}};
  }
  // /v1/completions' legacy shape: parallel arrays, top alternatives as {token: logprob} maps.
  json tokens = json::array(), lp = json::array(), top = json::array(), offset = json::array();
  size_t at = 0;
  for (const auto& t : lps) {
    tokens.push_back(t.token);
    lp.push_back(t.logprob);
    json m = json::object();
    for (const auto& [tok, v] : t.top) m[tok] = v;
    top.push_back(m);
    offset.push_back(at);
    at += t.token.size();
  }
  return {{"tokens", tokens}, {"token_logprobs", lp}, {"top_logprobs", top}, {"text_offset", offset}};
}

json tool_calls_json(const std::vector<ToolCall>& calls) {
  json out = json::array();
  for (const ToolCall& c : calls) out.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
  return out;
}

json completion_response(const CompletionResult& r, bool chat) {
  json choice = {{"index", 0}, {"finish_reason", r.finish_reason}, {"logprobs", r.want_logprobs ? logprobs_json(r.logprobs, chat) : json()}};
  if (chat) {
    json msg = {{"role", "assistant"}, {"content", r.tool_calls.empty() || !r.text.empty() ? json(r.text) : json()}};
    if (!r.tool_calls.empty()) msg["tool_calls"] = tool_calls_json(r.tool_calls);
    choice["message"] = msg;
  } else {
    choice["text"] = r.text;
  }
  return {{"id", r.id},
          {"object", chat ? "chat.completion" : "text_completion"},
          {"created", r.created},
          {"model", r.model},
          {"choices", json::array({choice})},
          {"usage", usage_json(r)}};
}

json completion_chunk(const CompletionResult& r, bool chat, const std::string& text, const std::string& finish, bool first,
                      const std::vector<TokenLogprobJson>* logprobs, const json* tool_call_deltas) {
  json lp = r.want_logprobs && logprobs && !logprobs->empty() ? logprobs_json(*logprobs, chat) : json();
  json choice = {{"index", 0}, {"finish_reason", finish.empty() ? json() : json(finish)}, {"logprobs", lp}};
  if (chat) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!text.empty() || (first && finish.empty() && !tool_call_deltas)) delta["content"] = text;
    if (tool_call_deltas) delta["tool_calls"] = *tool_call_deltas;
    choice["delta"] = delta;
  } else {
    choice["text"] = text;
  }
  return {{"id", r.id},
          {"object", chat ? "chat.completion.chunk" : "text_completion"},
          {"created", r.created},
          {"model", r.model},
          {"choices", json::array({choice})}};
}

}  // namespace pocket
