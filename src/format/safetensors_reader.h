// safetensors reader: 8-byte header length, JSON header, raw little-endian tensor data (mmapped).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "pocket/status.h"
#include "dtype/tensor_type.h"

namespace pocket {

struct SafeTensor {
  std::string name;
  TensorType type = TensorType::F32;  // F32, F16 or BF16
  std::vector<int64_t> shape;         // outermost first, as PyTorch
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
};

class SafetensorsFile {
 public:
  static Result<std::unique_ptr<SafetensorsFile>> open(const std::string& path);
  const SafeTensor* find(const std::string& name) const;
  const std::map<std::string, SafeTensor>& tensors() const { return tensors_; }
  const std::string& path() const { return path_; }

 private:
  std::unique_ptr<MappedFile> file_;
  std::string path_;
  std::map<std::string, SafeTensor> tensors_;
};

}  // namespace pocket
