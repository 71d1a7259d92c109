// KV cache element types and the encoding of one cached row (one position's K or V, kv_dim values).
// Quantized rows keep one fp16 scale per group of `group` values inside a head (32 when the head
// dimension is a multiple of 32, else the whole head), so attention can decode a head's slice of a row
// on its own. The scales live beside the data and are accounted separately.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace pocket {

enum class KvType : uint8_t { kF32 = 0, kF16 = 1, kQ8 = 2, kQ4 = 3 };

const char* kv_type_name(KvType t);
std::optional<KvType> kv_type_from_name(const std::string& s);  // "f32", "f16", "q8", "q4"

// Group size for a head dimension.
inline int64_t kv_group(int64_t head_dim) { return head_dim % 32 == 0 ? 32 : head_dim; }
// Bytes of one row's values (without scales) and number of scales per row.
size_t kv_row_data_bytes(KvType t, int64_t kv_dim);
int64_t kv_row_scales(KvType t, int64_t kv_dim, int64_t group);

// Encodes kv_dim floats: data gets kv_row_data_bytes, scales gets kv_row_scales fp16 values.
// Q8: s = max|x|/127 per group, q = round(x/s). Q4: s = max|x|/7, q = round(x/s) + 8 in a nibble
// (element 2i in the low nibble, 2i+1 in the high one). NaN encodes as 0.
void kv_encode_row(KvType t, const float* x, int64_t kv_dim, int64_t group, uint8_t* data, uint16_t* scales);

// Decodes values [begin, begin + n) of a row (begin and n multiples of the group for quantized types,
// begin even for Q4) into out.
void kv_decode(KvType t, const uint8_t* data, const uint16_t* scales, int64_t begin, int64_t n, int64_t group, float* out);

// One KV head's slice across positions: position p's values start at data + p * stride bytes (already
// offset to the head) and its scales at scales + p * scale_stride (offset to the head's first group).
struct KvHeadRows {
  KvType type = KvType::kF32;
  const uint8_t* data = nullptr;
  size_t stride = 0;
  const uint16_t* scales = nullptr;
  size_t scale_stride = 0;
  int64_t group = 32;
};

}  // namespace pocket
