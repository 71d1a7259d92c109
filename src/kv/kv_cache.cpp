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
