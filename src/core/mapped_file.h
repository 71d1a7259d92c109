// Read-only memory-mapped file; the owner of the bytes every zero-copy tensor view points into.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/anon_buffer.h"
#include "pocket/status.h"

namespace pocket {

// How a file is mapped, from POCKET_MMAP (measured in README "Measured speed": load and time to first
// token from a cold page cache): default (pages fault in on first touch), willneed (madvise read-ahead),
// populate (MAP_POPULATE: read whole at open), copy (read whole at open into anonymous memory on 2 MiB
// transparent huge pages: no TLB miss per 4 KiB page while weights stream, at the price of anonymous
// memory the kernel cannot drop and re-read under pressure). An unknown value makes every open an error
// naming it.
enum class MapMode { kDefault, kWillNeed, kPopulate, kCopy, kInvalid };
MapMode map_mode();

class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Drops this process's pages of [p, p + n) (the whole pages inside it) when the range lies in the
  // mapping: they come back from the file on the next touch. For bytes copied elsewhere (packed weights).
  // (In copy mode the range is mapped from the file again in place of the copy.)
  void release_pages(const uint8_t* p, size_t n) const;
  bool copied() const { return fd_ >= 0; }  // read into anonymous memory (POCKET_MMAP=copy)

 private:
  MappedFile() = default;
  Status read_into_huge_pages(int fd);
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  AnonBuffer copy_;  // copy mode: the bytes data_ points into
  int fd_ = -1;      // copy mode: the file, for release_pages
  std::string path_;
};

// Whole-file read into memory, for small text files (JSON, tokenizer files).
Result<std::string> read_text_file(const std::string& path, size_t max_bytes = size_t(1) << 31);

}  // namespace pocket
