#include "kernels/kernel_table.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/cpu_features.h"
#include "core/log.h"
#include "dtype/block_formats.h"

namespace pocket {

TensorType act_type_for(TensorType weight_type) {
  switch (weight_type) {
    case TensorType::Q8_0:
    case TensorType::Q4_0:
    case TensorType::Q4_1:
    case TensorType::Q5_0:
    case TensorType::Q5_1:
    case TensorType::IQ4_NL: return TensorType::Q8_0;
    case TensorType::Q2_K:
    case TensorType::Q3_K:
    case TensorType::IQ4_XS:
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K: return TensorType::Q8_K;
    default: return TensorType::F32;
  }
}

size_t act_row_bytes(TensorType weight_type, int64_t n) {
  switch (act_type_for(weight_type)) {
    case TensorType::Q8_0: return (size_t)(n / kQK8_0) * sizeof(BlockQ8_0);
    case TensorType::Q8_K: return (size_t)(n / kQK_K) * sizeof(BlockQ8_K);
    default: return (size_t)n * sizeof(float);
  }
}

bool quantize_activations(const KernelTable& kt, TensorType weight_type, const float* x, void* y, int64_t n) {
  switch (act_type_for(weight_type)) {
    case TensorType::Q8_0: return kt.quantize_q8_0(x, y, n), true;
    case TensorType::Q8_K: return kt.quantize_q8_k(x, y, n), true;
    default: return false;
  }
}

namespace {

// CPU features are checked before the table is touched: building a table runs code compiled for
// its ISA (even copying the struct may use its registers).
#ifdef POCKET_HAVE_AVX2
constexpr bool kHaveAvx2 = true;
#else
constexpr bool kHaveAvx2 = false;
#endif
#ifdef POCKET_HAVE_AVX512
constexpr bool kHaveAvx512 = true;
#else
constexpr bool kHaveAvx512 = false;
#endif

#ifdef POCKET_HAVE_NEON
constexpr bool kHaveNeon = true;
#else
constexpr bool kHaveNeon = false;
#endif

bool neon_usable() { return kHaveNeon && cpu_features().neon; }
bool dotprod_usable() { return neon_usable() && cpu_features().dotprod; }

bool avx2_usable() {
  const CpuFeatures& f = cpu_features();
  return kHaveAvx2 && f.avx2 && f.fma && f.f16c;
}

bool avx512_usable() {
  const CpuFeatures& f = cpu_features();
  return kHaveAvx512 && avx2_usable() && f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni;
}

// Best table for this CPU, or the one named (falling back, with a message, when it cannot run here).
const KernelTable& choose() {
  const char* env = std::getenv("POCKET_KERNELS");
  if (env != nullptr && std::strcmp(env, "ref") == 0) return ref_kernels();
  if (kHaveNeon) {
    if (env != nullptr && std::strcmp(env, "neon") == 0 && neon_usable()) return *neon_kernels();
    if (env != nullptr && *env != '\0' && std::strcmp(env, "auto") != 0 && std::strcmp(env, "neon-dotprod") != 0 && std::strcmp(env, "neon") != 0)
      log_message(LogLevel::kWarn, std::string("unknown POCKET_KERNELS='") + env + "' (ref|neon|neon-dotprod|auto); using auto");
    if (dotprod_usable()) return *neon_dotprod_kernels();
    if (neon_usable()) return *neon_kernels();
    return ref_kernels();
  }
  if (env != nullptr && std::strcmp(env, "avx2") == 0) {
    if (avx2_usable()) return *avx2_kernels();
    log_message(LogLevel::kWarn, "POCKET_KERNELS=avx2 but this CPU/build lacks AVX2+FMA+F16C; using ref");
    return ref_kernels();
  }
  if (env != nullptr && std::strcmp(env, "avx512vnni") == 0) {
    if (avx512_usable()) return *avx512_kernels();
    log_message(LogLevel::kWarn, "POCKET_KERNELS=avx512vnni but this CPU/build lacks AVX-512 VNNI; using auto");
  } else if (env != nullptr && *env != '\0' && std::strcmp(env, "auto") != 0)
    log_message(LogLevel::kWarn, std::string("unknown POCKET_KERNELS='") + env + "' (ref|avx2|avx512vnni|auto); using auto");
  if (avx512_usable()) return *avx512_kernels();
  if (avx2_usable()) return *avx2_kernels();
  return ref_kernels();
}

}  // namespace

const KernelTable& kernels() {
  static const KernelTable& k = choose();
  return k;
}

int available_kernel_tables(const KernelTable** out, int max) {
  int n = 0;
  if (n < max) out[n++] = &ref_kernels();
  if (n < max && avx2_usable()) out[n++] = avx2_kernels();
  if (n < max && avx512_usable()) out[n++] = avx512_kernels();
  if (n < max && neon_usable()) out[n++] = neon_kernels();
  if (n < max && dotprod_usable()) out[n++] = neon_dotprod_kernels();
  return n;
}

}  // namespace pocket
