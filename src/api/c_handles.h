// What the C API's opaque handles hold, and the boundary every exported function goes through: errors to
// statuses with a per-thread message, exceptions caught, option structs read by their size.
#pragma once

#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "api/session.h"
#include "chat/chat_template.h"
#include "pocket/pocket.h"

struct pocket_model {
  std::string path;
  std::shared_ptr<const pocket::Model> model;
  std::shared_ptr<const pocket::Tokenizer> tokenizer;
  std::string arch, name, weight_type, weight_types, chat_template, chat_family;
  pocket::ChatTemplate family = pocket::ChatTemplate::kPlain;
  uint64_t n_params = 0;
};

struct pocket_session {
  const pocket_model* model = nullptr;
  std::unique_ptr<pocket::Session> session;
  std::string text;  // pocket_generate_next's text
};

struct pocket_sampler {
  std::unique_ptr<pocket::Sampler> sampler;
  int32_t n_vocab = 0;
};

struct pocket_detokenizer {
  std::shared_ptr<const pocket::Tokenizer> tokenizer;  // shared: the decoder stays valid on its own
  std::unique_ptr<pocket::StreamDecoder> decoder;
  int32_t prev = -1;
  std::string text;
};

namespace pocket::capi {

pocket_status set_error(pocket_status code, const std::string& message);
// The status for a library error, its message prefixed with the function's name.
pocket_status from_status(const char* fn, const Status& st);
void clear_error();
const std::string& last_error();

// Runs body (returning pocket_status) with the error cleared first and every exception turned into a status.
template <typename F>
pocket_status guarded(const char* fn, F&& body) noexcept {
  try {
    clear_error();
    return body();
  } catch (const std::bad_alloc&) {
    return set_error(POCKET_ERR_RESOURCE_LIMIT, std::string(fn) + ": out of memory");
  } catch (const std::exception& e) { return set_error(POCKET_ERR_INTERNAL, std::string(fn) + ": " + e.what()); } catch (...) {
    return set_error(POCKET_ERR_INTERNAL, std::string(fn) + ": unknown exception");
  }
}

inline pocket_status null_arg(const char* fn, const char* what) {
  return set_error(POCKET_ERR_INVALID_ARGUMENT, std::string(fn) + ": " + what + " is NULL");
}

// *out = defaults overlaid with the caller's first in->size bytes (in == nullptr: defaults).
template <typename T>
pocket_status read_params(const char* fn, const char* what, const T* in, const T& defaults, T* out) {
  *out = defaults;
  if (in == nullptr) return POCKET_OK;
  if (in->size < sizeof(size_t) || in->size > sizeof(T))
    return set_error(POCKET_ERR_INVALID_ARGUMENT, std::string(fn) + ": " + what + ".size is " + std::to_string(in->size) + " but this library's " +
                                                      what + " has " + std::to_string(sizeof(T)) + " bytes (set size = sizeof(" + what +
                                                      "); a larger one means a newer pocket.h than this library)");
  std::memcpy(static_cast<void*>(out), in, in->size);
  out->size = sizeof(T);
  return POCKET_OK;
}

// Copies n bytes of text (plus a NUL) to buf if it fits; else POCKET_ERR_BUFFER_TOO_SMALL. *n_written = n.
pocket_status write_text(const char* fn, const std::string& text, char* buf, size_t capacity, size_t* n_written);

}  // namespace pocket::capi
