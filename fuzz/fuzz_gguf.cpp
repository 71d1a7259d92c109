// GGUF reader: any bytes must give a parsed file or an error, never a crash or an out-of-bounds read.
// A file that parses is taken further: model config, vocabulary, tokenizer.
#include "format/gguf_reader.h"
#include "model/model_config.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = pocket::GgufFile::parse(data, size, "fuzz.gguf");
  if (!f.is_ok()) return 0;
  (void)pocket::read_model_config(*f.value());
  auto v = pocket::read_vocab(*f.value());
  if (v.is_ok()) (void)pocket::Tokenizer::create(std::move(v.value()));
  return 0;
}
