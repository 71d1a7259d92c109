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

ContiguousKvCache::ContiguousKvCache(const KvCacheConfig& c)
    : c_(c), group_(kv_group(c.head_dim)), k_row_(kv_row_data_bytes(c.k_type, c.kv_dim())), v_row_(kv_row_data_bytes(c.v_type, c.kv_dim())),
      k_nsc_(kv_row_scales(c.k_type, c.kv_dim(), group_)), v_nsc_(kv_row_scales(c.v_type, c.kv_dim(), group_)), len_((size_t)c.n_seq, 0) {
  POCKET_CHECK(c.window == 0 || (c.sinks >= 0 && c.sinks < c.window && c.slack >= 0));
  const size_t slots = (size_t)c.n_layer * c.n_seq * c.slots();
  k_.resize(slots * k_row_);
  v_.resize(slots * v_row_);
  ks_.resize(slots * (size_t)k_nsc_);
  vs_.resize(slots * (size_t)v_nsc_);
}

void ContiguousKvCache::store(int layer, int seq, int pos, const float* k, const float* v) {
  POCKET_DCHECK(layer < c_.n_layer && seq < c_.n_seq && pos < c_.n_ctx);
  const size_t s = index(layer, seq, slot(seq, pos));
  kv_encode_row(c_.k_type, k, c_.kv_dim(), group_, &k_[s * k_row_], ks_.data() + s * (size_t)k_nsc_);
  kv_encode_row(c_.v_type, v, c_.kv_dim(), group_, &v_[s * v_row_], vs_.data() + s * (size_t)v_nsc_);
}

KvView ContiguousKvCache::view(int layer, int seq) const {
  const size_t s = index(layer, seq, 0);
  KvView view;
  view.k = {c_.k_type, &k_[s * k_row_], k_row_, k_nsc_ ? ks_.data() + s * (size_t)k_nsc_ : nullptr, (size_t)k_nsc_, group_};
  view.v = {c_.v_type, &v_[s * v_row_], v_row_, v_nsc_ ? vs_.data() + s * (size_t)v_nsc_ : nullptr, (size_t)v_nsc_, group_};
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
  for (int l = 0; l < c_.n_layer; ++l) {
    const size_t a = index(l, src, 0), b = index(l, dst, 0);
    std::memcpy(&k_[b * k_row_], &k_[a * k_row_], n * k_row_);
    std::memcpy(&v_[b * v_row_], &v_[a * v_row_], n * v_row_);
    if (k_nsc_) std::memcpy(&ks_[b * (size_t)k_nsc_], &ks_[a * (size_t)k_nsc_], n * (size_t)k_nsc_ * sizeof(uint16_t));
    if (v_nsc_) std::memcpy(&vs_[b * (size_t)v_nsc_], &vs_[a * (size_t)v_nsc_], n * (size_t)v_nsc_ * sizeof(uint16_t));
  }
  len_[(size_t)dst] = len_[(size_t)src];
}

void ContiguousKvCache::clear() { std::fill(len_.begin(), len_.end(), 0); }

}  // namespace pocket

namespace pocket {

PagedKvCache::PagedKvCache(const KvCacheConfig& c, int block_size, int n_blocks)
    : c_(c), bs_(block_size), group_(kv_group(c.head_dim)), k_row_(kv_row_data_bytes(c.k_type, c.kv_dim())),
      v_row_(kv_row_data_bytes(c.v_type, c.kv_dim())), k_nsc_(kv_row_scales(c.k_type, c.kv_dim(), group_)),
      v_nsc_(kv_row_scales(c.v_type, c.kv_dim(), group_)), ref_((size_t)n_blocks, 0), table_((size_t)c.n_seq), len_((size_t)c.n_seq, 0) {
  POCKET_CHECK(block_size > 0 && n_blocks > 0 && c.window == 0);
  const size_t rows = (size_t)n_blocks * c.n_layer * block_size;
  k_.resize(rows * k_row_);
  v_.resize(rows * v_row_);
  ks_.resize(rows * (size_t)k_nsc_);
  vs_.resize(rows * (size_t)v_nsc_);
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
    const size_t rows = (size_t)c_.n_layer * bs_;
    std::memcpy(&k_[krow(nb, 0, 0) * k_row_], &k_[krow(old, 0, 0) * k_row_], rows * k_row_);
    std::memcpy(&v_[krow(nb, 0, 0) * v_row_], &v_[krow(old, 0, 0) * v_row_], rows * v_row_);
    if (k_nsc_) std::memcpy(&ks_[krow(nb, 0, 0) * (size_t)k_nsc_], &ks_[krow(old, 0, 0) * (size_t)k_nsc_], rows * (size_t)k_nsc_ * sizeof(uint16_t));
    if (v_nsc_) std::memcpy(&vs_[krow(nb, 0, 0) * (size_t)v_nsc_], &vs_[krow(old, 0, 0) * (size_t)v_nsc_], rows * (size_t)v_nsc_ * sizeof(uint16_t));
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
  const size_t r = krow(b, layer, pos % bs_);
  kv_encode_row(c_.k_type, k, c_.kv_dim(), group_, &k_[r * k_row_], ks_.data() + r * (size_t)k_nsc_);
  kv_encode_row(c_.v_type, v, c_.kv_dim(), group_, &v_[r * v_row_], vs_.data() + r * (size_t)v_nsc_);
}

KvView PagedKvCache::view(int layer, int seq) const {
  KvView view;
  const size_t r = krow(0, layer, 0);  // block 0's rows of this layer; the table moves to other blocks
  view.k = {c_.k_type, &k_[r * k_row_], k_row_, k_nsc_ ? ks_.data() + r * (size_t)k_nsc_ : nullptr, (size_t)k_nsc_, group_};
  view.v = {c_.v_type, &v_[r * v_row_], v_row_, v_nsc_ ? vs_.data() + r * (size_t)v_nsc_ : nullptr, (size_t)v_nsc_, group_};
  view.head_dim = c_.head_dim;
  view.n_pos = len_[(size_t)seq];
  view.block_table = table_[(size_t)seq].data();
  view.block_size = bs_;
  const size_t rows_per_block = (size_t)c_.n_layer * bs_;
  view.k_block_stride = rows_per_block * k_row_;
  view.v_block_stride = rows_per_block * v_row_;
  view.k_scale_block_stride = rows_per_block * (size_t)k_nsc_;
  view.v_scale_block_stride = rows_per_block * (size_t)v_nsc_;
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
