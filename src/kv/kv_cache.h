// KV cache interface: storage type and layout are the cache's own business; attention reads
// through KvView. The contiguous F32 cache here is the reference layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "pocket/status.h"
#include "quant/tensor_type.h"

namespace pocket {

// K and V rows of one (layer, sequence) for positions [0, n_pos). Row p starts at k + p * row_stride bytes.
struct KvView {
  TensorType type = TensorType::F32;
  const uint8_t* k = nullptr;
  const uint8_t* v = nullptr;
  size_t row_stride = 0;  // bytes between consecutive positions
  int n_pos = 0;
};

class KvCache {
 public:
  virtual ~KvCache() = default;
  virtual int n_ctx() const = 0;    // positions per sequence
  virtual int n_seq() const = 0;    // sequence slots
  virtual int seq_len(int seq) const = 0;  // positions stored for seq
  // Stores K and V ([kv_dim] floats each) of one position. Caller validated seq and pos.
  virtual void store(int layer, int seq, int pos, const float* k, const float* v) = 0;
  // Marks positions [0, n) of seq as valid after a forward pass wrote them.
  virtual void set_seq_len(int seq, int n) = 0;
  virtual KvView view(int layer, int seq) const = 0;
  virtual void truncate(int seq, int n_keep) = 0;  // roll back to the first n_keep positions
  virtual void fork(int src_seq, int dst_seq) = 0;  // dst becomes a copy of src
  virtual void clear() = 0;
  virtual size_t bytes() const = 0;  // bytes allocated for K and V
};

// F32, one contiguous [n_ctx, kv_dim] array per (layer, seq) for K and for V.
class ContiguousKvCache final : public KvCache {
 public:
  ContiguousKvCache(int n_layer, int64_t kv_dim, int n_ctx, int n_seq);
  int n_ctx() const override { return n_ctx_; }
  int n_seq() const override { return n_seq_; }
  int seq_len(int seq) const override { return len_[(size_t)seq]; }
  void store(int layer, int seq, int pos, const float* k, const float* v) override;
  void set_seq_len(int seq, int n) override { len_[(size_t)seq] = n; }
  KvView view(int layer, int seq) const override;
  void truncate(int seq, int n_keep) override;
  void fork(int src_seq, int dst_seq) override;
  void clear() override;
  size_t bytes() const override { return (k_.size() + v_.size()) * sizeof(float); }

 private:
  size_t offset(int layer, int seq, int pos) const;
  int n_layer_;
  int64_t kv_dim_;
  int n_ctx_;
  int n_seq_;
  std::vector<float> k_;  // (layer, seq, pos, kv_dim)
  std::vector<float> v_;  // (layer, seq, pos, kv_dim)
  std::vector<int> len_;  // (seq)
};

}  // namespace pocket
