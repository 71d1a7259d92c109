#include "dtype/tensor_type.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "core/check.h"
#include "core/fp16.h"
#include "dtype/block_formats.h"

namespace pocket {
namespace {

void f32_to_float(const void* s, float* d, int64_t n) {
  if (n > 0) std::memcpy(d, s, (size_t)n * 4);
}
void f32_from_float(const float* s, void* d, int64_t n) {
  if (n > 0) std::memcpy(d, s, (size_t)n * 4);
}
void f16_to_float(const void* s, float* d, int64_t n) {
  const uint16_t* h = static_cast<const uint16_t*>(s);
  for (int64_t i = 0; i < n; ++i) d[i] = fp16_to_float(h[i]);
}
void f16_from_float(const float* s, void* d, int64_t n) {
  uint16_t* h = static_cast<uint16_t*>(d);
  for (int64_t i = 0; i < n; ++i) h[i] = float_to_fp16(s[i]);
}
void bf16_to_float_row(const void* s, float* d, int64_t n) {
  const uint16_t* h = static_cast<const uint16_t*>(s);
  for (int64_t i = 0; i < n; ++i) d[i] = bf16_to_float(h[i]);
}
void bf16_from_float_row(const float* s, void* d, int64_t n) {
  uint16_t* h = static_cast<uint16_t*>(d);
  for (int64_t i = 0; i < n; ++i) h[i] = float_to_bf16(s[i]);
}
void q8_0_to_float(const void* s, float* d, int64_t n) { dequantize_row_q8_0_ref(static_cast<const BlockQ8_0*>(s), d, n); }
void q8_0_from_float(const float* s, void* d, int64_t n) { quantize_row_q8_0_ref(s, static_cast<BlockQ8_0*>(d), n); }
void q4_0_to_float(const void* s, float* d, int64_t n) { dequantize_row_q4_0_ref(static_cast<const BlockQ4_0*>(s), d, n); }
void q4_0_from_float(const float* s, void* d, int64_t n) { quantize_row_q4_0_ref(s, static_cast<BlockQ4_0*>(d), n); }
void q4_1_to_float(const void* s, float* d, int64_t n) { dequantize_row_q4_1_ref(static_cast<const BlockQ4_1*>(s), d, n); }
void q4_1_from_float(const float* s, void* d, int64_t n) { quantize_row_q4_1_ref(s, static_cast<BlockQ4_1*>(d), n); }

void q5_0_to_float(const void* s, float* d, int64_t n) { dequantize_row_q5_0_ref(static_cast<const BlockQ5_0*>(s), d, n); }
void q5_0_from_float(const float* s, void* d, int64_t n) { quantize_row_q5_0_ref(s, static_cast<BlockQ5_0*>(d), n); }
void q5_1_to_float(const void* s, float* d, int64_t n) { dequantize_row_q5_1_ref(static_cast<const BlockQ5_1*>(s), d, n); }
void q5_1_from_float(const float* s, void* d, int64_t n) { quantize_row_q5_1_ref(s, static_cast<BlockQ5_1*>(d), n); }
void q4_k_to_float(const void* s, float* d, int64_t n) { dequantize_row_q4_k_ref(static_cast<const BlockQ4_K*>(s), d, n); }
void q4_k_from_float(const float* s, void* d, int64_t n) { quantize_row_q4_k_ref(s, static_cast<BlockQ4_K*>(d), n); }
void q5_k_to_float(const void* s, float* d, int64_t n) { dequantize_row_q5_k_ref(static_cast<const BlockQ5_K*>(s), d, n); }
void q5_k_from_float(const float* s, void* d, int64_t n) { quantize_row_q5_k_ref(s, static_cast<BlockQ5_K*>(d), n); }
void q6_k_to_float(const void* s, float* d, int64_t n) { dequantize_row_q6_k_ref(static_cast<const BlockQ6_K*>(s), d, n); }
void q6_k_from_float(const float* s, void* d, int64_t n) { quantize_row_q6_k_ref(s, static_cast<BlockQ6_K*>(d), n); }

void q2_k_to_float(const void* s, float* d, int64_t n) { dequantize_row_q2_k_ref(static_cast<const BlockQ2_K*>(s), d, n); }
void q2_k_from_float(const float* s, void* d, int64_t n) { quantize_row_q2_k_ref(s, static_cast<BlockQ2_K*>(d), n); }
void q3_k_to_float(const void* s, float* d, int64_t n) { dequantize_row_q3_k_ref(static_cast<const BlockQ3_K*>(s), d, n); }
void q3_k_from_float(const float* s, void* d, int64_t n) { quantize_row_q3_k_ref(s, static_cast<BlockQ3_K*>(d), n); }
void iq4_nl_to_float(const void* s, float* d, int64_t n) { dequantize_row_iq4_nl_ref(static_cast<const BlockIQ4_NL*>(s), d, n); }
void iq4_nl_from_float(const float* s, void* d, int64_t n) { quantize_row_iq4_nl_ref(s, static_cast<BlockIQ4_NL*>(d), n); }
void iq4_xs_to_float(const void* s, float* d, int64_t n) { dequantize_row_iq4_xs_ref(static_cast<const BlockIQ4_XS*>(s), d, n); }
void iq4_xs_from_float(const float* s, void* d, int64_t n) { quantize_row_iq4_xs_ref(s, static_cast<BlockIQ4_XS*>(d), n); }

// Types whose layout we know (so files holding them can be listed) even where we cannot compute with them.
const TypeTraits kTraits[] = {
    {TensorType::F32, "F32", 1, 4, f32_to_float, f32_from_float},
    {TensorType::F16, "F16", 1, 2, f16_to_float, f16_from_float},
    {TensorType::BF16, "BF16", 1, 2, bf16_to_float_row, bf16_from_float_row},
    {TensorType::Q8_0, "Q8_0", 32, 34, q8_0_to_float, q8_0_from_float},
    {TensorType::Q4_0, "Q4_0", 32, 18, q4_0_to_float, q4_0_from_float},
    {TensorType::Q4_1, "Q4_1", 32, 20, q4_1_to_float, q4_1_from_float},
    {TensorType::Q5_0, "Q5_0", 32, 22, q5_0_to_float, q5_0_from_float},
    {TensorType::Q5_1, "Q5_1", 32, 24, q5_1_to_float, q5_1_from_float},
    {TensorType::Q8_1, "Q8_1", 32, 36, nullptr, nullptr},
    {TensorType::Q2_K, "Q2_K", 256, 84, q2_k_to_float, q2_k_from_float},
    {TensorType::Q3_K, "Q3_K", 256, 110, q3_k_to_float, q3_k_from_float},
    {TensorType::IQ4_NL, "IQ4_NL", 32, 18, iq4_nl_to_float, iq4_nl_from_float},
    {TensorType::IQ4_XS, "IQ4_XS", 256, 136, iq4_xs_to_float, iq4_xs_from_float},
    {TensorType::Q4_K, "Q4_K", 256, 144, q4_k_to_float, q4_k_from_float},
    {TensorType::Q5_K, "Q5_K", 256, 176, q5_k_to_float, q5_k_from_float},
    {TensorType::Q6_K, "Q6_K", 256, 210, q6_k_to_float, q6_k_from_float},
    {TensorType::Q8_K, "Q8_K", 256, 292, nullptr, nullptr},
    {TensorType::I8, "I8", 1, 1, nullptr, nullptr},
    {TensorType::I16, "I16", 1, 2, nullptr, nullptr},
    {TensorType::I32, "I32", 1, 4, nullptr, nullptr},
    {TensorType::I64, "I64", 1, 8, nullptr, nullptr},
    {TensorType::F64, "F64", 1, 8, nullptr, nullptr},
};

}  // namespace

const TypeTraits* type_traits(uint32_t raw_type) {
  for (const TypeTraits& t : kTraits) {
    if ((uint32_t)t.type == raw_type) return &t;
  }
  return nullptr;
}

const TypeTraits& traits(TensorType t) {
  const TypeTraits* p = type_traits((uint32_t)t);
  POCKET_CHECK(p != nullptr);
  return *p;
}

std::optional<TensorType> type_from_name(const std::string& name) {
  std::string up = name;
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return (char)std::toupper(c); });
  for (const TypeTraits& t : kTraits) {
    if (up == t.name) return t.type;
  }
  return std::nullopt;
}

}  // namespace pocket
