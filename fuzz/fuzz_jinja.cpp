// Jinja engine: arbitrary bytes as a chat template, compiled and rendered over a fixed conversation
// with tools. Any input must end in output or an error, never a crash, a hang or unbounded memory.
#include "chat/jinja_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nlohmann::ordered_json ctx = nlohmann::ordered_json::parse(R"({
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi 😀"},
                 {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                   "function": {"name": "f", "arguments": {"x": 1}}}]},
                 {"role": "tool", "tool_call_id": "c1", "content": "42"}],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"})");
  auto t = pocket::JinjaTemplate::compile(std::string(reinterpret_cast<const char*>(data), size));
  if (t) (void)t.value().render(ctx);
  return 0;
}
