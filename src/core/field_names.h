// Front ends rename the library's option names in its errors. The library names an option by its C++
// API name (temperature, n_ctx, kv_sinks, prune.method: Status::field(), field_error in pocket/status.h);
// the CLI's user typed --temp, a server client sent JSON "temperature". with_field_names puts the
// front end's names into the message.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "pocket/status.h"

namespace pocket {

// (library name, front end's name) pairs, e.g. {"n_ctx", "--ctx"}, {"n_predict", "max_tokens"}.
using FieldNames = std::vector<std::pair<std::string, std::string>>;

inline bool is_field_word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

// s.message() with every whole-word occurrence of each library name replaced by the front end's name:
// the characters either side of it must not be [A-Za-z0-9_], so n_ctx stays inside max_n_ctx_x. One
// pass from left to right, so a replacement is never renamed again (vocab -> --draft-vocab leaves the
// "vocab" of an earlier --draft-vocab-text alone); where several names match at one place the longest
// wins (calib.n_ctx before n_ctx). Names may contain '.' or '/' (prune.method, kv_k_type/kv_v_type).
inline std::string with_field_names(const Status& s, const FieldNames& names) {
  const std::string& m = s.message();
  std::string out;
  out.reserve(m.size());
  size_t i = 0;
  while (i < m.size()) {
    const std::pair<std::string, std::string>* best = nullptr;
    if (i == 0 || !is_field_word_char(m[i - 1])) {
      for (const auto& n : names) {
        const size_t len = n.first.size();
        if (len == 0 || m.compare(i, len, n.first) != 0) continue;
        if (i + len < m.size() && is_field_word_char(m[i + len])) continue;
        if (best == nullptr || len > best->first.size()) best = &n;
      }
    }
    if (best != nullptr) {
      out += best->second;
      i += best->first.size();
    } else {
      out += m[i++];
    }
  }
  return out;
}

// The front end's name of the option s is about ("" when it is about none, or one names has not).
inline std::string field_name_of(const Status& s, const FieldNames& names) {
  if (s.field().empty()) return "";
  for (const auto& n : names)
    if (n.first == s.field()) return n.second;
  return "";
}

}  // namespace pocket
