// pocket convert: llama2.c checkpoints and Hugging Face directories (Llama, Mistral, Qwen2/3, Gemma 2/3, Phi-3, SmolLM3) to GGUF.
#include <sys/stat.h>

#include <cstdio>

#include "commands.h"
#include "convert/convert.h"

namespace pocket::cli {
namespace {

struct ConvertArgs {
  std::string input;
  std::string tokenizer;
  std::string output;
  ConvertOptions opts;
};

int convert(const ConvertArgs& a) {
  struct stat st {};
  if (::stat(a.input.c_str(), &st) != 0) return fail(a.input + ": no such file or directory");
  Status s;
  if (S_ISDIR(st.st_mode)) {
    s = convert_hf(a.input, a.output, a.opts);
  } else {
    if (a.tokenizer.empty()) return fail("--tokenizer is required for a llama2.c checkpoint (its tokenizer.bin)");
    s = convert_llama2c(a.input, a.tokenizer, a.output, a.opts);
  }
  if (!s) return fail(s);
  std::fprintf(stderr, "wrote %s\n", a.output.c_str());
  return 0;
}

}  // namespace

Runner register_convert(CLI::App& app) {
  auto a = std::make_shared<ConvertArgs>();
  CLI::App* sub = app.add_subcommand(
      "convert",
      "convert a llama2.c checkpoint or a Hugging Face directory (llama, mistral, qwen2, qwen3, gemma2, gemma3_text, phi3, smollm3) to GGUF");
  sub->add_option("input", a->input, "llama2.c .bin checkpoint, or HF directory (config.json, model.safetensors or its shards, tokenizer.json)")
      ->required();
  sub->add_option("-o,--output", a->output, "output GGUF path")->required();
  sub->add_option("--tokenizer", a->tokenizer, "llama2.c tokenizer.bin (for .bin checkpoints)");
  sub->add_option("--outtype", a->opts.outtype, "weight type: auto (keep), f32, f16, bf16, q8_0, q4_0, q4_1");
  sub->add_flag("--force", a->opts.force, "overwrite an existing output file");
  return [a] { return convert(*a); };
}

}  // namespace pocket::cli
