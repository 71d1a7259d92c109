// Helpers for the libFuzzer targets: input bytes as a file path (memfd, no disk), shared data paths.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace pocket::fuzz {

// The bytes as a readable file: an anonymous in-memory file reached through /proc/self/fd.
class MemFile {
 public:
  MemFile(const uint8_t* data, size_t size) {
    fd_ = memfd_create("pocket-fuzz", 0);
    if (fd_ >= 0 && size > 0 && write(fd_, data, size) != (ssize_t)size) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~MemFile() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_ = -1;
};

inline std::string shared_path(const std::string& rel) {
  const char* env = std::getenv("POCKET_SHARED");
  return std::string(env ? env : POCKET_SHARED_DIR) + "/" + rel;
}

}  // namespace pocket::fuzz
