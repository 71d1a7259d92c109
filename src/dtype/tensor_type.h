// Tensor element types (GGML numbering, as stored in GGUF) and their traits table,
// shared by the loader, the writer, the quantizer, the planner and the kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace pocket {

enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ4_NL = 20,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
};

using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);    // n % block_size == 0
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);  // reference quantizer

struct TypeTraits {
  TensorType type;
  const char* name;
  int64_t block_size;      // elements per block
  size_t block_bytes;      // bytes per block
  ToFloatFn to_float;      // nullptr: we can read the layout but not compute with it
  FromFloatFn from_float;  // nullptr: we cannot produce this type
};

// Traits for a raw GGUF type id; nullopt for ids we do not know at all.
const TypeTraits* type_traits(uint32_t raw_type);
const TypeTraits& traits(TensorType t);
std::optional<TensorType> type_from_name(const std::string& name);  // "q8_0", "F16", ...

// Bytes for one row of n elements (n must be a multiple of block_size).
inline size_t row_bytes(const TypeTraits& t, int64_t n) { return (size_t)(n / t.block_size) * t.block_bytes; }

}  // namespace pocket
