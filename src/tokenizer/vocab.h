// Vocabulary read from GGUF tokenizer.ggml.* metadata: pieces, scores, token types, merges,
// special ids and the flags that steer tokenization.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "format/gguf_reader.h"
#include "pocket/status.h"

namespace pocket {

enum class TokenizerKind { kSpm, kBpe };

// GGUF tokenizer.ggml.token_type values.
enum class TokenAttr : int32_t { kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct Vocab {
  TokenizerKind kind = TokenizerKind::kSpm;
  std::string pre;                  // tokenizer.ggml.pre (BPE pre-tokenizer family)
  std::vector<std::string> tokens;  // piece text as stored (SPM: U+2581 for space; BPE: byte-encoded)
  std::vector<float> scores;        // SPM merge scores (empty for BPE)
  std::vector<TokenAttr> attrs;
  std::unordered_map<std::string, int32_t> token_to_id;
  std::unordered_map<std::string, int32_t> merge_rank;  // "left right" -> rank (BPE)
  int32_t bos = -1, eos = -1, eot = -1, unk = -1, pad = -1;
  bool add_bos = true;
  bool add_eos = false;
  bool add_space_prefix = true;
  bool nfc = false;          // NFC between token texts: the Qwen2 family's tokenizer.json normalizer
  int32_t byte_tokens[256];  // SPM: id of <0xXX>, -1 if absent

  int32_t n_tokens() const { return (int32_t)tokens.size(); }
  int32_t find(const std::string& piece) const {
    auto it = token_to_id.find(piece);
    return it == token_to_id.end() ? -1 : it->second;
  }
  bool is_control(int32_t id) const { return attrs[(size_t)id] == TokenAttr::kControl; }
  // End of generation: EOS or EOT.
  bool is_eog(int32_t id) const { return id >= 0 && (id == eos || id == eot); }
};

Result<Vocab> read_vocab(const GgufFile& f);

}  // namespace pocket
