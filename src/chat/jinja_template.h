// A compiled Jinja template (a model's tokenizer.chat_template) and its rendering over JSON values:
// the chat messages, tools and flags a chat template reads. Output matches @huggingface/jinja, the
// JavaScript implementation transformers.js uses, byte for byte (tests/jinja).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "pocket/status.h"

namespace pocket {

namespace jinja {
struct Ast;
}

class JinjaTemplate {
 public:
  // A syntax error is kFormatError with the lexer's or parser's message.
  static Result<JinjaTemplate> compile(const std::string& source);
  // context: a JSON object whose keys become the template's variables (messages, tools,
  // add_generation_prompt, bos_token, ...). An error the template raises (raise_exception, a type
  // error, a limit) is kInvalidArgument with its message.
  Result<std::string> render(const nlohmann::ordered_json& context) const;

 private:
  std::shared_ptr<const jinja::Ast> program_;
};

}  // namespace pocket
