// Chat templates: detection from a GGUF's Jinja text and the exact prompt each family expects.
#include <gtest/gtest.h>

#include "chat/chat_template.h"

namespace pocket {
namespace {

const std::vector<ChatMessage> kChat = {{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Name a color."}};

TEST(ChatTemplate, DetectsFamiliesFromTheirMarkers) {
  EXPECT_EQ(detect_chat_template("{% for m in messages %}<|im_start|>{{m.role}}..."), ChatTemplate::kChatML);
  EXPECT_EQ(detect_chat_template("{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>' }}"), ChatTemplate::kLlama3);
  EXPECT_EQ(detect_chat_template("{{ bos_token + '[INST] ' + content + ' [/INST]' }}"), ChatTemplate::kLlama2);
  EXPECT_EQ(detect_chat_template("{{ '<|user|>\n' + content + '</s>' }}{{ '<|assistant|>' }}"), ChatTemplate::kZephyr);
  EXPECT_EQ(detect_chat_template("{{'<|user|>' + '\n' + m['content'] + '<|end|>'}}{{ '<|assistant|>' }}"), ChatTemplate::kPhi3);
  EXPECT_EQ(detect_chat_template("{{ '<start_of_turn>' + role + '\n' }}"), ChatTemplate::kGemma);
  EXPECT_EQ(detect_chat_template(""), ChatTemplate::kPlain);
  EXPECT_EQ(detect_chat_template("{{ messages }}"), ChatTemplate::kPlain);
  for (const char* n : {"plain", "llama2", "llama3", "chatml", "zephyr", "phi3", "gemma"}) {
    auto t = chat_template_from_name(n);
    ASSERT_TRUE(t.is_ok()) << n;
    EXPECT_STREQ(chat_template_name(t.value()), n);
  }
  EXPECT_FALSE(chat_template_from_name("jinja").is_ok());
}

TEST(ChatTemplate, RendersEachFamilyExactly) {
  EXPECT_EQ(render_chat(ChatTemplate::kChatML, kChat, "<s>").value(),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
            "<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(render_chat(ChatTemplate::kLlama2, kChat, "<s>").value(),
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Name a color. [/INST]");
  EXPECT_EQ(render_chat(ChatTemplate::kLlama3, {{"user", "Hi"}}, "").value(),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(render_chat(ChatTemplate::kZephyr, {{"user", "Hi"}}, "").value(), "<|user|>\nHi</s>\n<|assistant|>\n");
  EXPECT_EQ(render_chat(ChatTemplate::kPhi3, {{"user", "Hi"}}, "").value(), "<|user|>\nHi<|end|>\n<|assistant|>\n");
  EXPECT_EQ(render_chat(ChatTemplate::kGemma, {{"system", "Be brief."}, {"user", "Hi"}}, "<bos>").value(),
            "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_EQ(render_chat(ChatTemplate::kPlain, {{"user", "Once upon a time"}}, "").value(), "Once upon a time");
  EXPECT_EQ(chat_stop_strings(ChatTemplate::kChatML), std::vector<std::string>{"<|im_end|>"});
  EXPECT_TRUE(chat_stop_strings(ChatTemplate::kPlain).empty());
}

TEST(ChatTemplate, BadConversationsAreErrors) {
  EXPECT_FALSE(render_chat(ChatTemplate::kChatML, {}, "").is_ok());
  auto r = render_chat(ChatTemplate::kChatML, {{"robot", "beep"}}, "");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("messages[0].role"), std::string::npos);
  EXPECT_FALSE(render_chat(ChatTemplate::kLlama2, {{"user", "Hi"}, {"assistant", "Hello"}}, "<s>").is_ok());
}

}  // namespace
}  // namespace pocket
