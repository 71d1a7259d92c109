// GGUF v2/v3 reader: validates every field, memory-maps the file and hands out zero-copy tensor views.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/mapped_file.h"
#include "format/gguf_value.h"
#include "pocket/status.h"
#include "dtype/tensor_type.h"

namespace pocket {

constexpr int kMaxDims = 4;

// A tensor inside a mapped file. ne[0] is the contiguous (innermost) dimension, as in GGML.
struct TensorView {
  std::string name;
  TensorType type = TensorType::F32;
  int n_dims = 0;
  int64_t ne[kMaxDims] = {1, 1, 1, 1};
  uint64_t offset = 0;            // relative to the data section
  const uint8_t* data = nullptr;  // points into the mapping; valid while the GgufFile lives
  size_t nbytes = 0;

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
  std::string shape_string() const;
};

class GgufFile {
 public:
  // Maps and parses the file at path.
  static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
  // Parses bytes the caller keeps alive (tests, fuzzing). `name` is used in error messages.
  static Result<std::unique_ptr<GgufFile>> parse(const uint8_t* data, size_t size, const std::string& name);

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }
  size_t file_size() const { return size_; }
  const uint8_t* bytes() const { return bytes_; }  // the whole file (mapped)
  // Drops the process's pages of a mapped range (MappedFile::release_pages); nothing for parse()d bytes.
  void release_pages(const uint8_t* p, size_t n) const {
    if (map_) map_->release_pages(p, n);
  }

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(const std::string& key) const;

  // Typed getters: errors name the file, the key and the reason (missing / wrong type / out of range).
  Result<uint64_t> get_uint(const std::string& key) const;
  Result<double> get_float(const std::string& key) const;
  Result<std::string> get_string(const std::string& key) const;
  Result<bool> get_bool(const std::string& key) const;
  Result<const GgufValue*> get_array(const std::string& key, GgufType elem) const;
  uint64_t get_uint_or(const std::string& key, uint64_t def) const;
  double get_float_or(const std::string& key, double def) const;
  bool get_bool_or(const std::string& key, bool def) const;
  std::string get_string_or(const std::string& key, const std::string& def) const;

  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* find_tensor(const std::string& name) const;

 private:
  GgufFile() = default;
  Status parse_all();

  std::unique_ptr<MappedFile> map_;
  const uint8_t* bytes_ = nullptr;
  size_t size_ = 0;
  std::string name_;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<TensorView> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace pocket
