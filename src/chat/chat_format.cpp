#include "chat/chat_format.h"

#include <algorithm>

namespace pocket {

using ordered_json = nlohmann::ordered_json;

const char* tool_format_name(ToolFormat f) {
  switch (f) {
    case ToolFormat::kGeneric: return "generic JSON";
    case ToolFormat::kHermes: return "hermes (<tool_call>)";
    case ToolFormat::kLlama3: return "llama3 JSON";
    case ToolFormat::kMistral: return "mistral ([TOOL_CALLS])";
    case ToolFormat::kPhi4: return "phi-4-mini (<|tool_call|>)";
  }
  return "?";
}

namespace {

bool has(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

ToolFormat format_of(const std::string& jinja) {
  if (has(jinja, "<tool_call>")) return ToolFormat::kHermes;
  if (has(jinja, "[TOOL_CALLS]")) return ToolFormat::kMistral;
  if (has(jinja, "<|tool_call|>")) return ToolFormat::kPhi4;
  if (has(jinja, "<|python_tag|>") || (has(jinja, "<|start_header_id|>") && has(jinja, "tools"))) return ToolFormat::kLlama3;
  return ToolFormat::kGeneric;
}

// Null contents become "" (templates that test `'x' in content` fail on null).
ordered_json without_null_content(const ordered_json& messages) {
  ordered_json out = messages;
  for (auto& m : out)
    if (m.is_object() && m.contains("content") && m["content"].is_null()) m["content"] = "";
  return out;
}

std::string text_of(const ordered_json& m) { return m.contains("content") && m["content"].is_string() ? m["content"].get<std::string>() : ""; }

}  // namespace

std::string generic_tools_prompt(const ordered_json& tools) {
  std::string out = "You can call these functions:\n";
  for (const auto& t : tools) out += t.dump() + "\n";
  out +=
      "To call functions, reply with only a JSON object: {\"tool_calls\": [{\"name\": <function name>, \"arguments\": <arguments object>}]}. "
      "Otherwise reply normally.";
  return out;
}

Result<ChatFormatter> ChatFormatter::create(const std::string& jinja, std::optional<ChatTemplate> family, std::string bos, std::string eos) {
  ChatFormatter f;
  f.bos_ = std::move(bos);
  f.eos_ = std::move(eos);
  if (family) {
    f.family_ = *family;
  } else if (!jinja.empty()) {
    auto t = JinjaTemplate::compile(jinja);
    if (!t) return Status(ErrorCode::kFormatError, "tokenizer.chat_template: " + t.status().message());
    f.jinja_ = std::move(t).value();
    f.template_knows_tools_ = has(jinja, "tools");
    f.tool_format_ = f.template_knows_tools_ ? format_of(jinja) : ToolFormat::kGeneric;
    f.family_ = detect_chat_template(jinja);  // for the stop strings
  }
  return f;
}

std::string ChatFormatter::describe() const {
  std::string d = is_jinja() ? std::string("the file's Jinja template") : std::string(chat_template_name(family_)) + " (hand-written)";
  return d + ", tool calls: " + tool_format_name(tool_format_);
}

std::vector<std::string> ChatFormatter::stop_strings() const {
  std::vector<std::string> s = chat_stop_strings(family_);
  if (is_jinja() && !eos_.empty() && std::find(s.begin(), s.end(), eos_) == s.end()) s.push_back(eos_);
  return s;
}

Result<std::string> ChatFormatter::render(const ordered_json& messages, const ordered_json& tools, bool add_generation_prompt) const {
  const bool with_tools = tools.is_array() && !tools.empty();
  if (jinja_) {
    ordered_json msgs = messages;
    if (with_tools && !template_knows_tools_) {  // tell the model in a system message
      ordered_json sys = {{"role", "system"}, {"content", generic_tools_prompt(tools)}};
      if (!msgs.empty() && msgs[0].value("role", "") == "system") {
        msgs[0]["content"] = text_of(msgs[0]) + "\n\n" + sys["content"].get<std::string>();
      } else {
        msgs.insert(msgs.begin(), sys);
      }
    }
    ordered_json ctx = {{"messages", msgs}, {"add_generation_prompt", add_generation_prompt}, {"bos_token", bos_}, {"eos_token", eos_}};
    if (with_tools && template_knows_tools_) ctx["tools"] = tools;
    auto r = jinja_->render(ctx);
    if (!r) {  // templates written for Python's Jinja often fail on a null content: try ""
      ctx["messages"] = without_null_content(msgs);
      auto again = jinja_->render(ctx);
      if (again) return again;
    }
    return r;
  }
  // Hand-written families: tool calls as their generic JSON, tool results as user turns.
  std::vector<ChatMessage> out;
  if (with_tools) out.push_back({"system", generic_tools_prompt(tools)});
  for (const auto& m : messages) {
    const std::string role = m.value("role", "");
    ChatMessage cm{role, text_of(m)};
    if (role == "developer") cm.role = "system";
    if (role == "tool") cm = {"user", "Result of " + m.value("tool_call_id", std::string("the call")) + ": " + text_of(m)};
    if (role == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array()) {
      ordered_json calls = ordered_json::array();
      for (const auto& c : m["tool_calls"]) {
        const ordered_json& fn = c.contains("function") ? c["function"] : ordered_json::object();
        ordered_json args = fn.contains("arguments") ? fn["arguments"] : ordered_json::object();
        if (args.is_string()) {
          const ordered_json parsed = ordered_json::parse(args.get<std::string>(), nullptr, false);
          if (!parsed.is_discarded()) args = parsed;
        }
        calls.push_back({{"name", fn.value("name", "")}, {"arguments", args}});
      }
      cm.content += (cm.content.empty() ? "" : "\n") + ordered_json{{"tool_calls", calls}}.dump();
    }
    if (cm.role == "system" && !out.empty() && out.back().role == "system") {
      out.back().content += "\n\n" + cm.content;
      continue;
    }
    out.push_back(std::move(cm));
  }
  if (!add_generation_prompt) return Status(ErrorCode::kInvalidArgument, "chat: hand-written templates always end with the assistant's turn");
  return render_chat(family_, out, bos_);
}

}  // namespace pocket
