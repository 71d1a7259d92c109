// Text helpers for the Jinja engine, in JavaScript's terms (the reference runs in JavaScript): its
// whitespace set (String.prototype.trim, /\s/), \w, and UTF-8 <-> code points.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pocket::jinja {

inline bool js_space(uint32_t c) {
  return c == 0x09 || c == 0x0A || c == 0x0B || c == 0x0C || c == 0x0D || c == 0x20 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}
inline bool word_char(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

// The code point at s[i] and its length in bytes; an invalid byte is itself (length 1, value 0xFFFD
// is not substituted: bytes pass through unchanged elsewhere).
inline uint32_t decode_at(std::string_view s, size_t i, size_t* len) {
  const unsigned char c = (unsigned char)s[i];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) {
    *len = 1;
    return 0xDC00u | c;  // a lone byte: a value no valid code point decodes to here (a low surrogate)
  }
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) {
    const unsigned char cc = (unsigned char)s[i + k];
    if ((cc & 0xC0) != 0x80) {
      *len = 1;
      return 0xDC00u | c;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  *len = n;
  return cp;
}

inline void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += (char)cp;
  } else if (cp < 0x800) {
    out += (char)(0xC0 | (cp >> 6));
    out += (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += (char)(0xE0 | (cp >> 12));
    out += (char)(0x80 | ((cp >> 6) & 0x3F));
    out += (char)(0x80 | (cp & 0x3F));
  } else {
    out += (char)(0xF0 | (cp >> 18));
    out += (char)(0x80 | ((cp >> 12) & 0x3F));
    out += (char)(0x80 | ((cp >> 6) & 0x3F));
    out += (char)(0x80 | (cp & 0x3F));
  }
}

// Length in bytes of the JavaScript whitespace character at s[i], 0 when there is none.
inline size_t space_len(std::string_view s, size_t i) {
  if (i >= s.size()) return 0;
  size_t n;
  const uint32_t cp = decode_at(s, i, &n);
  return js_space(cp) ? n : 0;
}

// The string's characters as UTF-8 pieces, one per code point (JavaScript's Array.from(string)).
inline std::vector<std::string> code_points(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t n;
    decode_at(s, i, &n);
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

inline std::string trim_start(std::string_view s) {
  size_t i = 0, n;
  while ((n = space_len(s, i)) > 0) i += n;
  return std::string(s.substr(i));
}

inline std::string trim_end(std::string_view s) {
  size_t end = s.size();
  // Walk back to the start of each code point (continuation bytes are 10xxxxxx).
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && ((unsigned char)s[start] & 0xC0) == 0x80 && end - start < 4) --start;
    size_t n;
    const uint32_t cp = decode_at(s, start, &n);
    if (start + n != end || !js_space(cp)) break;
    end = start;
  }
  return std::string(s.substr(0, end));
}

inline std::string trim(std::string_view s) { return trim_end(trim_start(s)); }

}  // namespace pocket::jinja
