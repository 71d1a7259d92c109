#include "core/anon_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
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
  // From 2 MiB up, the mapping starts on a 2 MiB boundary (over-allocated, then trimmed at both ends), so
  // whole huge pages can cover it.
  constexpr size_t kHuge = size_t(2) << 20;
  const size_t slack = size >= kHuge ? kHuge : 0;
  void* p = mmap(nullptr, size + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return error(ErrorCode::kResourceLimit, "cannot allocate " + std::to_string(size) + " bytes: " + std::strerror(errno));
  uint8_t* at = static_cast<uint8_t*>(p);
  if (slack > 0) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const uintptr_t r = (uintptr_t)p, a = (r + kHuge - 1) / kHuge * kHuge;
    const uintptr_t end = (a + size + page - 1) / page * page;
    if (a > r) munmap(p, a - r);
    if (r + size + slack > end) munmap(reinterpret_cast<void*>(end), r + size + slack - end);
    at = reinterpret_cast<uint8_t*>(a);
  }
#ifdef MADV_HUGEPAGE
  madvise(at, size, MADV_HUGEPAGE);  // advice only: without THP the buffer works the same
#endif
  b.data_ = at;
  b.size_ = size;
  return b;
}

}  // namespace pocket
