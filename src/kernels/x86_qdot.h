// Q8_0 / Q4_0 dot products against Q8_0 activations, written once for every x86 table. The only
// thing an ISA changes is how 32 unsigned x signed bytes become 8 int32 lane sums (`UDot::lanes`):
// AVX2 uses maddubs + madd, AVX-512 VNNI uses vpdpbusd. Both give the same integers, so every table
// returns bit-identical results. Internal linkage: each table's translation unit compiles its own copy
// for its own ISA (see x86_simd.h).
#pragma once

#include "kernels/x86_simd.h"
#include "dtype/block_formats.h"

namespace pocket {
namespace {

// Weight block as signed bytes: Q8_0 as stored, Q4_0 unpacked and offset by -8.
template <bool kQ4>
inline __m256i load_weight_block(const void* w, int64_t b, float* d) {
  if constexpr (kQ4) {
    const BlockQ4_0& blk = static_cast<const BlockQ4_0*>(w)[b];
    *d = h2f(blk.d);
    return _mm256_sub_epi8(unpack_nibbles(blk.qs), _mm256_set1_epi8(8));
  } else {
    const BlockQ8_0& blk = static_cast<const BlockQ8_0*>(w)[b];
    *d = h2f(blk.d);
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs));
  }
}

// sum(w_i * x_i) over one block as 8 float lanes: |w| times x with w's sign (the unsigned x signed
// form the integer-dot instructions need).
template <class UDot>
inline __m256 block_lanes(__m256i qw, __m256i abs_w, const BlockQ8_0& xb) {
  const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs));
  return _mm256_cvtepi32_ps(UDot::lanes(abs_w, _mm256_sign_epi8(qx, qw)));
}

// Software prefetch distance for weight rows streamed from DRAM (decode): one stream of dependent
// block work does not keep the hardware prefetchers ahead on every core (measured 2.4 of 10.6 GB/s
// on an AVX-512 Xeon VM). Prefetching changes no arithmetic.
constexpr int64_t kPrefetchBytes = 2048;
template <bool kQ4>
inline void prefetch_weight(const void* w, int64_t b) {
  constexpr int64_t bs = kQ4 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0);
  _mm_prefetch(static_cast<const char*>(w) + b * bs + kPrefetchBytes, _MM_HINT_T0);
}

template <bool kQ4, class UDot>
float qdot(int64_t n, const void* w, const void* x) {
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / 32; ++b) {
    prefetch_weight<kQ4>(w, b);
    float dw;
    const __m256i qw = load_weight_block<kQ4>(w, b, &dw);
    const __m256 d = _mm256_set1_ps(dw * h2f(xb[b].d));
    acc = _mm256_fmadd_ps(d, block_lanes<UDot>(qw, _mm256_sign_epi8(qw, qw), xb[b]), acc);
  }
  return hsum256(acc);
}

// One weight row against 4 tokens' activations (x_stride bytes apart): the weight block is loaded,
// unpacked and made absolute once; per token the arithmetic is qdot's exactly.
template <bool kQ4, class UDot>
void qdot_x4(int64_t n, const void* w, const void* x, size_t xs, float* out) {
  const BlockQ8_0* xb[4];
  for (int j = 0; j < 4; ++j) xb[j] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(x) + j * xs);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t b = 0; b < n / 32; ++b) {
    float dw;
    const __m256i qw = load_weight_block<kQ4>(w, b, &dw);
    const __m256i aw = _mm256_sign_epi8(qw, qw);
    for (int j = 0; j < 4; ++j) acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dw * h2f(xb[j][b].d)), block_lanes<UDot>(qw, aw, xb[j][b]), acc[j]);
  }
  for (int j = 0; j < 4; ++j) out[j] = hsum256(acc[j]);
}

// Four weight rows (w_stride bytes apart) against one token's activations: the activation block and
// its scale are loaded once; per row the arithmetic is qdot's exactly (same operations, same order).
template <bool kQ4, class UDot>
void qdot_r4(int64_t n, const void* w, size_t ws, const void* x, float* out) {
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  const uint8_t* wr[4];
  for (int j = 0; j < 4; ++j) wr[j] = static_cast<const uint8_t*>(w) + j * ws;
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t b = 0; b < n / 32; ++b) {
    const float dx = h2f(xb[b].d);
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs));
    for (int j = 0; j < 4; ++j) prefetch_weight<kQ4>(wr[j], b);
    for (int j = 0; j < 4; ++j) {
      float dw;
      const __m256i qw = load_weight_block<kQ4>(wr[j], b, &dw);
      const __m256 lanes = _mm256_cvtepi32_ps(UDot::lanes(_mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qx, qw)));
      acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(dw * dx), lanes, acc[j]);
    }
  }
  for (int j = 0; j < 4; ++j) out[j] = hsum256(acc[j]);
}

}  // namespace
}  // namespace pocket
