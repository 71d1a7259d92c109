// A large anonymous allocation (mmap) that asks for transparent huge pages, for bytes built at load
// that the hot loops stream (packed weights): fewer page faults while it is filled, fewer TLB misses
// while it is read. From 2 MiB up it starts on a 2 MiB boundary. Pages are not touched here; the kernel
// zeroes each on its first write.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pocket/status.h"

namespace pocket {

class AnonBuffer {
 public:
  AnonBuffer() = default;
  ~AnonBuffer();
  AnonBuffer(AnonBuffer&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr, o.size_ = 0; }
  AnonBuffer& operator=(AnonBuffer&& o) noexcept;
  AnonBuffer(const AnonBuffer&) = delete;
  AnonBuffer& operator=(const AnonBuffer&) = delete;

  // size 0 gives an empty buffer; an mmap failure is a kResourceLimit error naming the size.
  static Result<AnonBuffer> allocate(size_t size);
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace pocket
