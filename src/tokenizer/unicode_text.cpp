#include "tokenizer/unicode_text.h"

#include <utf8proc.h>

#include <cstdlib>

namespace pocket {

std::string utf8_replace_invalid(const std::string& text) {
  static const char kReplacement[] = "\xef\xbf\xbd";
  std::string out;
  const size_t n = text.size();
  size_t i = 0, copied = 0;  // text[copied, i) is valid and not yet in out
  bool changed = false;
  auto replace = [&](size_t from, size_t to) {  // text[from, to) is one maximal invalid subpart
    if (!changed) {
      out.reserve(n + 16);
      changed = true;
    }
    out.append(text, copied, from - copied);
    out.append(kReplacement, 3);
    copied = to;
  };
  while (i < n) {
    const unsigned char c = (unsigned char)text[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      replace(i, i + 1);
      ++i;
      continue;
    }
    size_t k = 1;
    for (; k <= need && i + k < n; ++k) {
      const unsigned char cc = (unsigned char)text[i + k];
      if (cc < lo || cc > hi) break;
      lo = 0x80;
      hi = 0xbf;
    }
    if (k > need) {
      i += need + 1;
      continue;
    }
    replace(i, i + k);  // the lead and the continuation bytes that fitted; the next byte starts afresh
    i += k;
  }
  if (!changed) return text;
  out.append(text, copied, std::string::npos);
  return out;
}

std::string utf8_nfc(const std::string& text) {
  bool ascii = true;
  for (char c : text) ascii = ascii && (unsigned char)c < 0x80;
  if (ascii) return text;
  utf8proc_uint8_t* res = nullptr;
  const utf8proc_ssize_t len = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), (utf8proc_ssize_t)text.size(), &res,
                                            (utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (len < 0) return text;  // invalid UTF-8 cannot reach here (utf8_replace_invalid runs first)
  std::string out(reinterpret_cast<const char*>(res), (size_t)len);
  std::free(res);
  return out;
}

}  // namespace pocket
