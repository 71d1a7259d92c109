// Stop strings over streamed text: holds back text that might be the start of a stop string and
// reports when one is complete.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace pocket {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  // Adds text; returns what can be printed now. Sets *stopped when a stop string appeared.
  std::string feed(const std::string& text, bool* stopped);
  std::string flush();

 private:
  std::vector<std::string> stops_;
  std::string buf_;
};

}  // namespace pocket
