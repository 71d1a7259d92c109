#include "kv/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "core/check.h"

namespace pocket {

void kv_cache_bytes(const KvCacheConfig& c, size_t* data, size_t* scales) {
  const size_t slots = (size_t)c.n_layer * c.n_seq * c.slots();
  const int64_t g = kv_group(c.head_dim);
  *data = slots * (kv_row_data_bytes(c.k_type, c.kv_dim()) + kv_row_data_bytes(c.v_type, c.kv_dim()));
  *scales = slots * (size_t)(kv_row_scales(c.k_type, c.kv_dim(), g) + kv_row_scales(c.v_type, c.kv_dim(), g)) * sizeof(uint16_t);
}

KvRowStore::KvRowStore(const KvCacheConfig& c, size_t n_rows)
    : k_type(c.k_type), v_type(c.v_type), kv_dim(c.kv_dim()), group(kv_group(c.head_dim)), k_row(kv_row_data_bytes(c.k_type, c.kv_dim())),
      v_row(kv_row_data_bytes(c.v_type, c.kv_dim())), k_nsc(kv_row_scales(c.k_type, c.kv_dim(), group)),
      v_nsc(kv_row_scales(c.v_type, c.kv_dim(), group)), k(n_rows * k_row), v(n_rows * v_row), ks(n_rows * (size_t)k_nsc),
      vs(n_rows * (size_t)v_nsc) {}

void KvRowStore::store(size_t row, const float* kx, const float* vx) {
  kv_encode_row(k_type, kx, kv_dim, group, &k[row * k_row], ks.data() + row * (size_t)k_nsc);
  kv_encode_row(v_type, vx, kv_dim, group, &v[row * v_row], vs.data() + row * (size_t)v_nsc);
}

void KvRowStore::copy_rows(size_t dst, size_t src, size_t n) {
  std::memcpy(&k[dst * k_row], &k[src * k_row], n * k_row);
  std::memcpy(&v[dst * v_row], &v[src * v_row], n * v_row);
  if (k_nsc) std::memcpy(&ks[dst * (size_t)k_nsc], &ks[src * (size_t)k_nsc], n * (size_t)k_nsc * sizeof(uint16_t));
  if (v_nsc) std::memcpy(&vs[dst * (size_t)v_nsc], &vs[src * (size_t)v_nsc], n * (size_t)v_nsc * sizeof(uint16_t));
}

namespace {
KvCacheConfig f32_config(int n_layer, int64_t kv_dim, int n_ctx, int n_seq) {
  KvCacheConfig c;
  c.n_layer = n_layer;
  c.n_head_kv = 1;
  c.head_dim = kv_dim;
  c.n_ctx = n_ctx;
  c.n_seq = n_seq;
  return c;
}
}  // namespace

ContiguousKvCache::ContiguousKvCache(int n_layer, int64_t kv_dim, int n_ctx, int n_seq)
    : ContiguousKvCache(f32_config(n_layer, kv_dim, n_ctx, n_seq)) {}

ContiguousKvCache::ContiguousKvCache(const KvCacheConfig& c) : KvCacheBase(c), rows_(c, (size_t)c.n_layer * c.n_seq * c.slots()) {
  POCKET_CHECK(c.window == 0 || (c.sinks >= 0 && c.sinks < c.window && c.slack >= 0));
}

void ContiguousKvCache::store(int layer, int seq, int pos, const float* k, const float* v) {
  POCKET_DCHECK(layer < c_.n_layer && seq < c_.n_seq && pos < c_.n_ctx);
  rows_.store(index(layer, seq, slot(seq, pos)), k, v);
}

KvView ContiguousKvCache::view(int layer, int seq) const {
  KvView view;
  view.k = rows_.k_from(index(layer, seq, 0));
  view.v = rows_.v_from(index(layer, seq, 0));
  view.head_dim = c_.head_dim;
  view.n_pos = std::min(len_[(size_t)seq], c_.slots());
  return view;
}

void ContiguousKvCache::truncate(int seq, int n_keep) {
  POCKET_CHECK(seq >= 0 && seq < c_.n_seq && n_keep >= 0);
  // In a ring, only the last `slack` positions can be rolled back (older ones may be overwritten).
  POCKET_CHECK(c_.window == 0 || len_[(size_t)seq] <= c_.slots() || len_[(size_t)seq] - n_keep <= c_.slack);
  len_[(size_t)seq] = std::min(len_[(size_t)seq], n_keep);
}

void ContiguousKvCache::fork(int src, int dst) {
  POCKET_CHECK(src >= 0 && src < c_.n_seq && dst >= 0 && dst < c_.n_seq);
  if (src == dst) return;
  const size_t n = (size_t)std::min(len_[(size_t)src], c_.slots());
  for (int l = 0; l < c_.n_layer; ++l) rows_.copy_rows(index(l, dst, 0), index(l, src, 0), n);
  len_[(size_t)dst] = len_[(size_t)src];
}

void ContiguousKvCache::clear() { std::fill(len_.begin(), len_.end(), 0); }

size_t ContiguousKvCache::rows_bytes(int n) const {
  const size_t rows = (size_t)std::min(std::max(n, 0), c_.slots());
  return (size_t)c_.n_layer * rows * (rows_.k_row + rows_.v_row + (size_t)(rows_.k_nsc + rows_.v_nsc) * sizeof(uint16_t));
}

void ContiguousKvCache::save_rows(int seq, std::vector<uint8_t>* out) const {
  POCKET_CHECK(seq >= 0 && seq < c_.n_seq);
  const size_t n = (size_t)std::min(len_[(size_t)seq], c_.slots());
  const auto put = [out](const void* p, size_t bytes) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    out->insert(out->end(), b, b + bytes);
  };
  for (int l = 0; l < c_.n_layer; ++l) {
    const size_t r = index(l, seq, 0);
    put(&rows_.k[r * rows_.k_row], n * rows_.k_row);
    put(&rows_.v[r * rows_.v_row], n * rows_.v_row);
    if (rows_.k_nsc) put(&rows_.ks[r * (size_t)rows_.k_nsc], n * (size_t)rows_.k_nsc * sizeof(uint16_t));
    if (rows_.v_nsc) put(&rows_.vs[r * (size_t)rows_.v_nsc], n * (size_t)rows_.v_nsc * sizeof(uint16_t));
  }
}

Status ContiguousKvCache::load_rows(int seq, int n, const uint8_t* data, size_t size) {
  if (seq < 0 || seq >= c_.n_seq) return error(ErrorCode::kInvalidArgument, "KV state: sequence " + std::to_string(seq) + " out of range");
  if (n < 0 || n > c_.n_ctx)
    return error(ErrorCode::kOutOfRange, "KV state: " + std::to_string(n) + " positions but the cache holds " + std::to_string(c_.n_ctx));
  if (size != rows_bytes(n))
    return error(ErrorCode::kFormatError, "KV state: " + std::to_string(size) + " bytes but " + std::to_string(rows_bytes(n)) + " expected for " +
                                              std::to_string(n) + " positions");
  const size_t rows = (size_t)std::min(n, c_.slots());
  const auto get = [&data](void* p, size_t bytes) {
    std::memcpy(p, data, bytes);
    data += bytes;
  };
  for (int l = 0; l < c_.n_layer; ++l) {
    const size_t r = index(l, seq, 0);
    get(&rows_.k[r * rows_.k_row], rows * rows_.k_row);
    get(&rows_.v[r * rows_.v_row], rows * rows_.v_row);
    if (rows_.k_nsc) get(&rows_.ks[r * (size_t)rows_.k_nsc], rows * (size_t)rows_.k_nsc * sizeof(uint16_t));
    if (rows_.v_nsc) get(&rows_.vs[r * (size_t)rows_.v_nsc], rows * (size_t)rows_.v_nsc * sizeof(uint16_t));
  }
  len_[(size_t)seq] = n;
  return Status::ok();
}

}  // namespace pocket

namespace pocket {

PagedKvCache::PagedKvCache(const KvCacheConfig& c, int block_size, int n_blocks)
    : KvCacheBase(c), bs_(block_size), rows_(c, (size_t)std::max(n_blocks, 0) * c.n_layer * std::max(block_size, 0)),
      ref_((size_t)std::max(n_blocks, 0), 0), table_((size_t)c.n_seq) {
  POCKET_CHECK(block_size > 0 && n_blocks > 0 && c.window == 0);
  for (int b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

Status PagedKvCache::reserve(int seq, int end) {
  std::vector<int32_t>& t = table_[(size_t)seq];
  const size_t need = (size_t)(end + bs_ - 1) / bs_;
  // Blocks that will be written: from the one holding seq_len on. Shared ones are copied first.
  const size_t first_written = (size_t)len_[(size_t)seq] / bs_;
  size_t fresh = need > t.size() ? need - t.size() : 0;
  for (size_t i = first_written; i < t.size() && i < need; ++i) fresh += ref_[(size_t)t[i]] > 1;
  if (fresh > free_.size())
    return error(ErrorCode::kResourceLimit, "KV cache: sequence " + std::to_string(seq) + " needs " + std::to_string(fresh) + " more blocks of " +
                                                std::to_string(bs_) + " positions, " + std::to_string(free_.size()) + " of " +
                                                std::to_string(ref_.size()) + " are free");
  for (size_t i = first_written; i < t.size() && i < need; ++i) {
    const int32_t old = t[i];
    if (ref_[(size_t)old] <= 1) continue;
    const int32_t nb = free_.back();
    free_.pop_back();
    ref_[(size_t)nb] = 1;
    --ref_[(size_t)old];
    rows_.copy_rows(krow(nb, 0, 0), krow(old, 0, 0), (size_t)c_.n_layer * bs_);
    t[i] = nb;
  }
  while (t.size() < need) {
    const int32_t nb = free_.back();
    free_.pop_back();
    ref_[(size_t)nb] = 1;
    t.push_back(nb);
  }
  return Status::ok();
}

void PagedKvCache::store(int layer, int seq, int pos, const float* k, const float* v) {
  const std::vector<int32_t>& t = table_[(size_t)seq];
  POCKET_CHECK((size_t)(pos / bs_) < t.size());  // reserve() ran for this position
  const int32_t b = t[(size_t)(pos / bs_)];
  POCKET_DCHECK(ref_[(size_t)b] == 1);
  rows_.store(krow(b, layer, pos % bs_), k, v);
}

KvView PagedKvCache::view(int layer, int seq) const {
  KvView view;
  view.k = rows_.k_from(krow(0, layer, 0));  // block 0's rows of this layer; the table moves to other blocks
  view.v = rows_.v_from(krow(0, layer, 0));
  view.head_dim = c_.head_dim;
  view.n_pos = len_[(size_t)seq];
  view.block_table = table_[(size_t)seq].data();
  view.block_size = bs_;
  const size_t rows_per_block = (size_t)c_.n_layer * bs_;
  view.k_block_stride = rows_per_block * rows_.k_row;
  view.v_block_stride = rows_per_block * rows_.v_row;
  view.k_scale_block_stride = rows_per_block * (size_t)rows_.k_nsc;
  view.v_scale_block_stride = rows_per_block * (size_t)rows_.v_nsc;
  return view;
}

void PagedKvCache::release(int seq, size_t first_block) {
  std::vector<int32_t>& t = table_[(size_t)seq];
  for (size_t i = first_block; i < t.size(); ++i) {
    if (--ref_[(size_t)t[i]] == 0) free_.push_back(t[i]);
  }
  if (first_block < t.size()) t.resize(first_block);
}

void PagedKvCache::truncate(int seq, int n_keep) {
  POCKET_CHECK(seq >= 0 && seq < c_.n_seq && n_keep >= 0);
  len_[(size_t)seq] = std::min(len_[(size_t)seq], n_keep);
  release(seq, (size_t)(len_[(size_t)seq] + bs_ - 1) / bs_);
}

void PagedKvCache::fork(int src, int dst) {
  POCKET_CHECK(src >= 0 && src < c_.n_seq && dst >= 0 && dst < c_.n_seq);
  if (src == dst) return;
  release(dst, 0);
  table_[(size_t)dst] = table_[(size_t)src];
  for (int32_t b : table_[(size_t)dst]) ++ref_[(size_t)b];
  len_[(size_t)dst] = len_[(size_t)src];
}

void PagedKvCache::clear() {
  for (int s = 0; s < c_.n_seq; ++s) {
    release(s, 0);
    len_[(size_t)s] = 0;
  }
}

}  // namespace pocket
