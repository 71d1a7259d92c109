// Hugging Face directory reader: a fuzzed config.json beside TinyStories-656K's real safetensors,
// tokenizer.json and tokenizer_config.json, converted end to end (hyperparameters cross-checked against the
// tensors, vocabulary, special ids). Output goes to a temp file in /dev/shm that is removed.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "convert/convert.h"
#include "fuzz_support.h"

namespace {

std::string make_dir() {
  const std::string dir = "/dev/shm/pocket-fuzz-hf-" + std::to_string(getpid());
  mkdir(dir.c_str(), 0700);
  const std::string src = pocket::fuzz::shared_path("models/TinyStories-656K");
  for (const char* f : {"model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    const std::string dst = dir + "/" + f;
    unlink(dst.c_str());
    if (symlink((src + "/" + f).c_str(), dst.c_str()) != 0) std::perror(dst.c_str());
  }
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = make_dir();
  {
    std::ofstream cfg(dir + "/config.json", std::ios::binary | std::ios::trunc);
    cfg.write(reinterpret_cast<const char*>(data), (std::streamsize)size);
  }
  const std::string out = dir + "/out.gguf";
  pocket::ConvertOptions o;
  o.force = true;
  (void)pocket::convert_hf(dir, out, o);
  unlink(out.c_str());
  return 0;
}
