#include "core/anon_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace pocket {

AnonBuffer::~AnonBuffer() {
  if (data_ != nullptr) munmap(data_, size_);
}

AnonBuffer& AnonBuffer::operator=(AnonBuffer&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr) munmap(data_, size_);
    data_ = o.data_, size_ = o.size_;
    o.data_ = nullptr, o.size_ = 0;
  }
  return *this;
}

Result<AnonBuffer> AnonBuffer::allocate(size_t size) {
  AnonBuffer b;
  if (size == 0) return b;
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return error(ErrorCode::kResourceLimit, "cannot allocate " + std::to_string(size) + " bytes: " + std::strerror(errno));
#ifdef MADV_HUGEPAGE
  madvise(p, size, MADV_HUGEPAGE);  // advice only: without THP the buffer works the same
#endif
  b.data_ = static_cast<uint8_t*>(p);
  b.size_ = size;
  return b;
}

}  // namespace pocket
