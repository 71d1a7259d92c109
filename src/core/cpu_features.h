// CPU feature detection: x86 CPUID + OS XSAVE support; aarch64 the kernel's HWCAP bits.
#pragma once

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

}  // namespace pocket
