#include "core/memory_stats.h"

#include <sys/resource.h>

namespace pocket {

size_t peak_rss_bytes() {
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (size_t)ru.ru_maxrss * 1024;  // Linux reports KiB
}

}  // namespace pocket
