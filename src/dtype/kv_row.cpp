#include "dtype/kv_row.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"

namespace pocket {

const char* kv_type_name(KvType t) {
  switch (t) {
    case KvType::kF32: return "f32";
    case KvType::kF16: return "f16";
    case KvType::kQ8: return "q8";
    case KvType::kQ4: return "q4";
  }
  return "?";
}

std::optional<KvType> kv_type_from_name(const std::string& s) {
  for (KvType t : {KvType::kF32, KvType::kF16, KvType::kQ8, KvType::kQ4})
    if (s == kv_type_name(t)) return t;
  return std::nullopt;
}

size_t kv_row_data_bytes(KvType t, int64_t kv_dim) {
  switch (t) {
    case KvType::kF32: return (size_t)kv_dim * 4;
    case KvType::kF16: return (size_t)kv_dim * 2;
    case KvType::kQ8: return (size_t)kv_dim;
    case KvType::kQ4: return (size_t)(kv_dim + 1) / 2;
  }
  return 0;
}

int64_t kv_row_scales(KvType t, int64_t kv_dim, int64_t group) { return (t == KvType::kQ8 || t == KvType::kQ4) ? kv_dim / group : 0; }

void kv_encode_row(KvType t, const float* x, int64_t kv_dim, int64_t group, uint8_t* data, uint16_t* scales) {
  switch (t) {
    case KvType::kF32: std::memcpy(data, x, (size_t)kv_dim * 4); return;
    case KvType::kF16: {
      uint16_t* h = reinterpret_cast<uint16_t*>(data);
      for (int64_t i = 0; i < kv_dim; ++i) h[i] = float_to_fp16(x[i]);
      return;
    }
    case KvType::kQ8:
    case KvType::kQ4: {
      const float qmax = t == KvType::kQ8 ? 127.0f : 7.0f;
      for (int64_t g0 = 0; g0 < kv_dim; g0 += group) {
        float amax = 0.0f;
        for (int64_t i = g0; i < g0 + group; ++i) amax = std::max(amax, std::fabs(x[i]));  // NaN ignored
        const uint16_t sh = float_to_fp16(std::min(amax / qmax, 65504.0f));                // fp16's largest: huge values clamp, never inf
        const float d = fp16_to_float(sh);
        const float id = d > 0.0f ? 1.0f / d : 0.0f;
        scales[g0 / group] = sh;
        for (int64_t i = g0; i < g0 + group; ++i) {
          float r = std::nearbyint(x[i] * id);
          if (std::isnan(r)) r = 0.0f;
          r = std::clamp(r, -qmax, qmax);
          if (t == KvType::kQ8) {
            reinterpret_cast<int8_t*>(data)[i] = (int8_t)r;
          } else {
            const uint8_t nib = (uint8_t)((int)r + 8);
            if (i % 2 == 0)
              data[i / 2] = nib;
            else
              data[i / 2] = (uint8_t)(data[i / 2] | (nib << 4));
          }
        }
      }
      return;
    }
  }
}

void kv_decode(KvType t, const uint8_t* data, const uint16_t* scales, int64_t begin, int64_t n, int64_t group, float* out) {
  switch (t) {
    case KvType::kF32: std::memcpy(out, reinterpret_cast<const float*>(data) + begin, (size_t)n * 4); return;
    case KvType::kF16: {
      const uint16_t* h = reinterpret_cast<const uint16_t*>(data) + begin;
      for (int64_t i = 0; i < n; ++i) out[i] = fp16_to_float(h[i]);
      return;
    }
    case KvType::kQ8: {
      const int8_t* q = reinterpret_cast<const int8_t*>(data) + begin;
      for (int64_t i = 0; i < n; ++i) out[i] = (float)q[i] * fp16_to_float(scales[(begin + i) / group]);
      return;
    }
    case KvType::kQ4: {
      for (int64_t i = 0; i < n; ++i) {
        const int64_t j = begin + i;
        const int nib = (j % 2 == 0) ? (data[j / 2] & 0x0f) : (data[j / 2] >> 4);
        out[i] = (float)(nib - 8) * fp16_to_float(scales[j / group]);
      }
      return;
    }
  }
}

}  // namespace pocket
