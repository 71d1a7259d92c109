// Tokens and text: tokenizing, pieces, incremental detokenizing, chat templates.
#include "api/c_handles.h"

using namespace pocket;
using namespace pocket::capi;

namespace {

pocket_status check_token(const char* fn, const Tokenizer& tok, pocket_token token) {
  const int32_t n = tok.vocab().n_tokens();
  if (token < 0 || token >= n)
    return set_error(POCKET_ERR_OUT_OF_RANGE,
                     std::string(fn) + ": token id " + std::to_string(token) + " outside the vocabulary (0.." + std::to_string(n - 1) + ")");
  return POCKET_OK;
}

Result<ChatTemplate> family_of(const pocket_model* model, const char* family) {
  if (family == nullptr) return model->family;
  return chat_template_from_name(family);
}

}  // namespace

extern "C" {

POCKET_API pocket_status pocket_tokenize(const pocket_model* model, const char* text, size_t text_len, bool add_special, bool parse_special,
                                         pocket_token* out, size_t capacity, size_t* n_written) {
  static const char* fn = "pocket_tokenize";
  return guarded(fn, [&]() -> pocket_status {
    if (model == nullptr) return null_arg(fn, "model");
    if (text == nullptr && text_len > 0) return null_arg(fn, "text");
    if (n_written == nullptr) return null_arg(fn, "n_written");
    if (out == nullptr && capacity > 0) return null_arg(fn, "out");
    const std::vector<int32_t> ids = model->tokenizer->encode(std::string(text ? text : "", text_len), add_special, parse_special);
    *n_written = ids.size();
    if (ids.size() > capacity)
      return set_error(POCKET_ERR_BUFFER_TOO_SMALL,
                       std::string(fn) + ": " + std::to_string(ids.size()) + " tokens but room for " + std::to_string(capacity));
    std::copy(ids.begin(), ids.end(), out);
    return POCKET_OK;
  });
}

POCKET_API pocket_status pocket_token_to_piece(const pocket_model* model, pocket_token token, bool special, char* buf, size_t capacity,
                                               size_t* n_written) {
  static const char* fn = "pocket_token_to_piece";
  return guarded(fn, [&]() -> pocket_status {
    if (model == nullptr) return null_arg(fn, "model");
    if (pocket_status s = check_token(fn, *model->tokenizer, token)) return s;
    return write_text(fn, model->tokenizer->token_to_piece(token, special), buf, capacity, n_written);
  });
}

POCKET_API pocket_status pocket_detokenize(const pocket_model* model, const pocket_token* tokens, size_t n_tokens, bool special, char* buf,
                                           size_t capacity, size_t* n_written) {
  static const char* fn = "pocket_detokenize";
  return guarded(fn, [&]() -> pocket_status {
    if (model == nullptr) return null_arg(fn, "model");
    if (tokens == nullptr && n_tokens > 0) return null_arg(fn, "tokens");
    std::vector<int32_t> ids(tokens, tokens + n_tokens);
    for (int32_t t : ids)
      if (pocket_status s = check_token(fn, *model->tokenizer, t)) return s;
    return write_text(fn, model->tokenizer->decode(ids, special), buf, capacity, n_written);
  });
}

POCKET_API pocket_status pocket_detokenizer_new(const pocket_model* model, pocket_detokenizer** out) {
  static const char* fn = "pocket_detokenizer_new";
  return guarded(fn, [&]() -> pocket_status {
    if (out == nullptr) return null_arg(fn, "out");
    *out = nullptr;
    if (model == nullptr) return null_arg(fn, "model");
    auto d = std::make_unique<pocket_detokenizer>();
    d->tokenizer = model->tokenizer;
    d->decoder = std::make_unique<StreamDecoder>(*d->tokenizer);
    *out = d.release();
    return POCKET_OK;
  });
}

POCKET_API pocket_status pocket_detokenizer_push(pocket_detokenizer* detok, pocket_token token, const char** text, size_t* text_len) {
  static const char* fn = "pocket_detokenizer_push";
  return guarded(fn, [&]() -> pocket_status {
    if (detok == nullptr) return null_arg(fn, "detok");
    if (text == nullptr) return null_arg(fn, "text");
    if (text_len == nullptr) return null_arg(fn, "text_len");
    if (pocket_status s = check_token(fn, *detok->tokenizer, token)) return s;
    detok->text = detok->decoder->push(detok->prev, token);
    detok->prev = token;
    *text = detok->text.c_str();
    *text_len = detok->text.size();
    return POCKET_OK;
  });
}

POCKET_API pocket_status pocket_detokenizer_flush(pocket_detokenizer* detok, const char** text, size_t* text_len) {
  static const char* fn = "pocket_detokenizer_flush";
  return guarded(fn, [&]() -> pocket_status {
    if (detok == nullptr) return null_arg(fn, "detok");
    if (text == nullptr) return null_arg(fn, "text");
    if (text_len == nullptr) return null_arg(fn, "text_len");
    detok->text = detok->decoder->flush();
    detok->prev = -1;
    *text = detok->text.c_str();
    *text_len = detok->text.size();
    return POCKET_OK;
  });
}

POCKET_API void pocket_detokenizer_free(pocket_detokenizer* detok) { delete detok; }

POCKET_API pocket_status pocket_chat_apply(const pocket_model* model, const char* family, const pocket_chat_message* messages, size_t n_messages,
                                           char* buf, size_t capacity, size_t* n_written) {
  static const char* fn = "pocket_chat_apply";
  return guarded(fn, [&]() -> pocket_status {
    if (model == nullptr) return null_arg(fn, "model");
    if (messages == nullptr && n_messages > 0) return null_arg(fn, "messages");
    Result<ChatTemplate> t = family_of(model, family);
    if (!t) return from_status(fn, t.status());
    std::vector<ChatMessage> msgs;
    for (size_t i = 0; i < n_messages; ++i) {
      if (messages[i].role == nullptr) return null_arg(fn, ("messages[" + std::to_string(i) + "].role").c_str());
      if (messages[i].content == nullptr) return null_arg(fn, ("messages[" + std::to_string(i) + "].content").c_str());
      msgs.push_back({messages[i].role, messages[i].content});
    }
    const int32_t bos = model->tokenizer->vocab().bos;
    Result<std::string> r = render_chat(t.value(), msgs, bos >= 0 ? model->tokenizer->token_to_piece(bos, true) : "");
    if (!r) return from_status(fn, r.status());
    return write_text(fn, r.value(), buf, capacity, n_written);
  });
}

POCKET_API pocket_status pocket_chat_stop_strings(const pocket_model* model, const char* family, const char** out, size_t capacity,
                                                  size_t* n_written) {
  static const char* fn = "pocket_chat_stop_strings";
  return guarded(fn, [&]() -> pocket_status {
    if (model == nullptr) return null_arg(fn, "model");
    if (n_written == nullptr) return null_arg(fn, "n_written");
    if (out == nullptr && capacity > 0) return null_arg(fn, "out");
    Result<ChatTemplate> t = family_of(model, family);
    if (!t) return from_status(fn, t.status());
    // Static storage per family: the pointers stay valid for the life of the process.
    static const std::vector<std::string> stops[] = {chat_stop_strings(ChatTemplate::kPlain),  chat_stop_strings(ChatTemplate::kLlama2),
                                                     chat_stop_strings(ChatTemplate::kLlama3), chat_stop_strings(ChatTemplate::kChatML),
                                                     chat_stop_strings(ChatTemplate::kZephyr), chat_stop_strings(ChatTemplate::kPhi3),
                                                     chat_stop_strings(ChatTemplate::kGemma)};
    const std::vector<std::string>& s = stops[(size_t)t.value()];
    *n_written = s.size();
    if (s.size() > capacity)
      return set_error(POCKET_ERR_BUFFER_TOO_SMALL,
                       std::string(fn) + ": " + std::to_string(s.size()) + " stop strings but room for " + std::to_string(capacity));
    for (size_t i = 0; i < s.size(); ++i) out[i] = s[i].c_str();
    return POCKET_OK;
  });
}

}  // extern "C"
