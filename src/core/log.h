// The library's log: messages go to a sink the embedding app chooses (the C API's log callback); by
// default warnings and errors go to stderr.
#pragma once

#include <string>

namespace pocket {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using LogSink = void (*)(LogLevel level, const char* message, void* user);

// nullptr: the default (stderr for kWarn and above). Safe to call at any time from any thread.
void set_log_sink(LogSink sink, void* user);
void log_message(LogLevel level, const std::string& message);

}  // namespace pocket
