// llama2.c checkpoint and tokenizer.bin readers on arbitrary bytes (the first byte picks which).
#include "format/llama2c_reader.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  pocket::fuzz::MemFile f(data + 1, size - 1);
  if (!f.ok()) return 0;
  if (data[0] & 1)
    (void)pocket::read_llama2c_checkpoint(f.path());
  else
    (void)pocket::read_llama2c_tokenizer(f.path(), 1 + data[0] % 600);
  return 0;
}
