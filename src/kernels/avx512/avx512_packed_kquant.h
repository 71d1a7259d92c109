// The token loop both packed K-quant kernels share (avx512_packed_q4k.h, avx512_packed_q6k.h): one group
// of kPackRows rows against n_tok tokens' Q8_K activations, kWidest tokens per pass while they last (4 or
// 2), then 2, then 1. Pass::run<k>(super-blocks, group, k activation rows, k output rows) is one pass.
// Included only by AVX-512 kernel headers (internal linkage).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "dtype/block_formats.h"

namespace pocket {
namespace {

template <class Pass, int kWidest>
void packed_kquant_tokens(int64_t n, const uint8_t* w, const void* x, size_t xs, int n_tok, float* out, size_t os) {
  static_assert(kWidest == 2 || kWidest == 4, "passes of 4, 2 and 1 tokens, or 2 and 1");
  const uint8_t* xa = static_cast<const uint8_t*>(x);
  auto pass = [&](auto width, int t) {
    constexpr int k = decltype(width)::value;
    const BlockQ8_K* xb[k];
    float* o[k];
    for (int j = 0; j < k; ++j) xb[j] = reinterpret_cast<const BlockQ8_K*>(xa + (t + j) * xs), o[j] = out + (t + j) * os;
    Pass::template run<k>(n / kQK_K, w, xb, o);
  };
  int t = 0;
  if constexpr (kWidest == 4)
    for (; t + 4 <= n_tok; t += 4) pass(std::integral_constant<int, 4>{}, t);
  for (; t + 2 <= n_tok; t += 2) pass(std::integral_constant<int, 2>{}, t);
  if (t < n_tok) pass(std::integral_constant<int, 1>{}, t);
}

}  // namespace
}  // namespace pocket
