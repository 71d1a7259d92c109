// Process memory statistics (peak resident set size) for run/bench reports.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pocket {

size_t peak_rss_bytes();

// A /proc/meminfo field ("MemTotal", "MemAvailable", …) in bytes; 0 when absent or unreadable.
size_t meminfo_bytes(const char* key);

// What this process can still allocate: anonymous memory (MemAvailable from /proc/meminfo) and address
// space (the RLIMIT_AS soft limit, `ulimit -v`, minus what is mapped now); SIZE_MAX where unknown or
// unlimited. Checked before large allocations so they fail with a message, not a bad_alloc.
struct MemoryHeadroom {
  size_t available = SIZE_MAX;      // physical memory the kernel says can be given without swapping
  size_t address_space = SIZE_MAX;  // RLIMIT_AS left
};
MemoryHeadroom memory_headroom();

}  // namespace pocket
