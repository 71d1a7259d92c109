// Merge-rank BPE over the characters of one word, shared by byte-level BPE and merge-based
// SentencePiece vocabularies (HF tokenizer.json with U+2581 spaces).
#pragma once

#include <string>
#include <vector>

#include "tokenizer/vocab.h"

namespace pocket {

// Applies the vocabulary's merges (lowest rank first, leftmost on ties); returns the final pieces.
std::vector<std::string> bpe_merge(const Vocab& v, const std::string& word);

}  // namespace pocket
