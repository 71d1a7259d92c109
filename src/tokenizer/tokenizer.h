// Text <-> token ids for SentencePiece-style (SPM) and byte-level BPE vocabularies.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/vocab.h"

namespace pocket {

class PreTokenizer;

class Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> create(Vocab vocab);
  ~Tokenizer();

  // add_special: BOS/EOS as the vocabulary asks. parse_special: control-token texts in `text`
  // (e.g. "<s>") become those tokens; user-defined tokens are always matched. Token texts are found
  // leftmost first, the longest at a position winning (as Hugging Face tokenizers match added tokens).
  // Invalid UTF-8 is replaced by U+FFFD first; NFC applies between token texts where the vocabulary asks.
  std::vector<int32_t> encode(const std::string& text, bool add_special, bool parse_special) const;
  // Bytes of one token. Control tokens give "" unless `special`.
  std::string token_to_piece(int32_t id, bool special = false) const;
  // Concatenated pieces; the space SentencePiece adds in front of the first word after BOS (or at
  // the start) is removed, as llama.cpp and llama2.c do.
  std::string decode(const std::vector<int32_t>& ids, bool special = false) const;

  const Vocab& vocab() const { return vocab_; }

 private:
  explicit Tokenizer(Vocab v);
  void encode_fragment(const std::string& text, bool first_or_after_special, std::vector<int32_t>* out) const;
  void spm_encode(const std::string& text, std::vector<int32_t>* out) const;
  void bpe_encode(const std::string& text, std::vector<int32_t>* out) const;

  // Texts matched as whole tokens: by text, and the distinct lengths (longest first) per first byte.
  struct TokenTexts {
    std::unordered_map<std::string, int32_t> id;
    std::vector<size_t> lengths[256];
    void add(const std::string& text, int32_t token);
  };
  Vocab vocab_;
  TokenTexts all_texts_;   // control, unknown and user-defined tokens
  TokenTexts user_texts_;  // user-defined only (parse_special off)
  std::unique_ptr<PreTokenizer> pre_;
};

// Streaming detokenizer: feed ids one at a time, get the bytes that became printable. Holds back
// incomplete UTF-8 sequences so a multi-byte character split over byte tokens prints whole.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok) : tok_(tok) {}
  // prev: the token before id (or -1 at the start).
  std::string push(int32_t prev, int32_t id);
  std::string flush();

 private:
  const Tokenizer& tok_;
  std::string pending_;
};

}  // namespace pocket
