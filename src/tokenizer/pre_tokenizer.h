// BPE pre-tokenizer: splits text into words with the regex sequence of a model family (PCRE2, UTF mode).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pocket/status.h"

namespace pocket {

class PreTokenizer {
 public:
  // family: GGUF tokenizer.ggml.pre ("gpt-2", "llama-bpe", "qwen2", "falcon", "starcoder", ...).
  static Result<std::unique_ptr<PreTokenizer>> create(const std::string& family);
  ~PreTokenizer();
  // Splits text; every byte of text lands in exactly one word.
  std::vector<std::string> split(const std::string& text) const;
  bool ignore_merges() const { return ignore_merges_; }

 private:
  PreTokenizer() = default;
  struct Regex;
  std::vector<std::unique_ptr<Regex>> regexes_;
  bool ignore_merges_ = false;
};

}  // namespace pocket
