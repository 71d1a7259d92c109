// Packed Q8_0 / Q4_0 rows (kernels/packed_rows.h) on AVX-512 VNNI: 16 rows in the 16 lanes of a zmm, so
// one sequential weight stream feeds 16 rows and each activation dword is broadcast once for all of
// them. Per block, the 8 steps of 4 weight bytes are 8 vpdpbusd, each starting from the token's
// correction (packed_corrections), which leaves exactly the int32 lane sum qdot forms for that row and
// lane (x86_qdot.h: lane l holds elements 4l..4l+3). What follows is qdot's float arithmetic in qdot's
// order: scale dw * dx rounded to float, one fma per block and lane into 8 accumulators, then
// hsum256's tree ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)) as vertical adds. Every result equals vec_dot's
// bit for bit. Included only by avx512_kernels.cpp (internal linkage, compiled for AVX-512).
#pragma once

#include <cstring>

#include "dtype/block_formats.h"
#include "kernels/packed_rows.h"
#include "kernels/x86_simd.h"

// GCC 12 warns that the undefined upper halves inside its conversion intrinsics are uninitialized (GCC
// bug 105593); they are never read.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace pocket {
namespace {

// Decode streams the packed group from DRAM: software prefetch this many blocks ahead (288 bytes per
// Q4_0 block, 544 per Q8_0 block). Measured on an AMD EPYC Zen 4 VM (1 thread): TinyLlama tg64 Q4_0 at
// 1 / 2 / 4 / 8 KiB ahead 31.4 / 36.9 / 37.4 / 35.8 tok/s; the probe's Q8_0 rate (pocket sysinfo
// --probe-kernels) at 6 / 14 / 28 blocks 15 / 17 / 21 GB/s, against 19-23 for the single-row kernel.
template <bool kQ4>
constexpr size_t kPackedPrefetchBlocks = kQ4 ? 16 : 28;

// One pass over a group's blocks for kTok tokens: out[j][r] for token j and row r.
template <bool kQ4, int kTok>
inline void packed_pass(int64_t nb, const uint8_t* g, const BlockQ8_0* const* xb, const int32_t* const* corr, float* const* out) {
  constexpr int kSteps = kQ4 ? 4 : 8;
  constexpr size_t kBlock = kPackRows * 2 + kSteps * 64;
  __m512 f[kTok][8];
  for (auto& t : f)
    for (auto& v : t) v = _mm512_setzero_ps();
  const __m512i low = _mm512_set1_epi8(0x0f);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* p = g + (size_t)b * kBlock;
    for (size_t o = 0; o < kBlock; o += 64) _mm_prefetch(reinterpret_cast<const char*>(p + kPackedPrefetchBlocks<kQ4> * kBlock + o), _MM_HINT_T0);
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    __m512 d[kTok];
    for (int j = 0; j < kTok; ++j) d[j] = _mm512_mul_ps(dw, _mm512_set1_ps(h2f(xb[j][b].d)));
    const uint8_t* q = p + kPackRows * 2;
    auto lane = [&](int j, int l, __m512i w) {
      int32_t xv;
      std::memcpy(&xv, xb[j][b].qs + 4 * l, 4);
      const __m512i s = _mm512_dpbusd_epi32(_mm512_set1_epi32(corr[j][b * 8 + l]), w, _mm512_set1_epi32(xv));
      f[j][l] = _mm512_fmadd_ps(d[j], _mm512_cvtepi32_ps(s), f[j][l]);
    };
    for (int s = 0; s < kSteps; ++s) {
      const __m512i raw = _mm512_loadu_si512(q + 64 * s);
      if constexpr (kQ4) {
        const __m512i wl = _mm512_and_si512(raw, low);
        const __m512i wh = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low);
        for (int j = 0; j < kTok; ++j) {
          lane(j, s, wl);
          lane(j, s + 4, wh);
        }
      } else {
        for (int j = 0; j < kTok; ++j) lane(j, s, raw);
      }
    }
  }
  for (int j = 0; j < kTok; ++j) {
    const __m512 a = _mm512_add_ps(_mm512_add_ps(f[j][0], f[j][4]), _mm512_add_ps(f[j][2], f[j][6]));
    const __m512 c = _mm512_add_ps(_mm512_add_ps(f[j][1], f[j][5]), _mm512_add_ps(f[j][3], f[j][7]));
    _mm512_storeu_ps(out[j], _mm512_add_ps(a, c));
  }
}

// KernelTable::vec_dot_packed: one group against n_tok tokens, two at a time.
template <bool kQ4>
void qpacked(int64_t n, const uint8_t* w, const void* x, size_t xs, const int32_t* corr, size_t cs, int n_tok, float* out, size_t os) {
  const uint8_t* xa = static_cast<const uint8_t*>(x);
  int t = 0;
  for (; t + 2 <= n_tok; t += 2) {
    const BlockQ8_0* xb[2] = {reinterpret_cast<const BlockQ8_0*>(xa + t * xs), reinterpret_cast<const BlockQ8_0*>(xa + (t + 1) * xs)};
    const int32_t* c[2] = {corr + t * cs, corr + (t + 1) * cs};
    float* o[2] = {out + t * os, out + (t + 1) * os};
    packed_pass<kQ4, 2>(n / 32, w, xb, c, o);
  }
  if (t < n_tok) {
    const BlockQ8_0* xb[1] = {reinterpret_cast<const BlockQ8_0*>(xa + t * xs)};
    const int32_t* c[1] = {corr + t * cs};
    float* o[1] = {out + t * os};
    packed_pass<kQ4, 1>(n / 32, w, xb, c, o);
  }
}

}  // namespace
}  // namespace pocket

#pragma GCC diagnostic pop
