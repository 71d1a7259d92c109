// GPT-2's reversible byte <-> printable code point map used by byte-level BPE vocabularies.
#pragma once

#include <string>

namespace pocket {

std::string bpe_bytes_encode(const std::string& raw);      // every byte -> its code point, as UTF-8
std::string bpe_bytes_decode(const std::string& encoded);  // inverse; unmapped code points kept as UTF-8

}  // namespace pocket
