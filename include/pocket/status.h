// Status and Result<T>: how every function that touches outside input reports failure.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace pocket {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // bad flag, bad option value
  kIoError,          // open/read/write/mmap failed
  kFormatError,      // file content violates its format (GGUF, safetensors, llama2.c, JSON)
  kUnsupported,      // valid but not handled (unknown tensor type, architecture)
  kOutOfRange,       // prompt longer than context, count beyond limits
  kResourceLimit,    // refusing an allocation that would exceed limits
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  // An error about one option of the library's API: `field` is its name there (temperature, n_threads,
  // kv_sinks, ...), and the message names it the same way. Front ends rename it to what their users
  // typed (the CLI's --temp, the server's JSON "temperature"): see core/field_names.h.
  Status(ErrorCode code, std::string message, std::string field) : code_(code), message_(std::move(message)), field_(std::move(field)) {}
  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }  // empty unless the error is about one option

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string field_;
};

inline Status error(ErrorCode code, std::string message) { return Status(code, std::move(message)); }
// "field reason", e.g. field_error("temperature", "must be a finite number").
inline Status field_error(const std::string& field, const std::string& reason, ErrorCode code = ErrorCode::kInvalidArgument) {
  return Status(code, field + " " + reason, field);
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {
    if (std::get<Status>(v_).is_ok()) {
      std::fprintf(stderr, "pocket: Result constructed from an ok Status\n");
      std::abort();
    }
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status ok_status;
    return is_ok() ? ok_status : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pocket

// Propagate a failed Status from an expression returning Status.
#define POCKET_RETURN_IF_ERROR(expr)            \
  do {                                          \
    ::pocket::Status pocket_st_ = (expr);       \
    if (!pocket_st_.is_ok()) return pocket_st_; \
  } while (0)

#define POCKET_CONCAT_INNER(a, b) a##b
#define POCKET_CONCAT(a, b) POCKET_CONCAT_INNER(a, b)
// Assign the value of a Result<T> expression to lhs or return its Status.
#define POCKET_ASSIGN_OR_RETURN(lhs, expr)                                                                 \
  auto POCKET_CONCAT(pocket_res_, __LINE__) = (expr);                                                      \
  if (!POCKET_CONCAT(pocket_res_, __LINE__).is_ok()) return POCKET_CONCAT(pocket_res_, __LINE__).status(); \
  lhs = std::move(POCKET_CONCAT(pocket_res_, __LINE__)).value()
