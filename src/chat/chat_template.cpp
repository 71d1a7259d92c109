#include "chat/chat_template.h"

namespace pocket {

namespace {

struct Entry {
  ChatTemplate t;
  const char* name;
};
constexpr Entry kNames[] = {{ChatTemplate::kPlain, "plain"},   {ChatTemplate::kLlama2, "llama2"}, {ChatTemplate::kLlama3, "llama3"},
                            {ChatTemplate::kChatML, "chatml"}, {ChatTemplate::kZephyr, "zephyr"}, {ChatTemplate::kPhi3, "phi3"},
                            {ChatTemplate::kGemma, "gemma"}};

bool has(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

}  // namespace

const char* chat_template_name(ChatTemplate t) {
  for (const Entry& e : kNames)
    if (e.t == t) return e.name;
  return "plain";
}

Result<ChatTemplate> chat_template_from_name(const std::string& name) {
  for (const Entry& e : kNames)
    if (name == e.name) return e.t;
  return Status(ErrorCode::kInvalidArgument, "chat_template: unknown template '" + name + "' (plain, llama2, llama3, chatml, zephyr, phi3, gemma)",
                "chat_template");
}

ChatTemplate detect_chat_template(const std::string& j) {
  if (has(j, "<|im_start|>")) return ChatTemplate::kChatML;  // Qwen, SmolLM2-Instruct, ...
  if (has(j, "<|start_header_id|>")) return ChatTemplate::kLlama3;
  if (has(j, "<start_of_turn>")) return ChatTemplate::kGemma;
  if (has(j, "<|assistant|>") && has(j, "<|end|>")) return ChatTemplate::kPhi3;
  if (has(j, "<|assistant|>")) return ChatTemplate::kZephyr;  // Zephyr, TinyLlama-Chat
  if (has(j, "[INST]")) return ChatTemplate::kLlama2;         // Llama-2-chat, Mistral-Instruct
  return ChatTemplate::kPlain;
}

Result<std::string> render_chat(ChatTemplate t, const std::vector<ChatMessage>& msgs, const std::string& bos) {
  if (msgs.empty()) return error(ErrorCode::kInvalidArgument, "messages: at least one message is required");
  for (size_t i = 0; i < msgs.size(); ++i) {
    const std::string& r = msgs[i].role;
    if (r != "system" && r != "user" && r != "assistant")
      return error(ErrorCode::kInvalidArgument, "messages[" + std::to_string(i) + "].role: must be system, user or assistant, got '" + r + "'");
  }
  std::string out;
  switch (t) {
    case ChatTemplate::kPlain:  // a base model continues the text
      for (size_t i = 0; i < msgs.size(); ++i) out += (i ? "\n" : "") + msgs[i].content;
      return out;
    case ChatTemplate::kChatML:
      for (const ChatMessage& m : msgs) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      return out + "<|im_start|>assistant\n";
    case ChatTemplate::kLlama3:
      out = "<|begin_of_text|>";
      for (const ChatMessage& m : msgs) out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content + "<|eot_id|>";
      return out + "<|start_header_id|>assistant<|end_header_id|>\n\n";
    case ChatTemplate::kZephyr:
      for (const ChatMessage& m : msgs) out += "<|" + m.role + "|>\n" + m.content + "</s>\n";
      return out + "<|assistant|>\n";
    case ChatTemplate::kPhi3:
      for (const ChatMessage& m : msgs) out += "<|" + m.role + "|>\n" + m.content + "<|end|>\n";
      return out + "<|assistant|>\n";
    case ChatTemplate::kGemma: {
      std::string system;
      for (const ChatMessage& m : msgs) {
        if (m.role == "system") {
          system += m.content + "\n\n";
          continue;
        }
        const std::string role = m.role == "assistant" ? "model" : "user";
        out += "<start_of_turn>" + role + "\n" + (role == "user" ? system : "") + m.content + "<end_of_turn>\n";
        if (role == "user") system.clear();
      }
      return bos + out + "<start_of_turn>model\n";
    }
    case ChatTemplate::kLlama2: {
      // <s>[INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] assistant </s><s>[INST] user [/INST]
      std::string system;
      bool open = false;
      for (const ChatMessage& m : msgs) {
        if (m.role == "system") {
          system = "<<SYS>>\n" + m.content + "\n<</SYS>>\n\n";
        } else if (m.role == "user") {
          out += bos + "[INST] " + system + m.content + " [/INST]";
          system.clear();
          open = true;
        } else {
          out += " " + m.content + " </s>";
          open = false;
        }
      }
      if (!open) return error(ErrorCode::kInvalidArgument, "messages: llama2 chats must end with a user message");
      return out;
    }
  }
  return out;
}

std::vector<std::string> chat_stop_strings(ChatTemplate t) {
  switch (t) {
    case ChatTemplate::kChatML: return {"<|im_end|>"};
    case ChatTemplate::kLlama3: return {"<|eot_id|>"};
    case ChatTemplate::kPhi3: return {"<|end|>"};
    case ChatTemplate::kGemma: return {"<end_of_turn>"};
    case ChatTemplate::kZephyr: return {"</s>"};
    case ChatTemplate::kLlama2: return {"</s>"};
    case ChatTemplate::kPlain: return {};
  }
  return {};
}

}  // namespace pocket
