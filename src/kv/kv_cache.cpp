#include "kv/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "core/check.h"

namespace pocket {

ContiguousKvCache::ContiguousKvCache(int n_layer, int64_t kv_dim, int n_ctx, int n_seq)
    : n_layer_(n_layer), kv_dim_(kv_dim), n_ctx_(n_ctx), n_seq_(n_seq),
      k_((size_t)n_layer * n_seq * n_ctx * kv_dim), v_(k_.size()), len_((size_t)n_seq, 0) {}

size_t ContiguousKvCache::offset(int layer, int seq, int pos) const {
  return (((size_t)layer * n_seq_ + seq) * n_ctx_ + pos) * (size_t)kv_dim_;
}

void ContiguousKvCache::store(int layer, int seq, int pos, const float* k, const float* v) {
  POCKET_DCHECK(layer < n_layer_ && seq < n_seq_ && pos < n_ctx_);
  std::memcpy(&k_[offset(layer, seq, pos)], k, (size_t)kv_dim_ * sizeof(float));
  std::memcpy(&v_[offset(layer, seq, pos)], v, (size_t)kv_dim_ * sizeof(float));
}

KvView ContiguousKvCache::view(int layer, int seq) const {
  KvView view;
  view.type = TensorType::F32;
  view.k = reinterpret_cast<const uint8_t*>(&k_[offset(layer, seq, 0)]);
  view.v = reinterpret_cast<const uint8_t*>(&v_[offset(layer, seq, 0)]);
  view.row_stride = (size_t)kv_dim_ * sizeof(float);
  view.n_pos = len_[(size_t)seq];
  return view;
}

void ContiguousKvCache::truncate(int seq, int n_keep) {
  POCKET_CHECK(seq >= 0 && seq < n_seq_ && n_keep >= 0);
  len_[(size_t)seq] = std::min(len_[(size_t)seq], n_keep);
}

void ContiguousKvCache::fork(int src, int dst) {
  POCKET_CHECK(src >= 0 && src < n_seq_ && dst >= 0 && dst < n_seq_);
  if (src == dst) return;
  const size_t n = (size_t)len_[(size_t)src] * (size_t)kv_dim_;
  for (int l = 0; l < n_layer_; ++l) {
    std::memcpy(&k_[offset(l, dst, 0)], &k_[offset(l, src, 0)], n * sizeof(float));
    std::memcpy(&v_[offset(l, dst, 0)], &v_[offset(l, src, 0)], n * sizeof(float));
  }
  len_[(size_t)dst] = len_[(size_t)src];
}

void ContiguousKvCache::clear() { std::fill(len_.begin(), len_.end(), 0); }

}  // namespace pocket
