// GGUF v3 writer: metadata in insertion order, tensors aligned; the file appears atomically.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "format/gguf_value.h"
#include "pocket/status.h"
#include "dtype/tensor_type.h"

namespace pocket {

class GgufWriter {
 public:
  explicit GgufWriter(size_t alignment = 32) : alignment_(alignment) {}

  void set(const std::string& key, GgufValue v);  // replaces an existing key, keeps its position
  // ne[0] is the contiguous dimension. The writer takes ownership of the bytes.
  Status add_tensor(const std::string& name, TensorType type, std::vector<int64_t> ne, std::vector<uint8_t> data);
  // Same, but borrows bytes that must stay valid until write() returns.
  Status add_tensor_view(const std::string& name, TensorType type, std::vector<int64_t> ne, const uint8_t* data, size_t nbytes);

  // Same, but the bytes are produced by `fill` while writing, one tensor at a time, so files larger
  // than memory can be written (synthetic models). `fill` receives a buffer of the tensor's size.
  using FillFn = std::function<Status(uint8_t* dst)>;  // an error stops the write; nothing is left at the path
  Status add_tensor_lazy(const std::string& name, TensorType type, std::vector<int64_t> ne, FillFn fill);

  // Writes to a temporary file beside `path`, then renames it into place.
  // An existing file is replaced only when overwrite is true.
  Status write(const std::string& path, bool overwrite) const;
  // Serializes into memory (tests, fuzz seeds).
  std::vector<uint8_t> to_bytes() const;

 private:
  struct Tensor {
    std::string name;
    TensorType type;
    std::vector<int64_t> ne;
    std::vector<uint8_t> owned;
    const uint8_t* data;
    size_t nbytes;
    FillFn fill;
  };
  template <typename Sink>
  Status serialize(Sink& sink) const;

  size_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace pocket
