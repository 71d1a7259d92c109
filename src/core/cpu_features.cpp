#include "core/cpu_features.h"

#include <cstdio>
#include <cstring>
#include <set>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace pocket {
namespace {

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1;
  const bool avx = (c >> 28) & 1;
  f.fma = (c >> 12) & 1;
  f.f16c = (c >> 29) & 1;
  if (!osxsave || !avx) return f;
  unsigned xlo = 0, xhi = 0;
  __asm__("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  const bool ymm_ok = (xlo & 0x6) == 0x6;
  const bool zmm_ok = (xlo & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = ymm_ok && ((b >> 5) & 1);
  f.avx512f = zmm_ok && ((b >> 16) & 1);
  f.avx512bw = zmm_ok && ((b >> 30) & 1);
  f.avx512vl = zmm_ok && ((b >> 31) & 1);
  f.avx512vnni = zmm_ok && ((c >> 11) & 1);
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avxvnni = ymm_ok && ((a >> 4) & 1);
#elif defined(__aarch64__)
  const unsigned long hw = getauxval(AT_HWCAP);
  f.neon = (hw & HWCAP_ASIMD) != 0;
  f.dotprod = (hw & HWCAP_ASIMDDP) != 0;
#endif
  return f;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\0')) s.pop_back();
  size_t b = 0;
  while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
  return s.substr(b);
}

std::string detect_model() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  std::string brand;
  if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
    char buf[49] = {};
    for (unsigned leaf = 0; leaf < 3; ++leaf) {
      unsigned r[4] = {};
      __get_cpuid(0x80000002 + leaf, &r[0], &r[1], &r[2], &r[3]);
      std::memcpy(buf + 16 * leaf, r, 16);
    }
    brand = trim(buf);
  }
  if (!__get_cpuid(1, &a, &b, &c, &d)) return brand.empty() ? "unknown" : brand;
  // Display family/model as the vendors' manuals define them (extended fields added in).
  const unsigned base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
  const unsigned family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
  const unsigned model = base_family == 0x6 || base_family == 0xf ? (((a >> 16) & 0xf) << 4) | base_model : base_model;
  char fms[64];
  std::snprintf(fms, sizeof fms, "family %u model %u stepping %u", family, model, a & 0xf);
  return (brand.empty() ? std::string("x86") : brand) + " (" + fms + ")";
#elif defined(__aarch64__)
  std::set<std::string> midrs;
  if (FILE* f = std::fopen("/proc/cpuinfo", "r")) {
    char line[256];
    std::string impl, part, var, rev;
    auto flush = [&] {
      if (!impl.empty() && !part.empty()) midrs.insert(impl + ":" + part + " r" + var + "p" + rev);
      impl.clear(), part.clear(), var.clear(), rev.clear();
    };
    while (std::fgets(line, sizeof line, f) != nullptr) {
      const char* colon = std::strchr(line, ':');
      if (colon == nullptr) {
        flush();  // blank line: the next processor's block
        continue;
      }
      const std::string key = trim(std::string(line, (size_t)(colon - line))), value = trim(colon + 1);
      if (key == "CPU implementer") impl = value;
      if (key == "CPU part") part = value;
      if (key == "CPU variant") var = value.rfind("0x", 0) == 0 ? value.substr(2) : value;
      if (key == "CPU revision") rev = value;
    }
    flush();
    std::fclose(f);
  }
  // No /proc/cpuinfo fields (some kernels, emulators): this core's MIDR_EL1, which Linux emulates for
  // user space where HWCAP_CPUID says so.
  if (midrs.empty() && (getauxval(AT_HWCAP) & HWCAP_CPUID) != 0) {
    unsigned long midr = 0;
    __asm__ volatile("mrs %0, MIDR_EL1" : "=r"(midr));
    char buf[64];
    std::snprintf(buf, sizeof buf, "0x%02lx:0x%03lx r%lxp%lx", (midr >> 24) & 0xff, (midr >> 4) & 0xfff, (midr >> 20) & 0xf, midr & 0xf);
    midrs.insert(buf);
  }
  if (midrs.empty()) return "aarch64 unknown";
  std::string s = "aarch64";
  for (const std::string& m : midrs) s += " " + m;
  return s;
#else
  return "unknown";
#endif
}

}  // namespace

const std::string& cpu_model_name() {
  static const std::string s = detect_model();
  return s;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

}  // namespace pocket
