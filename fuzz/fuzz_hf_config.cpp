// Hugging Face directory reader: one of config.json, tokenizer.json or tokenizer_config.json is fuzzed
// (the first input byte picks which), the other two are TinyStories-656K's real files beside its real
// safetensors, and the directory is converted end to end (hyperparameters cross-checked against the
// tensors, vocabulary, merges, pre-tokenizer, special ids). Output goes to /dev/shm and is removed.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "convert/convert.h"
#include "fuzz_support.h"

namespace {

constexpr const char* kFuzzed[] = {"config.json", "tokenizer.json", "tokenizer_config.json"};

std::string source_dir() { return pocket::fuzz::shared_path("models/TinyStories-656K"); }

void link_real(const std::string& dir, const char* f) {
  const std::string dst = dir + "/" + f;
  unlink(dst.c_str());
  if (symlink((source_dir() + "/" + f).c_str(), dst.c_str()) != 0) std::perror(dst.c_str());
}

std::string make_dir() {
  const std::string dir = "/dev/shm/pocket-fuzz-hf-" + std::to_string(getpid());
  mkdir(dir.c_str(), 0700);
  for (const char* f : {"model.safetensors", "special_tokens_map.json", "config.json", "tokenizer.json", "tokenizer_config.json"}) link_real(dir, f);
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = make_dir();
  if (size == 0) return 0;
  const char* fuzzed = kFuzzed[data[0] % 3];
  const std::string path = dir + "/" + fuzzed;
  unlink(path.c_str());
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data + 1), (std::streamsize)(size - 1));
  }
  const std::string out = dir + "/out.gguf";
  pocket::ConvertOptions o;
  o.force = true;
  (void)pocket::convert_hf(dir, out, o);
  unlink(out.c_str());
  link_real(dir, fuzzed);
  return 0;
}
