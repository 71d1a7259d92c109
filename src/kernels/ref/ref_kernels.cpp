// Reference kernels: plain scalar C++, the definition every optimized table is tested against.
#include <cmath>

#include "core/fp16.h"
#include "kernels/kernel_table.h"
#include "kernels/softmax.h"
#include "dtype/block_formats.h"

namespace pocket {
namespace {

float dot_f32_ref(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

float vec_dot_f32(int64_t n, const void* w, const void* x) { return dot_f32_ref(static_cast<const float*>(w), static_cast<const float*>(x), n); }

float vec_dot_f16(int64_t n, const void* w, const void* x) {
  const uint16_t* h = static_cast<const uint16_t*>(w);
  const float* a = static_cast<const float*>(x);
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += fp16_to_float(h[i]) * a[i];
  return s;
}

float vec_dot_bf16(int64_t n, const void* w, const void* x) {
  const uint16_t* h = static_cast<const uint16_t*>(w);
  const float* a = static_cast<const float*>(x);
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += bf16_to_float(h[i]) * a[i];
  return s;
}

float vec_dot_q8_0(int64_t n, const void* w, const void* x) {
  const BlockQ8_0* wb = static_cast<const BlockQ8_0*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    int32_t sumi = 0;
    for (int j = 0; j < kQK8_0; ++j) sumi += (int32_t)wb[b].qs[j] * (int32_t)xb[b].qs[j];
    s += (float)sumi * (fp16_to_float(wb[b].d) * fp16_to_float(xb[b].d));
  }
  return s;
}

float vec_dot_q4_0(int64_t n, const void* w, const void* x) {
  const BlockQ4_0* wb = static_cast<const BlockQ4_0*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    int32_t sumi = 0;
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      sumi += ((wb[b].qs[j] & 0x0f) - 8) * (int32_t)xb[b].qs[j];
      sumi += ((wb[b].qs[j] >> 4) - 8) * (int32_t)xb[b].qs[j + kQK4_0 / 2];
    }
    s += (float)sumi * (fp16_to_float(wb[b].d) * fp16_to_float(xb[b].d));
  }
  return s;
}

float vec_dot_q4_1(int64_t n, const void* w, const void* x) {
  const BlockQ4_1* wb = static_cast<const BlockQ4_1*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK4_1; ++b) {
    int32_t sumi = 0, sumx = 0;
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      sumi += (wb[b].qs[j] & 0x0f) * (int32_t)xb[b].qs[j];
      sumi += (wb[b].qs[j] >> 4) * (int32_t)xb[b].qs[j + kQK4_1 / 2];
      sumx += (int32_t)xb[b].qs[j] + (int32_t)xb[b].qs[j + kQK4_1 / 2];
    }
    const float dx = fp16_to_float(xb[b].d);
    s += (float)sumi * (fp16_to_float(wb[b].d) * dx) + (float)sumx * (fp16_to_float(wb[b].m) * dx);
  }
  return s;
}

void quantize_q8_0(const float* x, void* y, int64_t n) { quantize_row_q8_0_act_ref(x, static_cast<BlockQ8_0*>(y), n); }

void axpy_ref(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void rmsnorm_ref(const float* x, const float* w, float* y, int64_t n, float eps) {
  // The mean of squares accumulates in double (as ggml does): it feeds the Q8_0 activation rounding
  // of quantized models, where a last-bit difference can flip a quantization level.
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) ss += (double)(x[i] * x[i]);
  const float scale = 1.0f / std::sqrt((float)(ss / (double)n) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = w[i] * (scale * x[i]);
}

void silu_mul_ref(float* g, const float* u, int64_t n) {
  for (int64_t i = 0; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void attn_head_ref(const float* q, const float* k, const float* v, int64_t stride, int n_pos, int64_t hd, float scale, float* out, float* sc) {
  for (int p = 0; p < n_pos; ++p) sc[p] = dot_f32_ref(q, k + (size_t)p * stride, hd) * scale;
  softmax_inplace(sc, n_pos);
  for (int64_t i = 0; i < hd; ++i) out[i] = 0.0f;
  for (int p = 0; p < n_pos; ++p) axpy_ref(sc[p], v + (size_t)p * stride, out, hd);
}

const uint8_t* row_at(const KvHeadRows& r, int p) { return r.data + (size_t)p * r.stride; }
const uint16_t* scales_at(const KvHeadRows& r, int p) { return r.scales ? r.scales + (size_t)p * r.scale_stride : nullptr; }

void attn_head_kv_ref(const float* q, const KvHeadRows& k, const KvHeadRows& v, int n_pos, int64_t hd, float scale, float* out, float* sc) {
  float row[kMaxHeadDim];
  for (int p = 0; p < n_pos; ++p) {
    kv_decode(k.type, row_at(k, p), scales_at(k, p), 0, hd, k.group, row);
    sc[p] = dot_f32_ref(q, row, hd) * scale;
  }
  softmax_inplace(sc, n_pos);
  for (int64_t i = 0; i < hd; ++i) out[i] = 0.0f;
  for (int p = 0; p < n_pos; ++p) {
    kv_decode(v.type, row_at(v, p), scales_at(v, p), 0, hd, v.group, row);
    axpy_ref(sc[p], row, out, hd);
  }
}

KernelTable make() {
  KernelTable k;
  k.name = "ref";
  k.vec_dot[(int)TensorType::F32] = vec_dot_f32;
  k.vec_dot[(int)TensorType::F16] = vec_dot_f16;
  k.vec_dot[(int)TensorType::BF16] = vec_dot_bf16;
  k.vec_dot[(int)TensorType::Q8_0] = vec_dot_q8_0;
  k.vec_dot[(int)TensorType::Q4_0] = vec_dot_q4_0;
  k.vec_dot[(int)TensorType::Q4_1] = vec_dot_q4_1;
  k.quantize_q8_0 = quantize_q8_0;
  k.dot_f32 = dot_f32_ref;
  k.axpy_f32 = axpy_ref;
  k.rmsnorm = rmsnorm_ref;
  k.silu_mul = silu_mul_ref;
  k.attn_head_f32 = attn_head_ref;
  k.attn_head_kv = attn_head_kv_ref;
  return k;
}

}  // namespace

const KernelTable& ref_kernels() {
  static const KernelTable k = make();
  return k;
}

}  // namespace pocket
