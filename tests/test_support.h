// Helpers shared by the tests: where the shared data lives, small file utilities.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <vector>

namespace pocket::test {

inline std::string shared_dir() {
  const char* env = std::getenv("POCKET_SHARED");
  return env ? env : POCKET_SHARED_DIR;
}
inline std::string shared(const std::string& rel) { return shared_dir() + "/" + rel; }
inline std::string source_dir() { return POCKET_SOURCE_DIR; }
inline std::string cli() { return POCKET_CLI; }
// POCKET_SANITIZE=1 (the ASan/UBSan and TSan passes): the slow model tests run smaller versions, for
// memory and thread safety; their full numbers are checked in the plain Release pass.
inline bool quick() {
  const char* v = std::getenv("POCKET_SANITIZE");
  return v != nullptr && std::string(v) == "1";
}

inline bool file_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

inline std::string read_file(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<float> read_f32(const std::string& p) {
  const std::string s = read_file(p);
  std::vector<float> v(s.size() / 4);
  std::memcpy(v.data(), s.data(), v.size() * 4);
  return v;
}

// A name unique to this process: the pid and a per-process nonce (a pid is reused, and a file a killed
// test left behind must never be read as this one's).
inline std::string temp_path(const std::string& name) {
  static const std::string nonce =
      std::to_string(std::random_device{}()) + "_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp ? tmp : "/tmp") + "/pocket_test_" + std::to_string(::getpid()) + "_" + nonce + "_" + name;
}

struct CommandResult {
  int exit_code;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs a shell command, capturing stdout and stderr separately.
inline CommandResult run_command(const std::string& cmd) {
  const std::string out_path = temp_path("cmd.out"), err_path = temp_path("cmd.err");
  const int rc = std::system((cmd + " >" + out_path + " 2>" + err_path).c_str());
  CommandResult r{WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc), read_file(out_path), read_file(err_path)};
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  return r;
}

}  // namespace pocket::test
