// A batch of (token, position, sequence) entries: prefill, decode, speculative verification and
// parallel sequences are all one forward() call over a batch.
#pragma once

#include <cstdint>
#include <vector>

namespace pocket {

struct BatchEntry {
  int32_t token = 0;
  int32_t pos = 0;
  int32_t seq = 0;
  bool want_logits = false;
};

struct Batch {
  std::vector<BatchEntry> entries;

  void clear() { entries.clear(); }
  void add(int32_t token, int32_t pos, int32_t seq, bool want_logits) { entries.push_back({token, pos, seq, want_logits}); }
  int size() const { return (int)entries.size(); }
  int n_logits() const {
    int n = 0;
    for (const BatchEntry& e : entries) n += e.want_logits ? 1 : 0;
    return n;
  }
};

}  // namespace pocket
