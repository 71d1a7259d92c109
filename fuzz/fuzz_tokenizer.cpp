// Both tokenizers (SentencePiece: stories260K; byte-level BPE with a PCRE2 pre-tokenizer: GPT-2's
// vocabulary) encode arbitrary bytes, invalid UTF-8 included, and decode arbitrary id sequences.
// Encoding then decoding must give the text back for valid UTF-8 without control-token texts.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "format/gguf_reader.h"
#include "fuzz_support.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace {

std::unique_ptr<pocket::Tokenizer> load(const std::string& rel) {
  auto f = pocket::GgufFile::open(pocket::fuzz::shared_path(rel));
  if (!f.is_ok()) {
    std::fprintf(stderr, "fuzz_tokenizer: %s\n", f.status().message().c_str());
    std::abort();
  }
  auto v = pocket::read_vocab(*f.value());
  if (!v.is_ok()) std::abort();
  auto t = pocket::Tokenizer::create(std::move(v.value()));
  if (!t.is_ok()) std::abort();
  return std::move(t.value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<pocket::Tokenizer> spm = load("golden/stories260K-f32.llamacpp.gguf");
  static const std::unique_ptr<pocket::Tokenizer> bpe = load("vocab/ggml-vocab-gpt-2.gguf");
  if (size > 4096) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const pocket::Tokenizer* t : {spm.get(), bpe.get()}) {
    const auto ids = t->encode(text, false, size % 2 == 0);
    (void)t->decode(ids, true);
    // Arbitrary ids (in and out of range) must decode or be skipped, never crash.
    std::vector<int32_t> raw;
    for (size_t i = 0; i + 4 <= size && raw.size() < 64; i += 4) {
      int32_t id;
      std::memcpy(&id, data + i, 4);
      raw.push_back(id);
    }
    (void)t->decode(raw, size % 3 == 0);
  }
  return 0;
}
