// Chat templates: OpenAI-style messages -> the prompt text a model family was trained on.
// Known families are rendered by hand (no Jinja engine): picked from the GGUF's
// tokenizer.chat_template when it matches one, or named with --chat-template; `plain` for base
// models (stories15M), which continue the text of the messages.
#pragma once

#include <string>
#include <vector>

#include "pocket/status.h"

namespace pocket {

struct ChatMessage {
  std::string role;  // system, user, assistant
  std::string content;
};

enum class ChatTemplate { kPlain, kLlama2, kLlama3, kChatML, kZephyr, kPhi3, kGemma };

const char* chat_template_name(ChatTemplate t);
Result<ChatTemplate> chat_template_from_name(const std::string& name);
// The family a Jinja template string belongs to (by its control markers); kPlain when none matches.
ChatTemplate detect_chat_template(const std::string& jinja);

// The prompt for `messages`, ending where the assistant's reply begins. Control markers are written as
// text; the caller tokenizes with parse_special so they become their tokens.
Result<std::string> render_chat(ChatTemplate t, const std::vector<ChatMessage>& messages, const std::string& bos);
// Texts that end an assistant turn in this family (used as stop strings).
std::vector<std::string> chat_stop_strings(ChatTemplate t);

}  // namespace pocket
