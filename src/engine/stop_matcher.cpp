#include "engine/stop_matcher.h"

#include <algorithm>

namespace pocket {

std::string StopMatcher::feed(const std::string& text, bool* stopped) {
  buf_ += text;
  size_t first = std::string::npos;
  for (const std::string& s : stops_) {
    if (s.empty()) continue;
    const size_t at = buf_.find(s);
    if (at != std::string::npos) first = std::min(first, at);
  }
  if (first != std::string::npos) {
    *stopped = true;
    std::string out = buf_.substr(0, first);
    buf_.clear();
    return out;
  }
  size_t hold = 0;  // longest suffix of buf_ that is a proper prefix of some stop string
  for (const std::string& s : stops_) {
    for (size_t k = std::min(s.size() - (s.empty() ? 0 : 1), buf_.size()); k > hold; --k) {
      if (buf_.compare(buf_.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
    }
  }
  std::string out = buf_.substr(0, buf_.size() - hold);
  buf_.erase(0, buf_.size() - hold);
  return out;
}

std::string StopMatcher::flush() {
  std::string out;
  out.swap(buf_);
  return out;
}

}  // namespace pocket
