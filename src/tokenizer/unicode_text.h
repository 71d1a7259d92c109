// Text clean-up every tokenizer applies before it splits: invalid UTF-8 replaced as decoders do, and
// Unicode NFC for the vocabularies whose tokenizer.json normalizes.
#pragma once

#include <string>

namespace pocket {

// Replaces each maximal invalid subpart of a UTF-8 sequence with U+FFFD (the Unicode / WHATWG
// "substitution of maximal subparts": what Python's errors="replace", TextDecoder and browsers do).
// Overlong forms, surrogates and code points above U+10FFFF are invalid. Valid text comes back as is.
std::string utf8_replace_invalid(const std::string& text);

// Canonical composition (NFC) of valid UTF-8 (utf8proc).
std::string utf8_nfc(const std::string& text);

}  // namespace pocket
