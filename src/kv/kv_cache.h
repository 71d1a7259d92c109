// KV cache interface: storage type and layout are the cache's own business; attention reads
// through KvView. ContiguousKvCache: one [n_ctx, kv_dim] array per (layer, sequence) for K and for V,
// each in its own element type (f32, f16, q8, q4 — kv_row.h).
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "dtype/kv_row.h"
#include "pocket/status.h"

namespace pocket {

// K and V rows of one (layer, sequence) for positions [0, n_pos). Contiguous caches: row p at
// data + p * stride. Paged caches (block_table != nullptr): row p at
// data + block_table[p / block_size] * block_stride + (p % block_size) * stride (scales likewise).
struct KvView {
  KvHeadRows k, v;  // offset to KV head 0; head(g) moves them to head g
  int64_t head_dim = 0;
  int n_pos = 0;
  const int32_t* block_table = nullptr;
  int block_size = 0;
  size_t k_block_stride = 0, v_block_stride = 0;              // bytes
  size_t k_scale_block_stride = 0, v_scale_block_stride = 0;  // scales
  // The row slot p of a head's rows (for paged views: rebased into its block).
  static KvHeadRows at(const KvHeadRows& h, const KvView& view, bool is_k, int p, int* row) {
    if (view.block_table == nullptr) {
      *row = p;
      return h;
    }
    KvHeadRows r = h;
    const size_t b = (size_t)view.block_table[p / view.block_size];
    r.data += b * (is_k ? view.k_block_stride : view.v_block_stride);
    if (r.scales) r.scales += b * (is_k ? view.k_scale_block_stride : view.v_scale_block_stride);
    *row = p % view.block_size;
    return r;
  }

  static KvHeadRows head(const KvHeadRows& rows, int64_t g, int64_t head_dim) {
    KvHeadRows r = rows;
    r.data += kv_row_data_bytes(rows.type, g * head_dim);
    if (r.scales) r.scales += g * head_dim / rows.group;
    return r;
  }
  KvHeadRows k_head(int64_t g) const { return head(k, g, head_dim); }
  KvHeadRows v_head(int64_t g) const { return head(v, g, head_dim); }
};

class KvCache {
 public:
  virtual ~KvCache() = default;
  virtual int n_ctx() const = 0;           // positions per sequence
  virtual int n_seq() const = 0;           // sequence slots
  virtual int seq_len(int seq) const = 0;  // positions stored for seq
  // Stores K and V ([kv_dim] floats each) of one position. Caller validated seq and pos.
  virtual void store(int layer, int seq, int pos, const float* k, const float* v) = 0;
  // Marks positions [0, n) of seq as valid after a forward pass wrote them.
  virtual void set_seq_len(int seq, int n) = 0;
  virtual KvView view(int layer, int seq) const = 0;
  // Sliding window (StreamingLLM): 0 = off. With a window W and S sinks, position t attends to
  // positions [0, S) and (t - (W - S), t]; the rest may have been overwritten.
  virtual int window() const { return 0; }
  virtual int sinks() const { return 0; }
  // The view row holding position pos of seq (the identity without a window).
  virtual int slot(int /*seq*/, int pos) const { return pos; }
  virtual int slots() const { return n_ctx(); }  // positions the memory holds per sequence
  // Most positions one query attends to (the size of its score buffer).
  int attention_span() const { return window() > 0 ? std::min(n_ctx(), window()) : n_ctx(); }
  virtual void truncate(int seq, int n_keep) = 0;   // roll back to the first n_keep positions
  virtual void fork(int src_seq, int dst_seq) = 0;  // dst becomes a copy of src
  // Makes room for positions [seq_len(seq), end) before a forward pass writes them (paged caches
  // allocate blocks and copy shared ones here); an error when memory runs out, before any work.
  virtual Status reserve(int /*seq*/, int /*end*/) { return Status::ok(); }
  virtual void clear() = 0;
  virtual size_t bytes() const { return data_bytes() + scale_bytes(); }  // bytes allocated for K and V
  virtual size_t data_bytes() const = 0;                                 // the values: 2 x n_layer x n_head_kv x head_dim x T x bytes per value
  virtual size_t scale_bytes() const = 0;                                // quantization scales (0 for f32/f16)
};

struct KvCacheConfig {
  int n_layer = 0;
  int64_t n_head_kv = 0, head_dim = 0;
  int n_ctx = 0, n_seq = 1;
  KvType k_type = KvType::kF32, v_type = KvType::kF32;
  // Sliding window: positions are kept in a ring of window + slack slots (slack = tokens per forward
  // chunk - 1, so a chunk never overwrites what its own earlier tokens still attend to), the first
  // `sinks` positions never leave. n_ctx is then the largest position, not the memory.
  int window = 0, sinks = 0, slack = 0;
  int64_t kv_dim() const { return n_head_kv * head_dim; }
  int slots() const { return window > 0 ? std::min(n_ctx, window + slack) : n_ctx; }
};

// Bytes a cache of this configuration allocates (data, scales), computed before allocating it.
void kv_cache_bytes(const KvCacheConfig& c, size_t* data, size_t* scales);

// Row storage shared by the cache layouts: n_rows K rows and V rows in their types, with scales.
// The layouts differ only in which row index a (layer, sequence, position) maps to.
struct KvRowStore {
  KvType k_type = KvType::kF32, v_type = KvType::kF32;
  int64_t kv_dim = 0, group = 32;
  size_t k_row = 0, v_row = 0;   // bytes per row
  int64_t k_nsc = 0, v_nsc = 0;  // scales per row
  std::vector<uint8_t> k, v;     // (row, row bytes)
  std::vector<uint16_t> ks, vs;  // (row, scales) fp16

  KvRowStore(const KvCacheConfig& c, size_t n_rows);
  void store(size_t row, const float* kx, const float* vx);
  void copy_rows(size_t dst, size_t src, size_t n);  // rows [src, src+n) -> [dst, dst+n)
  // K and V rows from `row` on, as attention reads them (stride = one row).
  KvHeadRows k_from(size_t row) const {
    return {k_type, &k[row * k_row], k_row, k_nsc ? ks.data() + row * (size_t)k_nsc : nullptr, (size_t)k_nsc, group};
  }
  KvHeadRows v_from(size_t row) const {
    return {v_type, &v[row * v_row], v_row, v_nsc ? vs.data() + row * (size_t)v_nsc : nullptr, (size_t)v_nsc, group};
  }
  size_t data_bytes() const { return k.size() + v.size(); }
  size_t scale_bytes() const { return (ks.size() + vs.size()) * sizeof(uint16_t); }
};

// What every layout keeps the same way: its configuration and each sequence's length.
class KvCacheBase : public KvCache {
 public:
  explicit KvCacheBase(const KvCacheConfig& c) : c_(c), len_((size_t)c.n_seq, 0) {}
  int n_ctx() const override { return c_.n_ctx; }
  int n_seq() const override { return c_.n_seq; }
  int seq_len(int seq) const override { return len_[(size_t)seq]; }
  void set_seq_len(int seq, int n) override { len_[(size_t)seq] = n; }
  const KvCacheConfig& config() const { return c_; }

 protected:
  KvCacheConfig c_;
  std::vector<int> len_;  // (seq)
};

class ContiguousKvCache final : public KvCacheBase {
 public:
  explicit ContiguousKvCache(const KvCacheConfig& c);
  ContiguousKvCache(int n_layer, int64_t kv_dim, int n_ctx, int n_seq);  // F32, one head of kv_dim
  void store(int layer, int seq, int pos, const float* k, const float* v) override;
  KvView view(int layer, int seq) const override;
  void truncate(int seq, int n_keep) override;
  void fork(int src_seq, int dst_seq) override;
  void clear() override;
  size_t data_bytes() const override { return rows_.data_bytes(); }
  size_t scale_bytes() const override { return rows_.scale_bytes(); }
  // The rows seq holds (its K and V values and scales, every layer) appended to out, and back: state
  // files and forks. load_rows needs exactly the bytes save_rows wrote for a sequence of length n under
  // the same configuration; it sets the length to n.
  void save_rows(int seq, std::vector<uint8_t>* out) const;
  size_t rows_bytes(int n) const;  // what save_rows writes for a sequence of length n
  Status load_rows(int seq, int n, const uint8_t* data, size_t size);
  int window() const override { return c_.window; }
  int slots() const override { return c_.slots(); }
  int sinks() const override { return c_.sinks; }
  int slot(int, int pos) const override {
    const int n = c_.slots();
    return pos < n ? pos : c_.sinks + (pos - c_.sinks) % (n - c_.sinks);
  }

 private:
  size_t index(int layer, int seq, int s) const { return ((size_t)layer * c_.n_seq + seq) * c_.slots() + s; }
  KvRowStore rows_;  // rows (layer, seq, slot)
};

// Paged: a pool of blocks of `block_size` positions (all layers' K and V rows of those positions)
// shared by every sequence through per-sequence block tables. fork() shares the source's blocks
// (a common prompt prefix is stored once); a write into a shared block copies it first
// (copy on write, in reserve()); truncate() returns whole blocks to the pool.
class PagedKvCache final : public KvCacheBase {
 public:
  PagedKvCache(const KvCacheConfig& c, int block_size, int n_blocks);
  void store(int layer, int seq, int pos, const float* k, const float* v) override;
  KvView view(int layer, int seq) const override;
  void truncate(int seq, int n_keep) override;
  void fork(int src_seq, int dst_seq) override;
  void clear() override;
  Status reserve(int seq, int end) override;
  size_t data_bytes() const override { return rows_.data_bytes(); }
  size_t scale_bytes() const override { return rows_.scale_bytes(); }

  int block_size() const { return bs_; }
  int n_blocks() const { return (int)ref_.size(); }
  int blocks_in_use() const { return n_blocks() - (int)free_.size(); }
  const std::vector<int32_t>& block_table(int seq) const { return table_[(size_t)seq]; }

 private:
  void release(int seq, size_t first_block);  // drops seq's blocks from first_block on
  size_t krow(int32_t b, int layer, int r) const { return (((size_t)b * c_.n_layer + layer) * bs_ + r); }
  int bs_;
  KvRowStore rows_;                          // rows (block, layer, row in block)
  std::vector<int> ref_;                     // (block) sequences using it
  std::vector<int32_t> free_;                // free block ids
  std::vector<std::vector<int32_t>> table_;  // (seq) block ids
};

}  // namespace pocket
