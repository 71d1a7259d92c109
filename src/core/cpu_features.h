// CPU feature detection: x86 CPUID + OS XSAVE support; aarch64 the kernel's HWCAP bits.
#pragma once

#include <string>

namespace pocket {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool avxvnni = false;
  bool neon = false;     // aarch64 Advanced SIMD (ASIMD)
  bool dotprod = false;  // aarch64 SDOT/UDOT (ARMv8.2 dot product, ASIMDDP)
};

const CpuFeatures& cpu_features();

// What kind of core this is, for keying per-machine measurements (kernels/kernel_choice): on x86 the
// CPUID brand string with family/model/stepping (virtual machines often report a generic brand such as
// "AMD EPYC" for several generations); on aarch64 every distinct MIDR (implementer:part rVpR) in
// /proc/cpuinfo, so a big.LITTLE phone is one model; "unknown" where neither is readable.
const std::string& cpu_model_name();

}  // namespace pocket
