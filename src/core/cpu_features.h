// CPU feature detection (x86 CPUID + OS XSAVE support).
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
};

const CpuFeatures& cpu_features();

}  // namespace pocket
