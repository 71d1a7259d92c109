#include "tokenizer/bpe_bytes.h"

#include <array>
#include <unordered_map>

#include "tokenizer/utf8.h"

namespace pocket {
namespace {

struct ByteMap {
  std::array<std::string, 256> enc;
  std::unordered_map<uint32_t, uint8_t> dec;
  ByteMap() {
    // Printable Latin-1 bytes map to themselves; the rest to 256, 257, ... in byte order.
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
      const uint32_t cp = printable ? b : next++;
      enc[b] = utf8_encode(cp);
      dec[cp] = (uint8_t)b;
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

}  // namespace

std::string bpe_bytes_encode(const std::string& raw) {
  const ByteMap& m = byte_map();
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) out += m.enc[c];
  return out;
}

std::string bpe_bytes_decode(const std::string& encoded) {
  const ByteMap& m = byte_map();
  std::string out;
  for (size_t i = 0; i < encoded.size();) {
    const size_t start = i;
    const uint32_t cp = utf8_next(encoded, &i);
    auto it = m.dec.find(cp);
    if (it != m.dec.end())
      out += (char)it->second;
    else
      out.append(encoded, start, i - start);
  }
  return out;
}

}  // namespace pocket
