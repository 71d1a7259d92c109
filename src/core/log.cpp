#include "core/log.h"

#include <cstdio>
#include <mutex>

namespace pocket {

namespace {

std::mutex& sink_mutex() {
  static std::mutex m;
  return m;
}
LogSink g_sink = nullptr;
void* g_user = nullptr;

}  // namespace

void set_log_sink(LogSink sink, void* user) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  g_sink = sink;
  g_user = user;
}

void log_message(LogLevel level, const std::string& message) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  if (g_sink) {
    g_sink(level, message.c_str(), g_user);
  } else if (level >= LogLevel::kWarn) {
    std::fprintf(stderr, "pocket: %s\n", message.c_str());
  }
}

}  // namespace pocket
