// The real `pocket serve` binary on a loopback port (--port 0; the port is read from its log), and a
// JSON POST helper: shared by the server test files.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "test_support.h"

namespace pocket {

using nlohmann::json;

inline std::string model15m() { return test::shared("golden/stories15M-f32.llamacpp.gguf"); }

// The real binary, started with --port 0; the port is read from its log line.
class ServerProcess {
 public:
  explicit ServerProcess(const std::string& args) {
    log_ = test::temp_path("serve" + std::to_string(counter_++) + ".log");
    const std::string cmd = "exec " + test::cli() + " serve --port 0 " + args + " 2>" + log_;
    std::remove(log_.c_str());  // until the shell opens it, the log reads empty (never an older server's)
    pid_ = fork();
    if (pid_ == 0) {
      execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
      _exit(127);
    }
    const std::regex re("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 600 && port_ == 0; ++i) {  // up to 60 s (sanitizer builds load slowly)
      std::smatch m;
      const std::string log = test::read_file(log_);
      if (std::regex_search(log, m, re))
        port_ = std::stoi(m[1]);
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      exit_status_ = status;
    }
    std::remove(log_.c_str());
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }  // the server itself (sh exec's it): for /proc/<pid>/status
  std::string log() const { return test::read_file(log_); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120, 0);
    return c;
  }
  // Stops the server and returns its exit status (0: a clean shutdown, nothing leaked under ASan).
  int stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  static inline int counter_ = 0;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_status_ = 0;
  std::string log_;
};

inline json post(httplib::Client& c, const std::string& path, const json& body, int* status = nullptr) {
  auto r = c.Post(path.c_str(), body.dump(), "application/json");
  if (!r) return json();
  if (status) *status = r->status;
  return json::parse(r->body, nullptr, false);
}

}  // namespace pocket
