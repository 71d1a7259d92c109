#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pocket {

MapMode map_mode() {
  static const MapMode mode = [] {
    const char* env = std::getenv("POCKET_MMAP");
    if (env == nullptr || *env == 0 || std::strcmp(env, "default") == 0) return MapMode::kDefault;
    if (std::strcmp(env, "willneed") == 0) return MapMode::kWillNeed;
    if (std::strcmp(env, "populate") == 0) return MapMode::kPopulate;
    if (std::strcmp(env, "copy") == 0) return MapMode::kCopy;
    return MapMode::kInvalid;
  }();
  return mode;
}

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::string& path) {
  if (map_mode() == MapMode::kInvalid)
    return error(ErrorCode::kInvalidArgument,
                 std::string("POCKET_MMAP: unknown mode '") + std::getenv("POCKET_MMAP") + "' (default, willneed, populate, copy)");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return error(ErrorCode::kIoError, path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return error(ErrorCode::kIoError, path + ": cannot stat: " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return error(ErrorCode::kIoError, path + ": not a regular file");
  }
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = (size_t)st.st_size;
  if (f->size_ > 0 && map_mode() == MapMode::kCopy) {
    Status st_copy = f->read_into_huge_pages(fd);
    if (!st_copy.is_ok()) {
      ::close(fd);
      return st_copy;
    }
    f->fd_ = fd;
    return f;
  }
  if (f->size_ > 0) {
    void* p = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE | (map_mode() == MapMode::kPopulate ? MAP_POPULATE : 0), fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      return error(ErrorCode::kIoError, path + ": mmap failed: " + std::strerror(e));
    }
    f->data_ = static_cast<const uint8_t*>(p);
    // POCKET_MMAP=willneed asks the kernel to read the file ahead (asynchronously); default: pages come in
    // on first touch. (populate maps with MAP_POPULATE: the whole file is read before open returns.)
    if (map_mode() == MapMode::kWillNeed) madvise(p, f->size_, MADV_WILLNEED);
  }
  ::close(fd);
  return f;
}

namespace {

// Reads n bytes at offset off into dst (retrying short reads and EINTR); on failure *why says why.
bool pread_all(int fd, uint8_t* dst, size_t n, off_t off, std::string* why) {
  for (size_t done = 0; done < n;) {
    const ssize_t got = pread(fd, dst + done, std::min(n - done, size_t(64) << 20), off + (off_t)done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      *why = "read failed at byte " + std::to_string((size_t)off + done) + ": " + (got < 0 ? std::strerror(errno) : "file shrank while read");
      return false;
    }
    done += (size_t)got;
  }
  return true;
}

}  // namespace

// Copy mode: an AnonBuffer (2 MiB-aligned, madvised for THP), filled with pread, then made read-only.
Status MappedFile::read_into_huge_pages(int fd) {
  Result<AnonBuffer> buf = AnonBuffer::allocate(size_);
  if (!buf.is_ok()) return error(ErrorCode::kResourceLimit, path_ + ": POCKET_MMAP=copy: " + buf.status().message());
  copy_ = std::move(buf.value());
  std::string why;
  if (!pread_all(fd, copy_.data(), size_, 0, &why)) {
    copy_ = AnonBuffer();
    return error(ErrorCode::kIoError, path_ + ": POCKET_MMAP=copy: " + why);
  }
  mprotect(copy_.data(), size_, PROT_READ);
  data_ = copy_.data();
  return Status::ok();
}

MappedFile::~MappedFile() {
  if (data_ != nullptr && fd_ < 0) munmap(const_cast<uint8_t*>(data_), size_);  // copy mode: copy_ unmaps itself
  if (fd_ >= 0) ::close(fd_);
}

void MappedFile::release_pages(const uint8_t* p, size_t n) const {
  if (data_ == nullptr || p < data_ || p + n > data_ + size_ || n == 0) return;
  const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  const uintptr_t b = ((uintptr_t)p + page - 1) / page * page, e = ((uintptr_t)p + n) / page * page;
  if (e <= b) return;
  if (fd_ < 0) {
    madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
    return;
  }
  // Copy mode: the file's own pages over the copy (same offsets, as data_ maps offset 0), so the bytes
  // read the same and the anonymous pages are freed. A failed MAP_FIXED may leave the range unmapped:
  // then the bytes are read back into fresh anonymous pages, and if even that fails the process stops
  // with the reason rather than fault later on a hole.
  void* const at = reinterpret_cast<void*>(b);
  const off_t off = (off_t)(b - (uintptr_t)data_);
  if (mmap(at, e - b, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd_, off) != MAP_FAILED) return;
  std::string why = std::strerror(errno);
  const bool restored = mmap(at, e - b, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED &&
                        pread_all(fd_, static_cast<uint8_t*>(at), e - b, off, &why);
  if (!restored) {
    std::fprintf(stderr, "pocket: %s: POCKET_MMAP=copy: cannot map pages back from the file (%s)\n", path_.c_str(), why.c_str());
    std::abort();
  }
  mprotect(at, e - b, PROT_READ);
}

Result<std::string> read_text_file(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return error(ErrorCode::kIoError, path + ": cannot open: " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff n = in.tellg();
  if (n < 0) return error(ErrorCode::kIoError, path + ": cannot determine size");
  if ((size_t)n > max_bytes) return error(ErrorCode::kResourceLimit, path + ": file too large (" + std::to_string(n) + " bytes)");
  in.seekg(0, std::ios::beg);
  std::string s((size_t)n, '\0');
  if (n > 0 && !in.read(s.data(), n)) return error(ErrorCode::kIoError, path + ": read failed");
  return s;
}

}  // namespace pocket
