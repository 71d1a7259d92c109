// Reference kernels: plain scalar C++, the definition every optimized table is tested against.
#include <cmath>
#include <cstring>

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

float vec_dot_q5_0(int64_t n, const void* w, const void* x) {
  const BlockQ5_0* wb = static_cast<const BlockQ5_0*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    uint32_t qh;
    std::memcpy(&qh, wb[b].qh, sizeof qh);
    int32_t sumi = 0;
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const int h0 = (int)((qh >> j) << 4) & 0x10, h1 = (int)(qh >> (j + 12)) & 0x10;
      sumi += (((wb[b].qs[j] & 0x0f) | h0) - 16) * (int32_t)xb[b].qs[j];
      sumi += (((wb[b].qs[j] >> 4) | h1) - 16) * (int32_t)xb[b].qs[j + kQK5_0 / 2];
    }
    s += (float)sumi * (fp16_to_float(wb[b].d) * fp16_to_float(xb[b].d));
  }
  return s;
}

float vec_dot_q5_1(int64_t n, const void* w, const void* x) {
  const BlockQ5_1* wb = static_cast<const BlockQ5_1*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK5_1; ++b) {
    uint32_t qh;
    std::memcpy(&qh, wb[b].qh, sizeof qh);
    int32_t sumi = 0, sumx = 0;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      const int h0 = (int)((qh >> j) << 4) & 0x10, h1 = (int)(qh >> (j + 12)) & 0x10;
      sumi += ((wb[b].qs[j] & 0x0f) | h0) * (int32_t)xb[b].qs[j];
      sumi += ((wb[b].qs[j] >> 4) | h1) * (int32_t)xb[b].qs[j + kQK5_1 / 2];
      sumx += (int32_t)xb[b].qs[j] + (int32_t)xb[b].qs[j + kQK5_1 / 2];
    }
    const float dx = fp16_to_float(xb[b].d);
    s += (float)sumi * (fp16_to_float(wb[b].d) * dx) + (float)sumx * (fp16_to_float(wb[b].m) * dx);
  }
  return s;
}

// K-quants against Q8_K activations. Each super-block's sums are exact integers (scale-weighted level
// dots, and the mins against the activations' 16-sums), combined in one float formula that the SIMD
// tables reproduce bit for bit: s = fma(x.d, fma(d, isum, -(dmin * imin)), s). The fused operations are
// written out because a compiler may contract a * b - c into an fma where FMA exists and not elsewhere.
float vec_dot_q4_k(int64_t n, const void* w, const void* x) {
  const BlockQ4_K* wb = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t isum = 0, imin = 0;
    const uint8_t* q = wb[b].qs;
    const int8_t* a = xb[b].qs;
    for (int j = 0; j < kQK_K / 64; ++j, q += 32, a += 64) {
      uint8_t sc0, m0, sc1, m1;
      k_scale_min(2 * j, wb[b].scales, &sc0, &m0);
      k_scale_min(2 * j + 1, wb[b].scales, &sc1, &m1);
      int32_t d0 = 0, d1 = 0;
      for (int l = 0; l < 32; ++l) {
        d0 += (q[l] & 0x0f) * (int32_t)a[l];
        d1 += (q[l] >> 4) * (int32_t)a[l + 32];
      }
      isum += sc0 * d0 + sc1 * d1;
      imin += m0 * (xb[b].bsums[4 * j] + xb[b].bsums[4 * j + 1]) + m1 * (xb[b].bsums[4 * j + 2] + xb[b].bsums[4 * j + 3]);
    }
    s = std::fma(xb[b].d, std::fma(fp16_to_float(wb[b].d), (float)isum, -(fp16_to_float(wb[b].dmin) * (float)imin)), s);
  }
  return s;
}

float vec_dot_q5_k(int64_t n, const void* w, const void* x) {
  const BlockQ5_K* wb = static_cast<const BlockQ5_K*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t isum = 0, imin = 0;
    const uint8_t* q = wb[b].qs;
    const uint8_t* qh = wb[b].qh;
    const int8_t* a = xb[b].qs;
    for (int j = 0; j < kQK_K / 64; ++j, q += 32, a += 64) {
      uint8_t sc0, m0, sc1, m1;
      k_scale_min(2 * j, wb[b].scales, &sc0, &m0);
      k_scale_min(2 * j + 1, wb[b].scales, &sc1, &m1);
      const uint8_t u0 = (uint8_t)(1u << (2 * j)), u1 = (uint8_t)(2u << (2 * j));
      int32_t d0 = 0, d1 = 0;
      for (int l = 0; l < 32; ++l) {
        d0 += ((q[l] & 0x0f) + (qh[l] & u0 ? 16 : 0)) * (int32_t)a[l];
        d1 += ((q[l] >> 4) + (qh[l] & u1 ? 16 : 0)) * (int32_t)a[l + 32];
      }
      isum += sc0 * d0 + sc1 * d1;
      imin += m0 * (xb[b].bsums[4 * j] + xb[b].bsums[4 * j + 1]) + m1 * (xb[b].bsums[4 * j + 2] + xb[b].bsums[4 * j + 3]);
    }
    s = std::fma(xb[b].d, std::fma(fp16_to_float(wb[b].d), (float)isum, -(fp16_to_float(wb[b].dmin) * (float)imin)), s);
  }
  return s;
}

float vec_dot_q6_k(int64_t n, const void* w, const void* x) {
  const BlockQ6_K* wb = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t isum = 0;
    const uint8_t* ql = wb[b].ql;
    const uint8_t* qh = wb[b].qh;
    const int8_t* sc = wb[b].scales;
    const int8_t* a = xb[b].qs;
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, a += 128) {
      int32_t sub[8] = {};  // 8 sub-blocks of 16 in this half: (l / 16) + 2 * quarter
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        sub[is + 0] += q1 * a[l];
        sub[is + 2] += q2 * a[l + 32];
        sub[is + 4] += q3 * a[l + 64];
        sub[is + 6] += q4 * a[l + 96];
      }
      for (int k = 0; k < 8; ++k) isum += sc[k] * sub[k];
    }
    s = std::fma(xb[b].d, fp16_to_float(wb[b].d) * (float)isum, s);
  }
  return s;
}

float vec_dot_iq4_nl(int64_t n, const void* w, const void* x) {
  const BlockIQ4_NL* wb = static_cast<const BlockIQ4_NL*>(w);
  const BlockQ8_0* xb = static_cast<const BlockQ8_0*>(x);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK4_NL; ++b) {
    int32_t sumi = 0;
    for (int j = 0; j < kQK4_NL / 2; ++j) {
      sumi += kIq4nlValues[wb[b].qs[j] & 0x0f] * (int32_t)xb[b].qs[j];
      sumi += kIq4nlValues[wb[b].qs[j] >> 4] * (int32_t)xb[b].qs[j + kQK4_NL / 2];
    }
    s += (float)sumi * (fp16_to_float(wb[b].d) * fp16_to_float(xb[b].d));
  }
  return s;
}

float vec_dot_iq4_xs(int64_t n, const void* w, const void* x) {
  const BlockIQ4_XS* wb = static_cast<const BlockIQ4_XS*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t isum = 0;
    const uint8_t* qs = wb[b].qs;
    const int8_t* a = xb[b].qs;
    for (int ib = 0; ib < kQK_K / 32; ++ib, qs += 16, a += 32) {
      const int ls = ((wb[b].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((wb[b].scales_h >> 2 * ib) & 3) << 4);
      int32_t sub = 0;
      for (int j = 0; j < 16; ++j) sub += kIq4nlValues[qs[j] & 0xf] * a[j] + kIq4nlValues[qs[j] >> 4] * a[j + 16];
      isum += (ls - 32) * sub;
    }
    s = std::fma(xb[b].d, fp16_to_float(wb[b].d) * (float)isum, s);
  }
  return s;
}

float vec_dot_q2_k(int64_t n, const void* w, const void* x) {
  const BlockQ2_K* wb = static_cast<const BlockQ2_K*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t isum = 0, imin = 0;
    for (int j = 0; j < 16; ++j) imin += (wb[b].scales[j] >> 4) * xb[b].bsums[j];
    const uint8_t* q = wb[b].qs;
    const int8_t* a = xb[b].qs;
    int is = 0;
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, a += 32) {
        int32_t s0 = 0, s1 = 0;
        for (int l = 0; l < 16; ++l) {
          s0 += ((q[l] >> shift) & 3) * a[l];
          s1 += ((q[l + 16] >> shift) & 3) * a[l + 16];
        }
        isum += (wb[b].scales[is] & 0xF) * s0 + (wb[b].scales[is + 1] & 0xF) * s1;
        is += 2;
      }
    }
    s = std::fma(xb[b].d, std::fma(fp16_to_float(wb[b].d), (float)isum, -(fp16_to_float(wb[b].dmin) * (float)imin)), s);
  }
  return s;
}

float vec_dot_q3_k(int64_t n, const void* w, const void* x) {
  const BlockQ3_K* wb = static_cast<const BlockQ3_K*>(w);
  const BlockQ8_K* xb = static_cast<const BlockQ8_K*>(x);
  float s = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t sc[16];
    q3_k_scales(wb[b].scales, sc);
    int32_t isum = 0;
    const uint8_t* q = wb[b].qs;
    const int8_t* a = xb[b].qs;
    uint8_t m = 1;
    int is = 0;
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m = (uint8_t)(m << 1), a += 32) {
        int32_t s0 = 0, s1 = 0;
        for (int l = 0; l < 16; ++l) {
          s0 += (((q[l] >> shift) & 3) - ((wb[b].hmask[l] & m) ? 0 : 4)) * a[l];
          s1 += (((q[l + 16] >> shift) & 3) - ((wb[b].hmask[l + 16] & m) ? 0 : 4)) * a[l + 16];
        }
        isum += sc[is] * s0 + sc[is + 1] * s1;
        is += 2;
      }
    }
    s = std::fma(xb[b].d, fp16_to_float(wb[b].d) * (float)isum, s);
  }
  return s;
}

void quantize_q8_0(const float* x, void* y, int64_t n) { quantize_row_q8_0_act_ref(x, static_cast<BlockQ8_0*>(y), n); }
void quantize_q8_k(const float* x, void* y, int64_t n) { quantize_row_q8_k_ref(x, static_cast<BlockQ8_K*>(y), n); }

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
  k.vec_dot[(int)TensorType::Q5_0] = vec_dot_q5_0;
  k.vec_dot[(int)TensorType::Q5_1] = vec_dot_q5_1;
  k.vec_dot[(int)TensorType::Q4_K] = vec_dot_q4_k;
  k.vec_dot[(int)TensorType::Q5_K] = vec_dot_q5_k;
  k.vec_dot[(int)TensorType::Q6_K] = vec_dot_q6_k;
  k.vec_dot[(int)TensorType::Q2_K] = vec_dot_q2_k;
  k.vec_dot[(int)TensorType::Q3_K] = vec_dot_q3_k;
  k.vec_dot[(int)TensorType::IQ4_NL] = vec_dot_iq4_nl;
  k.vec_dot[(int)TensorType::IQ4_XS] = vec_dot_iq4_xs;
  k.quantize_q8_0 = quantize_q8_0;
  k.quantize_q8_k = quantize_q8_k;
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
