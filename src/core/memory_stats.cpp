#include "core/memory_stats.h"

#include <sys/resource.h>

#include <fstream>
#include <string>

namespace pocket {

size_t peak_rss_bytes() {
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (size_t)ru.ru_maxrss * 1024;  // Linux reports KiB
}

size_t meminfo_bytes(const char* key) {
  std::ifstream in("/proc/meminfo");
  const std::string want = std::string(key) + ":";
  std::string k, unit;
  size_t kb = 0;
  while (in >> k >> kb >> unit)
    if (k == want) return kb * 1024;
  return 0;
}

MemoryHeadroom memory_headroom() {
  MemoryHeadroom h;
  if (const size_t avail = meminfo_bytes("MemAvailable"); avail > 0) h.available = avail;
  struct rlimit rl {};
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    size_t mapped = 0;  // VmSize: address space in use now
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("VmSize:", 0) == 0) mapped = std::stoull(line.substr(7)) * 1024;
    h.address_space = rl.rlim_cur > mapped ? (size_t)rl.rlim_cur - mapped : 0;
  }
  return h;
}

}  // namespace pocket
