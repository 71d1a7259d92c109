// Chat-template renderer: messages made from arbitrary bytes, every template.
#include "chat/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<pocket::ChatMessage> msgs;
  static const char* roles[] = {"system", "user", "assistant", "tool"};
  size_t i = 0;
  while (i < size && msgs.size() < 16) {
    const uint8_t role = data[i++];
    const size_t len = i < size ? data[i++] : 0;
    const size_t n = std::min(len, size - i);
    msgs.push_back({roles[role % 4], std::string(reinterpret_cast<const char*>(data + i), n)});
    i += n;
  }
  const std::string jinja(reinterpret_cast<const char*>(data), std::min<size_t>(size, 256));
  (void)pocket::detect_chat_template(jinja);
  for (int t = 0; t <= (int)pocket::ChatTemplate::kGemma; ++t) (void)pocket::render_chat((pocket::ChatTemplate)t, msgs, "<s>");
  return 0;
}
