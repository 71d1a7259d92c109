#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
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
    return MapMode::kInvalid;
  }();
  return mode;
}

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::string& path) {
  if (map_mode() == MapMode::kInvalid)
    return error(ErrorCode::kInvalidArgument,
                 std::string("POCKET_MMAP: unknown mode '") + std::getenv("POCKET_MMAP") + "' (default, willneed, populate)");
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

MappedFile::~MappedFile() {
  if (data_ != nullptr) munmap(const_cast<uint8_t*>(data_), size_);
}

void MappedFile::release_pages(const uint8_t* p, size_t n) const {
  if (data_ == nullptr || p < data_ || p + n > data_ + size_ || n == 0) return;
  const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  const uintptr_t b = ((uintptr_t)p + page - 1) / page * page, e = ((uintptr_t)p + n) / page * page;
  if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
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
