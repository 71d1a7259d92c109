// Group-wise integer codecs for the block formats Q8_0, Q4_0 and Q4_1 with one scale shared by a group
// of `group` elements: 32 is the GGUF format itself (byte-identical to the *_ref quantizers); 64, 128
// or the whole row (per-channel) write the shared scale into every 32-element block of the group, so
// the file stays a standard GGUF that llama.cpp loads while the numbers are those of a g64 / g128 /
// per-channel quantizer (docs/quantization.md: the file size is the Q*_0 size; the table also gives
// the bits per weight a native layout of that group size would take).
// GPTQ and AWQ drive the codec one element at a time through params() / quantize() / dequantize().
#pragma once

#include <algorithm>
#include <cstdint>

#include "pocket/status.h"
#include "dtype/tensor_type.h"

namespace pocket {

// value = q * d + m. d and m are the stored (fp16-rounded) values; id and lo are the unrounded
// inverse scale and minimum the reference quantizers round with.
struct GroupParams {
  float d = 0, id = 0;
  float m = 0, lo = 0;  // Q4_1 only
};

class GroupCodec {
 public:
  // group: elements sharing a scale, a multiple of 32 (0 = the whole row). When it does not divide
  // the row, the last group is shorter (as GPTQ/AWQ tools do for g128 on widths like 288).
  static Result<GroupCodec> make(TensorType type, int64_t group, int64_t cols);

  TensorType type() const { return type_; }
  int64_t group() const { return group_; }
  int64_t cols() const { return cols_; }
  int64_t n_groups() const { return (cols_ + group_ - 1) / group_; }
  int64_t group_len(int64_t k) const { return std::min(group_, cols_ - k * group_); }
  // Bits per weight of a native layout with this group size (scale, and minimum, as fp16 per group).
  double native_bits_per_weight() const;

  // Parameters for one group from its values; clip (0, 1] shrinks the range (AWQ/GPTQ clipping search).
  GroupParams params(const float* x, int64_t n, float clip = 1.0f) const;
  int quantize(float x, const GroupParams& p) const;    // clamped to the format's range
  float dequantize(int q, const GroupParams& p) const;  // exactly as the format's dequantizer computes it

  // One row: codes q[cols] (as quantize() returns them) and params per group -> GGUF blocks.
  void encode_row(const int* q, const GroupParams* p, void* dst) const;
  // Round-to-nearest of one row; clip: one ratio per group or nullptr. Scratch-free, allocation-free.
  void quantize_row(const float* x, void* dst, const float* clip = nullptr) const;
  // Quantize then dequantize one row (the values the model will compute with).
  void fake_quantize_row(const float* x, float* y, const float* clip = nullptr) const;

 private:
  TensorType type_ = TensorType::Q8_0;
  int64_t group_ = 32, cols_ = 0;
};

}  // namespace pocket
