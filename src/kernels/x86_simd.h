// Small AVX2 helpers shared by the x86 kernel tables. Everything here has internal linkage (anonymous
// namespace): each table's translation unit gets its own copy compiled for its own ISA, so the linker
// can never hand an AVX-512-compiled helper to the AVX2 table.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace pocket {
namespace {

// The scalar tail of an F32 dot product, s += a[i] * b[i] for i in [i0, n), each step one fused
// multiply-add, written out so that the compiler's contraction choice (which differs between call
// sites) can never make two kernels that must agree bit for bit disagree.
inline float dot_tail_f32(const float* a, const float* b, int64_t i0, int64_t n, float s) {
  for (int64_t i = i0; i < n; ++i) s = __builtin_fmaf(a[i], b[i], s);
  return s;
}

// F16C conversion: one instruction, exactly the value fp16_to_float gives.
inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// Horizontal sum in a fixed order (the order llama.cpp's AVX2 code uses, so quantized dot
// products can match it bit for bit).
inline float hsum256(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

// The 32 nibbles of a Q4_0/Q4_1 block as bytes 0..15: low 128 bits elements 0..15, high 16..31.
inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

}  // namespace
}  // namespace pocket
