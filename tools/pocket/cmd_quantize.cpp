// pocket quantize: round-to-nearest re-encoding of a GGUF model with per-tensor overrides.
#include <cstdio>

#include "commands.h"
#include "quant/quantize_model.h"

namespace pocket::cli {

Runner register_quantize(CLI::App& app) {
  struct Args {
    std::string in, out, type = "q8_0", tensor_types;
    bool force = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* sub = app.add_subcommand("quantize", "re-encode a model's weights (q8_0, q4_0, q4_1, f16, bf16, f32)");
  sub->add_option("input", a->in, "input GGUF")->required()->check(CLI::ExistingFile);
  sub->add_option("output", a->out, "output GGUF")->required();
  sub->add_option("--type", a->type, "weight type for 2-D tensors");
  sub->add_option("--tensor-type", a->tensor_types, "overrides NAME=TYPE[,NAME=TYPE] by name substring, e.g. output=q8_0");
  sub->add_flag("--force", a->force, "overwrite an existing output");
  return [a] {
    QuantizeOptions o;
    auto t = type_from_name(a->type);
    if (!t) return fail("--type: unknown type '" + a->type + "'");
    o.type = *t;
    if (!a->tensor_types.empty()) {
      auto ov = parse_tensor_types(a->tensor_types);
      if (!ov) return fail(ov.status().message());
      o.overrides = ov.value();
    }
    o.force = a->force;
    o.progress = [](size_t done, size_t total, const std::string& name) {
      const int width = 30, filled = (int)(width * done / (total ? total : 1));
      std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu %-32.32s", filled, "##############################", width - filled, "", done, total, name.c_str());
    };
    auto r = quantize_model(a->in, a->out, o);
    std::fprintf(stderr, "\n");
    if (!r) return fail(r.status().message());
    std::printf("%s: %.2f MiB -> %.2f MiB, %.2f bits per weight\n", a->out.c_str(), (double)r.value().bytes_in / (1 << 20),
                (double)r.value().bytes_out / (1 << 20), r.value().bits_per_weight());
    return 0;
  };
}

}  // namespace pocket::cli
