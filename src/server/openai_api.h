// OpenAI-compatible request parsing and response shapes (/v1/completions, /v1/chat/completions).
// Parsing never throws: malformed JSON, wrong types and out-of-range values become ApiError with the
// HTTP status and OpenAI's error object.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/field_names.h"
#include "chat/chat_template.h"

namespace pocket {

struct ApiError {
  int status = 400;
  std::string message, type = "invalid_request_error", param, code;
  nlohmann::json body() const;
};

struct CompletionRequest {
  bool chat = false;
  std::string model;
  std::vector<ChatMessage> messages;  // chat
  std::string prompt;                 // completions
  int max_tokens = 0;                 // 0: not given (the server picks: 16 for completions, until the context for chat)
  double temperature = 1.0, top_p = 1.0;
  // llama.cpp's extensions (its server takes them too); unset: the sampler's defaults (top_k 40, min_p 0.05).
  int top_k = -1;
  double min_p = -1, repeat_penalty = -1;
  double presence_penalty = 0, frequency_penalty = 0;
  int64_t seed = -1;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  // Chat: the messages as sent (checked; text parts joined into one string) for the model's template.
  nlohmann::ordered_json messages_json = nlohmann::ordered_json::array();
  // Tools: the function tools as sent; tool_choice none, auto, required or function (tool_choice_name).
  nlohmann::ordered_json tools = nlohmann::ordered_json::array();
  std::string tool_choice = "auto", tool_choice_name;
  bool parallel_tool_calls = true;
  // Constrained output: response_format text, json_object or json_schema (json_schema holds it); or a
  // GBNF grammar (llama.cpp's extension field "grammar").
  std::string response_format = "text";
  nlohmann::ordered_json json_schema;
  std::string grammar;
  // Log-probabilities: chat logprobs + top_logprobs (0..20); completions logprobs = top count (0..5).
  bool logprobs = false;
  int top_logprobs = 0;
};

// Returns false and fills *err for a request that cannot be served. Every field is read, neutral (null,
// or the value that asks for nothing: logprobs false, tools [], response_format text ...) or refused
// with its name: a client never gets a 200 that silently ignored what it asked for.
bool parse_completion_request(const std::string& body, bool chat, CompletionRequest* req, ApiError* err);

// The request's JSON name of each library option a request sets (GenerateOptions, SamplingParams):
// n_predict is max_tokens, stop_strings is stop, the sampling fields keep their names.
const FieldNames& openai_field_names();
// A 400 invalid_request_error for a library error about a request: the option it is about, by its
// JSON name, is `param` and is named so in the message ("top_p must be in (0, 1]").
ApiError request_error(const Status& s);

struct ToolCall {
  std::string id, name, arguments;  // arguments: the JSON text as the model wrote it
};

// One generated token's log-probability and the most likely alternatives (OpenAI's logprobs.content[i]).
struct TokenLogprobJson {
  std::string token;
  double logprob = 0;
  std::vector<std::pair<std::string, double>> top;
};
nlohmann::json logprob_entry(const TokenLogprobJson& t);

struct CompletionResult {
  std::string id, model, text, finish_reason;
  std::vector<ToolCall> tool_calls;  // non-empty: finish_reason "tool_calls", content null unless text
  bool want_logprobs = false;
  std::vector<TokenLogprobJson> logprobs;
  int64_t created = 0;
  int prompt_tokens = 0, completion_tokens = 0;
};
nlohmann::json completion_response(const CompletionResult& r, bool chat);
// One streamed chunk: text (may be empty), finish_reason ("" while going on).
// With logprobs: this chunk's tokens; with tool_call_deltas: delta.tool_calls (OpenAI's fragments).
nlohmann::json completion_chunk(const CompletionResult& r, bool chat, const std::string& text, const std::string& finish_reason, bool first,
                                const std::vector<TokenLogprobJson>* logprobs = nullptr, const nlohmann::json* tool_call_deltas = nullptr);
nlohmann::json tool_calls_json(const std::vector<ToolCall>& calls);
nlohmann::json usage_json(const CompletionResult& r);
// JSON text with invalid UTF-8 (a model can emit broken byte sequences, a URL can hold any bytes)
// replaced by U+FFFD instead of throwing.
std::string to_json_text(const nlohmann::json& j);

}  // namespace pocket
