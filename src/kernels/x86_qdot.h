// Q8_0 / Q4_0 dot products against Q8_0 activations, written once for every x86 table. The only
// thing an ISA changes is how 32 unsigned x signed bytes become 8 int32 lane sums (`UDot::lanes`):
// AVX2 uses maddubs + madd, AVX-512 VNNI uses vpdpbusd. Both give the same integers, so every table
// returns bit-identical results. Internal linkage: each table's translation unit compiles its own copy
// for its own ISA (see x86_simd.h).
//
// The x86 float order (every Q8_0/Q4_0 kernel of an x86 table follows it, the packed ones included, so
// neither batching nor packing changes a bit): per block b the exact int32 sum S_b of its 32 products;
// d_b = dw_b * dx_b rounded to float; chain k = b mod 4 accumulates acc_k = fma(d_b, (float)S_b, acc_k)
// in block order from +0; the result is (acc_0 + acc_2) + (acc_1 + acc_3). One fma per block, not per
// 4 products, is what lets the 16-row packed kernels feed vpdpbusd (avx512_packed.h).
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

// sum(w_i * x_i) over one block as 8 int32 lanes: |w| times x with w's sign (the unsigned x signed
// form the integer-dot instructions need).
template <class UDot>
inline __m256i block_lanes(__m256i qw, __m256i abs_w, const BlockQ8_0& xb) {
  const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs));
  return UDot::lanes(abs_w, _mm256_sign_epi8(qx, qw));
}

// The 8-lane sums of 4 blocks to their 4 block sums [S_0, S_1, S_2, S_3] (exact integer adds).
inline __m128i block_sums4(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
  const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(v0, v1), _mm256_hadd_epi32(v2, v3));
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

// One step of the 4 chains: acc_k = fma(d_k, S_k, acc_k).
inline __m128 chain_step(__m128 acc, const float* d, __m128i sums) {
  return _mm_fmadd_ps(_mm_setr_ps(d[0], d[1], d[2], d[3]), _mm_cvtepi32_ps(sums), acc);
}

// (acc_0 + acc_2) + (acc_1 + acc_3).
inline float chains_result(__m128 acc) {
  const __m128 s = _mm_add_ps(acc, _mm_movehl_ps(acc, acc));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
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

// Blocks [b, b + 4) of one (row, token) pair, those past nb as zeros (fma(0, 0, acc) = acc: a chain never
// holds -0, it starts at +0 and an exact cancellation rounds to +0).
template <bool kQ4, class UDot>
inline __m128 pair_step(const void* w, const BlockQ8_0* xb, int64_t b, int64_t nb, __m128 acc) {
  __m256i v[4];
  float d[4];
  for (int k = 0; k < 4; ++k) {
    if (b + k < nb) {
      prefetch_weight<kQ4>(w, b + k);
      float dw;
      const __m256i qw = load_weight_block<kQ4>(w, b + k, &dw);
      v[k] = block_lanes<UDot>(qw, _mm256_sign_epi8(qw, qw), xb[b + k]);
      d[k] = dw * h2f(xb[b + k].d);
    } else {
      v[k] = _mm256_setzero_si256();
      d[k] = 0.0f;
    }
  }
  return chain_step(acc, d, block_sums4(v[0], v[1], v[2], v[3]));
}

template <bool kQ4, class UDot>
float qdot(int64_t n, const void* w, const void* x) {
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  const int64_t nb = n / 32;
  __m128 acc = _mm_setzero_ps();
  for (int64_t b = 0; b < nb; b += 4) acc = pair_step<kQ4, UDot>(w, xb, b, nb, acc);
  return chains_result(acc);
}

// One weight row against 4 tokens' activations (x_stride bytes apart): each weight block is loaded,
// unpacked and made absolute once for the 4 tokens; per token the arithmetic is qdot's exactly. The
// lane sums are folded pairwise as they come (hadd of two blocks), so 16 registers suffice on AVX2.
// Blocks [b, b + 4) for the 4 tokens (kTail: those past nb as zeros, as in pair_step).
template <bool kQ4, class UDot, bool kTail>
inline void x4_step(const void* w, const BlockQ8_0* const* xb, int64_t b, int64_t nb, __m128* acc) {
  __m256i h[2][4];
  float d[4][4];
  for (int pair = 0; pair < 2; ++pair) {
    __m256i qw[2], aw[2];
    float dw[2];
    bool in[2];
    for (int i = 0; i < 2; ++i) {
      in[i] = !kTail || b + 2 * pair + i < nb;
      if (in[i]) {
        qw[i] = load_weight_block<kQ4>(w, b + 2 * pair + i, &dw[i]);
      } else {
        qw[i] = _mm256_setzero_si256();  // sign(x, 0) = 0: the block's lanes are 0
        dw[i] = 0.0f;
      }
      aw[i] = _mm256_sign_epi8(qw[i], qw[i]);
    }
    for (int j = 0; j < 4; ++j) {
      __m256i v[2];
      for (int i = 0; i < 2; ++i) {
        const BlockQ8_0& xk = xb[j][in[i] ? b + 2 * pair + i : 0];
        v[i] = block_lanes<UDot>(qw[i], aw[i], xk);
        d[j][2 * pair + i] = in[i] ? dw[i] * h2f(xk.d) : 0.0f;
      }
      h[pair][j] = _mm256_hadd_epi32(v[0], v[1]);
    }
  }
  for (int j = 0; j < 4; ++j) {
    const __m256i t = _mm256_hadd_epi32(h[0][j], h[1][j]);
    acc[j] = chain_step(acc[j], d[j], _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1)));
  }
}

template <bool kQ4, class UDot>
void qdot_x4(int64_t n, const void* w, const void* x, size_t xs, float* out) {
  const BlockQ8_0* xb[4];
  for (int j = 0; j < 4; ++j) xb[j] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(x) + j * xs);
  const int64_t nb = n / 32;
  __m128 acc[4] = {_mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps()};
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) x4_step<kQ4, UDot, false>(w, xb, b, nb, acc);
  if (b < nb) x4_step<kQ4, UDot, true>(w, xb, b, nb, acc);
  for (int j = 0; j < 4; ++j) out[j] = chains_result(acc[j]);
}

// Four weight rows (w_stride bytes apart) against one token's activations: the 4 accumulations run side
// by side over the same activation blocks; per row the arithmetic is qdot's exactly.
template <bool kQ4, class UDot>
void qdot_r4(int64_t n, const void* w, size_t ws, const void* x, float* out) {
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  const int64_t nb = n / 32;
  __m128 acc[4] = {_mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps()};
  for (int64_t b = 0; b < nb; b += 4)
    for (int j = 0; j < 4; ++j) acc[j] = pair_step<kQ4, UDot>(static_cast<const uint8_t*>(w) + j * ws, xb, b, nb, acc[j]);
  for (int j = 0; j < 4; ++j) out[j] = chains_result(acc[j]);
}

}  // namespace
}  // namespace pocket
