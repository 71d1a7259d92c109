// The kernel table: one struct of function pointers per ISA, chosen once at start-up.
// Model code calls kt.vec_dot[type](...) and never sees an #if.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dtype/kv_row.h"
#include "dtype/tensor_type.h"

namespace pocket {

// Dot product of one weight row (n elements of the weight's type) with one activation row already in
// the weight's activation format (see act_type_for).
using VecDotFn = float (*)(int64_t n, const void* w, const void* x);
using QuantizeActFn = void (*)(const float* x, void* y, int64_t n);
// The same dot product for one weight row and 4 activation rows (x_stride bytes apart), so a weight
// block is loaded and unpacked once for 4 tokens (prefill). Each result must equal what vec_dot
// gives for that token, bit for bit, so batching never changes the numbers.
using VecDotX4Fn = void (*)(int64_t n, const void* w, const void* x, size_t x_stride, float* out4);

// Four weight rows (w_stride bytes apart) against one activation row (decode): the activation block is
// loaded once for 4 rows and the 4 accumulations run side by side. Each result must equal vec_dot's
// for that row bit for bit, so how rows are grouped (threads, tails) never changes the numbers.
using VecDotR4Fn = void (*)(int64_t n, const void* w, size_t w_stride, const void* x, float* out4);
// kPackRows (16) rows packed side by side (kernels/packed_rows.h) against n_tok tokens' activations
// (x_stride bytes apart) and their packed_corrections (corr_stride int32 apart; unused, may be null, for
// types that need none: packed_needs_corrections): out[t * out_stride + r]
// for token t and row r. Each result must equal vec_dot's for that pair bit for bit, so whether a matrix
// was packed never changes the numbers.
using VecDotPackedFn = void (*)(int64_t n, const uint8_t* w, const void* x, size_t x_stride, const int32_t* corr, size_t corr_stride, int n_tok,
                                float* out, size_t out_stride);
// One weight row against n_tok tokens (1..kMaxXnTokens; x_stride bytes apart), out[t] for token t:
// the weight row read once for up to 8 tokens (verification of a speculative draft, short prompts).
// Each result must equal vec_dot's for that token bit for bit.
using VecDotXnFn = void (*)(int64_t n, const void* w, const void* x, size_t x_stride, int n_tok, float* out);
constexpr int kMaxXnTokens = 8;
constexpr int kTypeSlots = 32;

struct KernelTable {
  const char* name = "";
  VecDotFn vec_dot[kTypeSlots] = {};               // indexed by TensorType value; nullptr: unsupported
  VecDotX4Fn vec_dot_x4[kTypeSlots] = {};          // optional; nullptr: vec_dot per token
  VecDotR4Fn vec_dot_r4[kTypeSlots] = {};          // optional; nullptr: vec_dot per row
  VecDotXnFn vec_dot_xn[kTypeSlots] = {};          // optional; nullptr: vec_dot_x4 / vec_dot per token
  VecDotPackedFn vec_dot_packed[kTypeSlots] = {};  // optional, for packable_type()s; nullptr: not packed
  QuantizeActFn quantize_q8_0 = nullptr;           // activations -> Q8_0 blocks (same rounding as the reference)
  QuantizeActFn quantize_q8_k = nullptr;           // activations -> Q8_K blocks (the K-quants'; same rounding as the reference)
  float (*dot_f32)(const float* a, const float* b, int64_t n) = nullptr;
  void (*axpy_f32)(float a, const float* x, float* y, int64_t n) = nullptr;  // y += a * x
  void (*rmsnorm)(const float* x, const float* w, float* y, int64_t n, float eps) = nullptr;
  void (*silu_mul)(float* gate, const float* up, int64_t n) = nullptr;  // gate = silu(gate) * up
  // One query head against n_pos cached positions (F32 rows, `stride` floats apart):
  // out[hd] = softmax(scale * q.K^T) . V. scores: n_pos floats of scratch (the reference uses them;
  // optimized tables may compute an online softmax in one pass instead).
  void (*attn_head_f32)(const float* q, const float* k, const float* v, int64_t stride, int n_pos, int64_t hd, float scale, float* out,
                        float* scores) = nullptr;
  // The same for a cache of any KV type (f32/f16/q8/q4, kv_row.h): each position's head slice is
  // decoded on the fly into a few registers' worth of floats, never into a dequantized copy of the cache.
  // hd <= kMaxHeadDim.
  void (*attn_head_kv)(const float* q, const KvHeadRows& k, const KvHeadRows& v, int n_pos, int64_t hd, float scale, float* out,
                       float* scores) = nullptr;
};

constexpr int64_t kMaxHeadDim = 512;

// Activation format a weight type's vec_dot expects: F32, Q8_0 for the 32-block integer types, Q8_K for
// the K-quants.
TensorType act_type_for(TensorType weight_type);
// Bytes one activation row of n elements takes in act_type_for(weight_type).
size_t act_row_bytes(TensorType weight_type, int64_t n);
// Quantizes one activation row into act_type_for(weight_type) (F32: a copy is not needed; returns false).
bool quantize_activations(const KernelTable& kt, TensorType weight_type, const float* x, void* y, int64_t n);

const KernelTable& ref_kernels();
const KernelTable* avx2_kernels();          // nullptr when not compiled in
const KernelTable* avx512_kernels();        // AVX-512 VNNI; nullptr when not compiled in
const KernelTable* neon_kernels();          // aarch64 ARMv8.0 NEON; nullptr when not compiled in
const KernelTable* neon_dotprod_kernels();  // aarch64 ARMv8.2 sdot; nullptr when not compiled in

// The table for this process: POCKET_KERNELS=ref|avx2|avx512vnni|neon|neon-dotprod|auto (auto = best
// the CPU supports).
const KernelTable& kernels();
// Every table this CPU can run (ref first), for tests that compare each against the reference.
int available_kernel_tables(const KernelTable** out, int max);

}  // namespace pocket
