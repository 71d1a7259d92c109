// Model::pack_weights: the row-interleaved copies the packed kernels stream (kernels/packed_rows.h).
#include <algorithm>
#include <atomic>
#include <thread>

#include "core/log.h"
#include "kernels/kernel_choice.h"
#include "kernels/packed_rows.h"
#include "model/model_weights.h"

namespace pocket {

void Model::pack_weights(const KernelTable& kt, const KernelChoice& kc, int n_threads) const {
  std::call_once(pack_once_, [&] {
    if (!packing_enabled()) return;
    std::vector<const Matrix*> ms;
    for (const LayerWeights& L : weights_.layers)
      for (const Matrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) ms.push_back(m);
    ms.push_back(&weights_.output);
    auto packable = [&](const Matrix* m) {
      return m->data != nullptr && packable_type(m->type) && kt.vec_dot_packed[(int)m->type] != nullptr && kc.use_packed(m->type, m->cols) &&
             m->rows % kPackRows == 0 && m->cols % traits(m->type).block_size == 0;
    };
    // One buffer for all (64-byte aligned starts): huge pages where the kernel gives them.
    auto bytes_of = [](const Matrix* m) { return ((size_t)(m->rows / kPackRows) * packed_group_bytes(m->type, m->cols) + 63) / 64 * 64; };
    size_t total = 0;
    for (const Matrix* m : ms)
      if (packable(m)) total += bytes_of(m);
    Result<AnonBuffer> buf = AnonBuffer::allocate(total);
    if (!buf.is_ok()) {  // no memory for the copy: the file's rows serve, with the same bits
      log_message(LogLevel::kWarn, file_->name() + ": not packing weights: " + buf.status().message());
      return;
    }
    packed_ = std::move(buf.value());
    // Work items of kSliceRows rows: the packed copy is now the one the matmuls read, so the file's
    // pages of each slice (when they are the file's) are dropped as soon as it is copied, and resident
    // memory never holds more than a slice per thread twice. They come back only if something reads the
    // rows themselves (a tied embedding's lookups). Threads share the items: most of the time goes to
    // the kernel zeroing the new pages on first write, which runs on the faulting core.
    constexpr int64_t kSliceRows = 1024;
    struct Slice {
      const Matrix* m;
      int64_t r;
      uint8_t* dst;
    };
    std::vector<Slice> slices;
    uint8_t* at = packed_.data();
    for (const Matrix* m : ms) {
      if (!packable(m)) continue;
      for (int64_t r = 0; r < m->rows; r += kSliceRows) slices.push_back({m, r, at + (size_t)(r / kPackRows) * packed_group_bytes(m->type, m->cols)});
      m->packed = at;
      at += bytes_of(m);
    }
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1)) < slices.size();) {
        const Slice& sl = slices[i];
        const int64_t n = std::min(kSliceRows, sl.m->rows - sl.r);
        pack_rows(sl.m->type, sl.m->row(sl.r), sl.m->row_bytes, n, sl.m->cols, sl.dst);
        file_->release_pages(sl.m->row(sl.r), (size_t)n * sl.m->row_bytes);
      }
    };
    std::vector<std::thread> helpers;
    for (int t = 1; t < n_threads; ++t) helpers.emplace_back(work);
    work();
    for (std::thread& h : helpers) h.join();
    packed_bytes_ = total;
  });
}

}  // namespace pocket
