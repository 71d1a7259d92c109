#include "kernels/packed_rows.h"

#include <cstring>

#include "core/check.h"
#include "dtype/block_formats.h"

namespace pocket {

bool packable_type(TensorType t) { return t == TensorType::Q4_0 || t == TensorType::Q8_0 || t == TensorType::Q4_K || t == TensorType::Q6_K; }
bool packed_needs_corrections(TensorType t) { return t == TensorType::Q4_0 || t == TensorType::Q8_0; }

namespace {

int steps(TensorType t) { return t == TensorType::Q4_0 ? 4 : 8; }
size_t packed_block_bytes(TensorType t) { return kPackRows * 2 + (size_t)steps(t) * kPackRows * 4; }

template <class Block>
void pack_group(const uint8_t* src, size_t row_bytes, int64_t nb, int n_steps, uint32_t xor_mask, uint8_t* dst) {
  const size_t bb = kPackRows * 2 + (size_t)n_steps * kPackRows * 4;
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* out = dst + (size_t)b * bb;
    for (int r = 0; r < kPackRows; ++r) {
      const Block& blk = reinterpret_cast<const Block*>(src + (size_t)r * row_bytes)[b];
      std::memcpy(out + 2 * r, &blk.d, 2);
      for (int s = 0; s < n_steps; ++s) {
        uint32_t v;
        std::memcpy(&v, blk.qs + 4 * s, 4);
        v ^= xor_mask;  // Q8_0: + 128 in every byte (two's complement to offset binary)
        std::memcpy(out + kPackRows * 2 + 64 * s + 4 * r, &v, 4);
      }
    }
  }
}

constexpr size_t kQ4KGroupBlock = kPackRows * sizeof(BlockQ4_K);

void pack_group_q4_k(const uint8_t* src, size_t row_bytes, int64_t nb, uint8_t* dst) {
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* out = dst + (size_t)b * kQ4KGroupBlock;
    for (int r = 0; r < kPackRows; ++r) {
      const BlockQ4_K& blk = reinterpret_cast<const BlockQ4_K*>(src + (size_t)r * row_bytes)[b];
      std::memcpy(out + 2 * r, &blk.d, 2);
      std::memcpy(out + 32 + 2 * r, &blk.dmin, 2);
      for (int w = 0; w < 3; ++w) std::memcpy(out + 64 + 64 * w + 4 * r, blk.scales + 4 * w, 4);
      for (int s = 0; s < 32; ++s) std::memcpy(out + 256 + 64 * s + 4 * r, blk.qs + 4 * s, 4);
    }
  }
}

constexpr size_t kQ6KGroupBlock = kPackRows * sizeof(BlockQ6_K);

void pack_group_q6_k(const uint8_t* src, size_t row_bytes, int64_t nb, uint8_t* dst) {
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* out = dst + (size_t)b * kQ6KGroupBlock;
    for (int r = 0; r < kPackRows; ++r) {
      const BlockQ6_K& blk = reinterpret_cast<const BlockQ6_K*>(src + (size_t)r * row_bytes)[b];
      std::memcpy(out + 2 * r, &blk.d, 2);
      for (int w = 0; w < 4; ++w) std::memcpy(out + 32 + 64 * w + 4 * r, blk.scales + 4 * w, 4);
      for (int h = 0; h < 2; ++h)
        for (int k = 0; k < 8; ++k) {
          uint8_t* step = out + 288 + 192 * (8 * h + k) + 4 * r;
          std::memcpy(step, blk.ql + 64 * h + 4 * k, 4);
          std::memcpy(step + 64, blk.ql + 64 * h + 32 + 4 * k, 4);
          std::memcpy(step + 128, blk.qh + 32 * h + 4 * k, 4);
        }
    }
  }
}

}  // namespace

size_t packed_group_bytes(TensorType t, int64_t cols) {
  if (t == TensorType::Q4_K) return (size_t)(cols / kQK_K) * kQ4KGroupBlock;
  if (t == TensorType::Q6_K) return (size_t)(cols / kQK_K) * kQ6KGroupBlock;
  return (size_t)(cols / 32) * packed_block_bytes(t);
}

void pack_rows(TensorType t, const uint8_t* src, size_t row_bytes, int64_t rows, int64_t cols, uint8_t* dst) {
  POCKET_CHECK(packable_type(t) && rows % kPackRows == 0 && cols % traits(t).block_size == 0);
  const size_t gb = packed_group_bytes(t, cols);
  for (int64_t g = 0; g < rows / kPackRows; ++g) {
    const uint8_t* s = src + (size_t)g * kPackRows * row_bytes;
    if (t == TensorType::Q4_K)
      pack_group_q4_k(s, row_bytes, cols / kQK_K, dst + (size_t)g * gb);
    else if (t == TensorType::Q6_K)
      pack_group_q6_k(s, row_bytes, cols / kQK_K, dst + (size_t)g * gb);
    else if (t == TensorType::Q4_0)
      pack_group<BlockQ4_0>(s, row_bytes, cols / 32, 4, 0u, dst + (size_t)g * gb);
    else
      pack_group<BlockQ8_0>(s, row_bytes, cols / 32, 8, 0x80808080u, dst + (size_t)g * gb);
  }
}

void packed_corrections(TensorType t, const void* act_row, int64_t cols, int32_t* out) {
  POCKET_CHECK(packed_needs_corrections(t));
  const int32_t offset = t == TensorType::Q4_0 ? 8 : 128;
  const BlockQ8_0* x = static_cast<const BlockQ8_0*>(act_row);
  for (int64_t b = 0; b < cols / 32; ++b) {
    int32_t sum = 0;
    for (int i = 0; i < 32; ++i) sum += x[b].qs[i];
    out[b] = -offset * sum;
  }
}

}  // namespace pocket
