// Process memory statistics (peak resident set size) for run/bench reports.
#pragma once

#include <cstddef>

namespace pocket {

size_t peak_rss_bytes();

}  // namespace pocket
