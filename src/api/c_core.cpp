// Version, statuses, the per-thread error message, the log callback.
#include "api/c_handles.h"
#include "core/log.h"

#include <mutex>

namespace pocket::capi {

namespace {
thread_local std::string t_last_error;
}

pocket_status set_error(pocket_status code, const std::string& message) {
  t_last_error = message;
  log_message(LogLevel::kDebug, message);
  return code;
}

void clear_error() { t_last_error.clear(); }
const std::string& last_error() { return t_last_error; }

pocket_status from_status(const char* fn, const Status& st) {
  if (st.is_ok()) return POCKET_OK;
  pocket_status code = POCKET_ERR_INTERNAL;
  switch (st.code()) {
    case ErrorCode::kOk: return POCKET_OK;
    case ErrorCode::kInvalidArgument: code = POCKET_ERR_INVALID_ARGUMENT; break;
    case ErrorCode::kIoError: code = POCKET_ERR_IO; break;
    case ErrorCode::kFormatError: code = POCKET_ERR_FORMAT; break;
    case ErrorCode::kUnsupported: code = POCKET_ERR_UNSUPPORTED; break;
    case ErrorCode::kOutOfRange: code = POCKET_ERR_OUT_OF_RANGE; break;
    case ErrorCode::kResourceLimit: code = POCKET_ERR_RESOURCE_LIMIT; break;
  }
  return set_error(code, std::string(fn) + ": " + st.message());
}

pocket_status write_text(const char* fn, const std::string& text, char* buf, size_t capacity, size_t* n_written) {
  if (n_written == nullptr) return null_arg(fn, "n_written");
  *n_written = text.size();
  if (buf == nullptr && capacity > 0) return null_arg(fn, "buf");
  if (capacity < text.size() + 1)
    return set_error(POCKET_ERR_BUFFER_TOO_SMALL, std::string(fn) + ": the buffer holds " + std::to_string(capacity) + " bytes but " +
                                                      std::to_string(text.size() + 1) + " are needed (with the NUL)");
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return POCKET_OK;
}

}  // namespace pocket::capi

using namespace pocket;

extern "C" {

POCKET_API const char* pocket_version(void) { return "0.1.0"; }
POCKET_API int pocket_abi_version(void) { return POCKET_ABI_VERSION; }

POCKET_API const char* pocket_status_name(pocket_status status) {
  switch (status) {
    case POCKET_OK: return "ok";
    case POCKET_ERR_INVALID_ARGUMENT: return "invalid_argument";
    case POCKET_ERR_IO: return "io_error";
    case POCKET_ERR_FORMAT: return "format_error";
    case POCKET_ERR_UNSUPPORTED: return "unsupported";
    case POCKET_ERR_OUT_OF_RANGE: return "out_of_range";
    case POCKET_ERR_RESOURCE_LIMIT: return "resource_limit";
    case POCKET_ERR_BUFFER_TOO_SMALL: return "buffer_too_small";
    case POCKET_ERR_CANCELLED: return "cancelled";
    case POCKET_ERR_INTERNAL: return "internal";
  }
  return "unknown_status";
}

POCKET_API const char* pocket_last_error(void) { return capi::last_error().c_str(); }

namespace {
struct LogTarget {
  pocket_log_callback callback;
  void* user;
};
void log_trampoline(LogLevel level, const char* message, void* user) {
  const LogTarget* t = static_cast<const LogTarget*>(user);
  t->callback((pocket_log_level)level, message, t->user);
}
}  // namespace

POCKET_API void pocket_set_log_callback(pocket_log_callback callback, void* user) {
  static std::mutex set_mutex;
  static std::unique_ptr<LogTarget> current;
  std::lock_guard<std::mutex> lock(set_mutex);
  std::unique_ptr<LogTarget> next(callback ? new LogTarget{callback, user} : nullptr);
  set_log_sink(callback ? log_trampoline : nullptr, next.get());
  // set_log_sink took the log's lock, which every callback runs under: none still uses the old target.
  current = std::move(next);
}

}  // extern "C"
