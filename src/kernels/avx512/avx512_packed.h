// Packed Q8_0 / Q4_0 rows (kernels/packed_rows.h) on AVX-512 VNNI: 16 rows in the 16 lanes of a zmm, so
// one sequential weight stream feeds 16 rows and each activation dword is broadcast once for all of
// them. Per block, the 8 steps of 4 weight bytes are 8 vpdpbusd into one int32 sum per row, starting from
// the token's block correction (packed_corrections), which leaves exactly the block sum S_b qdot forms
// (x86_qdot.h). What follows is the x86 float order of x86_qdot.h per lane: d_b = dw * dx rounded to
// float, one fma per block into chain b mod 4, then (c0 + c2) + (c1 + c3). Every result equals vec_dot's
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
  __m512 f[kTok][4];
  for (auto& t : f)
    for (auto& v : t) v = _mm512_setzero_ps();
  const __m512i low = _mm512_set1_epi8(0x0f);
  auto block = [&](int64_t b, __m512* chain) {
    const uint8_t* p = g + (size_t)b * kBlock;
    for (size_t o = 0; o < kBlock; o += 64) _mm_prefetch(reinterpret_cast<const char*>(p + kPackedPrefetchBlocks<kQ4> * kBlock + o), _MM_HINT_T0);
    const uint8_t* q = p + kPackRows * 2;
    // Two int32 sums per token (even and odd steps), so the vpdpbusd chains overlap; integer adds are exact.
    __m512i s0[kTok], s1[kTok];
    for (int j = 0; j < kTok; ++j) {
      s0[j] = _mm512_set1_epi32(corr[j][b]);
      s1[j] = _mm512_setzero_si512();
    }
    auto x4 = [&](int j, int l) {
      int32_t v;
      std::memcpy(&v, xb[j][b].qs + 4 * l, 4);
      return _mm512_set1_epi32(v);
    };
    for (int s = 0; s < kSteps; ++s) {
      const __m512i raw = _mm512_loadu_si512(q + 64 * s);
      if constexpr (kQ4) {
        const __m512i wl = _mm512_and_si512(raw, low);
        const __m512i wh = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low);
        for (int j = 0; j < kTok; ++j) {
          s0[j] = _mm512_dpbusd_epi32(s0[j], wl, x4(j, s));
          s1[j] = _mm512_dpbusd_epi32(s1[j], wh, x4(j, s + 4));
        }
      } else {
        for (int j = 0; j < kTok; ++j) {
          if (s % 2 == 0)
            s0[j] = _mm512_dpbusd_epi32(s0[j], raw, x4(j, s));
          else
            s1[j] = _mm512_dpbusd_epi32(s1[j], raw, x4(j, s));
        }
      }
    }
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    for (int j = 0; j < kTok; ++j) {
      const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(h2f(xb[j][b].d)));
      chain[j * 4] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(_mm512_add_epi32(s0[j], s1[j])), chain[j * 4]);
    }
  };
  for (int64_t b = 0; b < nb; b += 4) {
    block(b, &f[0][0]);
    if (b + 1 < nb) block(b + 1, &f[0][1]);
    if (b + 2 < nb) block(b + 2, &f[0][2]);
    if (b + 3 < nb) block(b + 3, &f[0][3]);
  }
  for (int j = 0; j < kTok; ++j) _mm512_storeu_ps(out[j], _mm512_add_ps(_mm512_add_ps(f[j][0], f[j][2]), _mm512_add_ps(f[j][1], f[j][3])));
}

// Tokens per pass of the packed kernel.
constexpr int kPackedTokens = 4;

// KernelTable::vec_dot_packed: one group against n_tok tokens, kPackedTokens at a time, then one by one.
template <bool kQ4>
void qpacked(int64_t n, const uint8_t* w, const void* x, size_t xs, const int32_t* corr, size_t cs, int n_tok, float* out, size_t os) {
  const uint8_t* xa = static_cast<const uint8_t*>(x);
  int t = 0;
  auto pass = [&]<int K>() {
    const BlockQ8_0* xb[K];
    const int32_t* c[K];
    float* o[K];
    for (int j = 0; j < K; ++j) {
      xb[j] = reinterpret_cast<const BlockQ8_0*>(xa + (t + j) * xs);
      c[j] = corr + (t + j) * cs;
      o[j] = out + (t + j) * os;
    }
    packed_pass<kQ4, K>(n / 32, w, xb, c, o);
    t += K;
  };
  while (t + kPackedTokens <= n_tok) pass.template operator()<kPackedTokens>();
  while (t < n_tok) pass.template operator()<1>();
}

}  // namespace
}  // namespace pocket

#pragma GCC diagnostic pop
