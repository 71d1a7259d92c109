// Tool calls in model output: the grammar that forces a call (tool_choice required or named) in the
// model's own format, the scanner that finds calls in text as it grows (for streamed deltas and the
// final message), and the test whether a reply is starting one (tool_choice auto).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_format.h"
#include "pocket/status.h"

namespace pocket {

// GBNF for one call (or up to 8 with parallel) of `tools` (only `only` when named), arguments
// following each tool's parameters schema. Errors name the tool whose schema is not supported.
Result<std::string> tool_call_grammar(ToolFormat format, const nlohmann::ordered_json& tools, const std::string& only, bool parallel);

struct ScannedCall {
  std::string name;
  bool name_done = false;
  std::string arguments;  // the JSON text so far
  bool done = false;      // its arguments value is complete
};
// Calls in text: objects with a "name" string followed by "arguments" (or "parameters") value, in
// any of the formats (the markers around them are not needed).
std::vector<ScannedCall> scan_tool_calls(const std::string& text);

// tool_choice auto: 1 when the reply has begun a tool call, 0 while it may still become one, -1 when
// it is plain text.
int tool_call_started(ToolFormat format, const std::string& text);

}  // namespace pocket
