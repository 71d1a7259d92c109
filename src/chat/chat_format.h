// How a model's chats become prompt text: its own Jinja template (tokenizer.chat_template) when the
// file has one, else a hand-written family (chat_template.h). Messages come in the OpenAI shape
// (roles system, developer, user, assistant with tool_calls, tool), tools as the request's array.
// The tool-call format the model is expected to write follows from its template: Hermes/Qwen
// (<tool_call>), Llama 3.1+ (JSON with "parameters"), Mistral ([TOOL_CALLS]), Phi-4-mini
// (<|tool_call|>), or, for templates without tool support, a generic JSON object the prompt asks for.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "chat/jinja_template.h"
#include "pocket/status.h"

namespace pocket {

enum class ToolFormat { kGeneric, kHermes, kLlama3, kMistral, kPhi4 };
const char* tool_format_name(ToolFormat f);

class ChatFormatter {
 public:
  // jinja: the file's template ("" if none); family: a forced hand-written family (--chat-template),
  // which wins over the file's template. A template that does not compile is an error naming it.
  static Result<ChatFormatter> create(const std::string& jinja, std::optional<ChatTemplate> family, std::string bos, std::string eos);

  // The prompt for messages (and tools, an array or null), ending where the assistant's reply begins.
  Result<std::string> render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools, bool add_generation_prompt = true) const;
  std::vector<std::string> stop_strings() const;
  ToolFormat tool_format() const { return tool_format_; }
  bool is_jinja() const { return jinja_.has_value(); }
  // Control markers are in the text (parse them as special tokens): every template but plain.
  bool uses_markers() const { return is_jinja() || family_ != ChatTemplate::kPlain; }
  std::string describe() const;

 private:
  std::optional<JinjaTemplate> jinja_;
  bool template_knows_tools_ = false;  // the Jinja template reads `tools`
  ChatTemplate family_ = ChatTemplate::kPlain;
  ToolFormat tool_format_ = ToolFormat::kGeneric;
  std::string bos_, eos_;
};

// What a generic-format prompt tells the model about the tools (also used for hand-written families).
std::string generic_tools_prompt(const nlohmann::ordered_json& tools);

}  // namespace pocket
