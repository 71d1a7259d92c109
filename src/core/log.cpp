#include "core/log.h"

#include <cstdio>
#include <mutex>

namespace pocket {

namespace {

// Recursive: a sink may call back into the library, which may log again on the same thread.
std::recursive_mutex& sink_mutex() {
  static std::recursive_mutex m;
  return m;
}
LogSink g_sink = nullptr;
void* g_user = nullptr;

}  // namespace

void set_log_sink(LogSink sink, void* user) {
  std::lock_guard<std::recursive_mutex> lock(sink_mutex());
  g_sink = sink;
  g_user = user;
}

void log_message(LogLevel level, const std::string& message) {
  std::lock_guard<std::recursive_mutex> lock(sink_mutex());
  if (g_sink) {
    g_sink(level, message.c_str(), g_user);
  } else if (level >= LogLevel::kWarn) {
    std::fprintf(stderr, "pocket: %s\n", message.c_str());
  }
}

}  // namespace pocket
