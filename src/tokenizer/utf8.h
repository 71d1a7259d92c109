// Small UTF-8 helpers shared by the tokenizers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pocket {

// Length of the UTF-8 sequence a lead byte announces (1 for continuation/invalid bytes).
inline size_t utf8_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) == 0xc0) return 2;
  if ((lead & 0xf0) == 0xe0) return 3;
  if ((lead & 0xf8) == 0xf0) return 4;
  return 1;
}

// Length of the character at s[off]: the announced length if the continuation bytes are really
// there, else 1 (an invalid byte stands alone, so it cannot swallow a following valid character).
inline size_t utf8_char_len(const char* s, size_t size, size_t off) {
  const size_t n = utf8_len((unsigned char)s[off]);
  if (n == 1 || off + n > size) return 1;
  for (size_t k = 1; k < n; ++k) {
    if (((unsigned char)s[off + k] & 0xc0) != 0x80) return 1;
  }
  return n;
}

inline std::string utf8_encode(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += (char)cp;
  } else if (cp < 0x800) {
    s += (char)(0xc0 | (cp >> 6));
    s += (char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    s += (char)(0xe0 | (cp >> 12));
    s += (char)(0x80 | ((cp >> 6) & 0x3f));
    s += (char)(0x80 | (cp & 0x3f));
  } else {
    s += (char)(0xf0 | (cp >> 18));
    s += (char)(0x80 | ((cp >> 12) & 0x3f));
    s += (char)(0x80 | ((cp >> 6) & 0x3f));
    s += (char)(0x80 | (cp & 0x3f));
  }
  return s;
}

// Decodes one code point at s[i] (advancing i); invalid bytes decode as themselves (0x80..0xff).
inline uint32_t utf8_next(const std::string& s, size_t* i) {
  const unsigned char c = (unsigned char)s[*i];
  const size_t n = utf8_len(c);
  if (n == 1 || *i + n > s.size()) {
    ++*i;
    return c;
  }
  uint32_t cp = n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) {
    const unsigned char cc = (unsigned char)s[*i + k];
    if ((cc & 0xc0) != 0x80) {
      ++*i;
      return c;
    }
    cp = (cp << 6) | (cc & 0x3f);
  }
  *i += n;
  return cp;
}

}  // namespace pocket
