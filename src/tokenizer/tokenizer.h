// Text <-> token ids for SentencePiece-style (SPM) and byte-level BPE vocabularies.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/vocab.h"

namespace pocket {

class PreTokenizer;

class Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> create(Vocab vocab);
  ~Tokenizer();

  // add_special: BOS/EOS as the vocabulary asks. parse_special: control-token texts in `text`
  // (e.g. "<s>") become those tokens; user-defined tokens are always matched.
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

  Vocab vocab_;
  std::vector<int32_t> special_ids_;  // control and user-defined tokens, longest text first
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
