#include "server/openai_api.h"

#include <algorithm>
#include <iterator>

namespace pocket {

using nlohmann::json;

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
                                      "user"};  // user: the caller's end-user id, metadata only
  static const char* const kLater[] = {"logprobs",
                                       "top_logprobs",
                                       "tools",
                                       "tool_choice",
                                       "functions",
                                       "function_call",
                                       "parallel_tool_calls",
                                       "response_format",
                                       "logit_bias",
                                       "echo",
                                       "best_of",
                                       "suffix",
                                       "store",
                                       "metadata",
                                       "modalities",
                                       "service_tier",
                                       "audio",
                                       "prediction",
                                       "reasoning_effort",
                                       "web_search_options"};
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
  if (chat) {
    if (!j.contains("messages")) return bad(e, "messages", "is required");
    const json& m = j["messages"];
    if (!m.is_array() || m.empty()) return bad(e, "messages", "must be a non-empty array");
    for (size_t i = 0; i < m.size(); ++i) {
      const std::string p = "messages[" + std::to_string(i) + "]";
      if (!m[i].is_object()) return bad(e, p, "must be an object with role and content");
      if (!m[i].contains("role") || !m[i]["role"].is_string()) return bad(e, p + ".role", "must be a string");
      ChatMessage msg;
      msg.role = m[i]["role"].get<std::string>();
      if (msg.role != "system" && msg.role != "user" && msg.role != "assistant")
        return bad(e, p + ".role", "must be system, user or assistant, got '" + msg.role + "'");
      const json& c = m[i].contains("content") ? m[i]["content"] : json();
      if (c.is_string()) {
        msg.content = c.get<std::string>();
      } else if (c.is_array()) {  // [{type: "text", text: ...}, ...]
        for (const json& part : c) {
          if (!part.is_object() || !part.contains("type") || part["type"] != "text" || !part.contains("text") || !part["text"].is_string())
            return bad(e, p + ".content", "only text parts are supported");
          msg.content += part["text"].get<std::string>();
        }
      } else {
        return bad(e, p + ".content", "must be a string or an array of text parts");
      }
      r->messages.push_back(std::move(msg));
    }
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

json completion_response(const CompletionResult& r, bool chat) {
  json choice = {{"index", 0}, {"finish_reason", r.finish_reason}, {"logprobs", nullptr}};
  if (chat)
    choice["message"] = {{"role", "assistant"}, {"content", r.text}};
  else
    choice["text"] = r.text;
  return {{"id", r.id},
          {"object", chat ? "chat.completion" : "text_completion"},
          {"created", r.created},
          {"model", r.model},
          {"choices", json::array({choice})},
          {"usage", usage_json(r)}};
}

json completion_chunk(const CompletionResult& r, bool chat, const std::string& text, const std::string& finish, bool first) {
  json choice = {{"index", 0}, {"finish_reason", finish.empty() ? json() : json(finish)}, {"logprobs", nullptr}};
  if (chat) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!text.empty() || (first && finish.empty())) delta["content"] = text;
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
