#include "dtype/group_codec.h"

#include <algorithm>
#include <cmath>

#include "core/fp16.h"
#include "dtype/block_formats.h"

namespace pocket {

Result<GroupCodec> GroupCodec::make(TensorType type, int64_t group, int64_t cols) {
  if (type != TensorType::Q8_0 && type != TensorType::Q4_0 && type != TensorType::Q4_1)
    return error(ErrorCode::kInvalidArgument, std::string("group quantizer: type ") + traits(type).name + " is not Q8_0, Q4_0 or Q4_1");
  if (cols <= 0 || cols % 32 != 0)
    return error(ErrorCode::kInvalidArgument, "group quantizer: row length " + std::to_string(cols) + " is not a multiple of 32");
  if (group == 0) group = cols;
  if (group < 32 || group % 32 != 0)
    return error(ErrorCode::kInvalidArgument, "group quantizer: group size " + std::to_string(group) + " is not a multiple of 32");
  group = std::min(group, cols);
  GroupCodec c;
  c.type_ = type;
  c.group_ = group;
  c.cols_ = cols;
  return c;
}

double GroupCodec::native_bits_per_weight() const {
  const double bits = type_ == TensorType::Q8_0 ? 8.0 : 4.0;
  const double per_group = type_ == TensorType::Q4_1 ? 32.0 : 16.0;
  return bits + per_group * (double)n_groups() / (double)cols_;
}

GroupParams GroupCodec::params(const float* x, int64_t n, float clip) const {
  GroupParams p;
  switch (type_) {
    case TensorType::Q8_0: {
      float amax = 0.0f;
      for (int64_t j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));  // NaN ignored, as the reference does
      const float d = amax * clip / 127.0f;
      p.id = d != 0.0f ? 1.0f / d : 0.0f;
      p.d = fp16_to_float(float_to_fp16(d));
      break;
    }
    case TensorType::Q4_0: {
      float amax = 0.0f, mx = 0.0f;  // mx keeps the sign of the largest magnitude
      for (int64_t j = 0; j < n; ++j) {
        if (amax < std::fabs(x[j])) {
          amax = std::fabs(x[j]);
          mx = x[j];
        }
      }
      const float d = mx * clip / -8.0f;
      p.id = d != 0.0f ? 1.0f / d : 0.0f;
      p.d = fp16_to_float(float_to_fp16(d));
      break;
    }
    default: {  // Q4_1
      float mn = x[0], mx = x[0];
      for (int64_t j = 1; j < n; ++j) {
        mn = std::min(mn, x[j]);
        mx = std::max(mx, x[j]);
      }
      mn *= clip;
      mx *= clip;
      const float d = (mx - mn) / 15.0f;
      p.id = d != 0.0f ? 1.0f / d : 0.0f;
      p.d = fp16_to_float(float_to_fp16(d));
      p.lo = mn;
      p.m = fp16_to_float(float_to_fp16(mn));
      break;
    }
  }
  return p;
}

int GroupCodec::quantize(float x, const GroupParams& p) const {
  // The same arithmetic as the *_ref quantizers, plus clamping for values outside the group's range
  // (GPTQ's updated weights, clipped groups). NaN codes as the reference codes it: 0 (Q8_0), 8 (Q4_0).
  switch (type_) {
    case TensorType::Q8_0: {
      const float r = std::roundf(x * p.id);
      if (std::isnan(r)) return 0;
      return (int)std::clamp(r, -127.0f, 127.0f);
    }
    case TensorType::Q4_0: {
      const float v = x * p.id + 8.5f;
      if (std::isnan(v)) return 8;
      return std::clamp((int)std::clamp(v, 0.0f, 15.0f), 0, 15);
    }
    default: {
      const float v = (x - p.lo) * p.id + 0.5f;
      if (std::isnan(v)) return 0;
      return std::clamp((int)std::clamp(v, 0.0f, 15.0f), 0, 15);
    }
  }
}

float GroupCodec::dequantize(int q, const GroupParams& p) const {
  switch (type_) {
    case TensorType::Q8_0: return (float)q * p.d;
    case TensorType::Q4_0: return (float)(q - 8) * p.d;
    default: return (float)q * p.d + p.m;
  }
}

void GroupCodec::encode_row(const int* q, const GroupParams* p, void* dst) const {
  const int64_t n_blocks = cols_ / 32;
  for (int64_t b = 0; b < n_blocks; ++b) {
    const GroupParams& g = p[b * 32 / group_];
    const int* qb = q + b * 32;
    switch (type_) {
      case TensorType::Q8_0: {
        BlockQ8_0& o = static_cast<BlockQ8_0*>(dst)[b];
        o.d = float_to_fp16(g.d);
        for (int j = 0; j < 32; ++j) o.qs[j] = (int8_t)qb[j];
        break;
      }
      case TensorType::Q4_0: {
        BlockQ4_0& o = static_cast<BlockQ4_0*>(dst)[b];
        o.d = float_to_fp16(g.d);
        for (int j = 0; j < 16; ++j) o.qs[j] = (uint8_t)(qb[j] | (qb[j + 16] << 4));
        break;
      }
      default: {
        BlockQ4_1& o = static_cast<BlockQ4_1*>(dst)[b];
        o.d = float_to_fp16(g.d);
        o.m = float_to_fp16(g.m);
        for (int j = 0; j < 16; ++j) o.qs[j] = (uint8_t)(qb[j] | (qb[j + 16] << 4));
        break;
      }
    }
  }
}

void GroupCodec::quantize_row(const float* x, void* dst, const float* clip) const {
  const int64_t n_blocks = cols_ / 32;
  int q[32];
  GroupParams g;
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t gi = b * 32 / group_;
    if ((b * 32) % group_ == 0) g = params(x + gi * group_, group_len(gi), clip ? clip[gi] : 1.0f);
    for (int j = 0; j < 32; ++j) q[j] = quantize(x[b * 32 + j], g);
    // encode_row over one block: the block pointer advances by the format's block bytes
    const size_t bb = traits(type_).block_bytes;
    GroupCodec one = *this;
    one.cols_ = 32;
    one.group_ = 32;
    one.encode_row(q, &g, static_cast<uint8_t*>(dst) + (size_t)b * bb);
  }
}

void GroupCodec::fake_quantize_row(const float* x, float* y, const float* clip) const {
  GroupParams g;
  for (int64_t i = 0; i < cols_; ++i) {
    if (i % group_ == 0) g = params(x + i, group_len(i / group_), clip ? clip[i / group_] : 1.0f);
    y[i] = dequantize(quantize(x[i], g), g);
  }
}

}  // namespace pocket
