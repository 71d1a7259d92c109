// pocket synth: random-weight GGUF models in the shapes of real ones (speed measurements only).
#include <cstdio>

#include "commands.h"
#include "convert/synth.h"

namespace pocket::cli {

Runner register_synth(CLI::App& app) {
  auto shape = std::make_shared<std::string>();
  auto type = std::make_shared<std::string>("q4_0");
  auto out = std::make_shared<std::string>();
  auto opts = std::make_shared<SynthOptions>();
  auto list = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand("synth", "write a random-weight model in a real model's shape (for speed tests only)");
  sub->add_option("--shape", *shape, "model shape (--list)");
  sub->add_option("--type", *type, "weight type: f32, f16, bf16, q8_0, q4_0, q4_1 (K-quant mixes: pocket quantize the f16 file)");
  sub->add_option("-o,--output", *out, "output GGUF path");
  sub->add_option("--seed", opts->seed, "random seed");
  sub->add_option("--layers", opts->n_layer_override, "fewer layers than the real model (quick tests)")->check(CLI::Range(0, 1000));
  sub->add_option("--window", opts->window_override, "a shorter sliding window than the real model's (tests; shapes with a window only)")
      ->check(CLI::Range(0, 1 << 24));
  sub->add_flag("--force", opts->force, "overwrite an existing output");
  sub->add_flag("--list", *list, "list the known shapes");
  return [=] {
    if (*list) {
      for (const ModelShape& s : known_shapes())
        std::printf("%-16s %-7s vocab %6lld, width %4lld, layers %2lld, heads %2lld/%2lld, ffn %5lld  (%s)\n", s.name, s.arch, (long long)s.n_vocab,
                    (long long)s.n_embd, (long long)s.n_layer, (long long)s.n_head, (long long)s.n_head_kv, (long long)s.n_ff, s.source);
      return 0;
    }
    const ModelShape* s = find_shape(*shape);
    if (s == nullptr) return fail("--shape: unknown shape '" + *shape + "' (pocket synth --list)");
    if (out->empty()) return fail("-o/--output is required");
    auto t = type_from_name(*type);
    if (!t) return fail("--type: unknown type '" + *type + "'");
    opts->type = *t;
    const Status st = write_synthetic_model(*s, *out, *opts);
    if (!st) return fail(st);
    std::fprintf(stderr, "wrote %s (random weights: for speed measurements only)\n", out->c_str());
    return 0;
  };
}

}  // namespace pocket::cli
