// pocket quantize: re-encode a GGUF model (RTN any group size, GPTQ, AWQ, pruning, mixed precision).
#include <cstdio>

#include "commands.h"
#include "engine/engine.h"
#include "quantize/quantize_model.h"

namespace pocket::cli {

Runner register_quantize(CLI::App& app) {
  struct Args {
    std::string in, out, type = "q8_0", tensor_types, method = "rtn", group = "32", calib, prune = "none", pattern = "unstructured";
    std::string high_type = "q8_0";
    bool force = false, act_order = false, no_clip = false;
    QuantizeOptions o;
  };
  auto a = std::make_shared<Args>();
  CLI::App* sub = app.add_subcommand("quantize", "re-encode a model's weights: q8_0/q4_0/q4_1 (any group size), GPTQ, AWQ, pruning, mixed precision");
  sub->add_option("input", a->in, "input GGUF")->required()->check(CLI::ExistingFile);
  sub->add_option("output", a->out, "output GGUF")->required();
  sub->add_option("--type", a->type,
                  "weight type for 2-D tensors: q8_0, q6_k, q5_k_m, q5_k_s, q5_1, q5_0, q4_k_m, q4_k_s, q4_1, q4_0, q5_k, q4_k, f16, bf16, f32 (the "
                  "k-quant names are llama-quantize's mixes)");
  sub->add_option("--tensor-type", a->tensor_types, "overrides NAME=TYPE[,NAME=TYPE] by name substring, e.g. output=q8_0");
  sub->add_option("--group", a->group, "elements per scale: 32 (GGUF blocks), 64, 128, ... or 'channel' (one scale per output row)");
  sub->add_option("--method", a->method, "rtn (round to nearest), gptq, awq or awq+gptq")->check(CLI::IsMember({"rtn", "gptq", "awq", "awq+gptq"}));
  sub->add_option("--calib", a->calib, "calibration text (GPTQ, AWQ, Wanda, --target-bpw); never the evaluation text")->check(CLI::ExistingFile);
  sub->add_option("--calib-tokens", a->o.calib.max_tokens, "calibration tokens to use")->check(CLI::Range(16, 1 << 24));
  sub->add_option("--calib-ctx", a->o.calib.n_ctx, "tokens per calibration chunk")->check(CLI::Range(8, 1 << 16));
  sub->add_flag("--act-order", a->act_order, "GPTQ: quantize columns by decreasing Hessian diagonal (static groups)");
  sub->add_option("--damp", a->o.gptq.damp, "GPTQ: damping as a fraction of the mean Hessian diagonal")->check(CLI::Range(0.0, 10.0));
  sub->add_option("--awq-grid", a->o.awq.grid, "AWQ: grid points for the scale exponent alpha")->check(CLI::Range(1, 1000));
  sub->add_flag("--no-clip", a->no_clip, "AWQ: skip the clipping search");
  sub->add_option("--prune", a->prune, "none, magnitude or wanda")->check(CLI::IsMember({"none", "magnitude", "wanda"}));
  sub->add_option("--pattern", a->pattern, "pruning pattern: unstructured or 2:4")->check(CLI::IsMember({"unstructured", "2:4"}));
  sub->add_option("--sparsity", a->o.prune.sparsity, "unstructured pruning: fraction of each row zeroed")->check(CLI::Range(0.0, 0.99));
  sub->add_option("--target-bpw", a->o.target_bpw, "automatic mixed precision: bits per weight to meet (measured sensitivity)")
      ->check(CLI::Range(0.0, 32.0));
  sub->add_option("--high-type", a->high_type, "automatic mixed precision: type for the most sensitive tensors");
  sub->add_option("-t,--threads", a->o.n_threads, "threads")->check(CLI::Range(1, 256));
  sub->add_flag("--force", a->force, "overwrite an existing output");
  return [a] {
    QuantizeOptions o = a->o;
    auto t = parse_quant_type(a->type);
    if (!t) return fail("--type: " + t.status().message().substr(6));  // the message after "type: "
    o.type = t.value().type;
    o.preset = t.value().preset;
    auto h = type_from_name(a->high_type);
    if (!h) return fail("--high-type: unknown type '" + a->high_type + "'");
    o.high_type = *h;
    if (!a->tensor_types.empty()) {
      auto ov = parse_tensor_types(a->tensor_types);
      if (!ov) return fail(ov.status());
      o.overrides = ov.value();
    }
    if (a->group == "channel") {
      o.group = 0;
    } else {
      try {
        size_t used = 0;
        o.group = std::stoll(a->group, &used);
        if (used != a->group.size() || o.group <= 0) throw std::invalid_argument("group");
      } catch (const std::exception&) { return fail("--group: '" + a->group + "' is not a positive number or 'channel'"); }
    }
    o.method = a->method == "gptq"       ? QuantMethod::kGptq
               : a->method == "awq"      ? QuantMethod::kAwq
               : a->method == "awq+gptq" ? QuantMethod::kAwqGptq
                                         : QuantMethod::kRtn;
    o.gptq.act_order = a->act_order;
    o.awq.clip = !a->no_clip;
    o.prune.method = a->prune == "magnitude" ? PruneMethod::kMagnitude : a->prune == "wanda" ? PruneMethod::kWanda : PruneMethod::kNone;
    o.prune.pattern = a->pattern == "2:4" ? PrunePattern::k2of4 : PrunePattern::kUnstructured;
    if (!a->calib.empty()) {
      auto text = read_text_file(a->calib);
      if (!text) return fail(text.status());
      o.calib_text = text.value();
    }
    o.force = a->force;
    o.progress = [](size_t done, size_t total, const std::string& name) {
      const int width = 30, filled = (int)(width * done / (total ? total : 1));
      std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu %-32.32s", filled, "##############################", width - filled, "", done, total, name.c_str());
    };
    o.log = [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); };
    auto r = quantize_model(a->in, a->out, o);
    std::fprintf(stderr, "\n");
    if (!r) return fail(r.status());
    const QuantizeReport& rep = r.value();
    std::printf("%s: %.2f MiB -> %.2f MiB, %.3f bits per weight in the file, %.3f in a native layout of the group size\n", a->out.c_str(),
                (double)rep.bytes_in / (1 << 20), (double)rep.bytes_out / (1 << 20), rep.bits_per_weight(), rep.native_bits_per_weight());
    if (rep.calib_tokens) std::printf("calibration: %lld tokens\n", (long long)rep.calib_tokens);
    if (rep.awq.sites)
      std::printf("AWQ: %d sites, layer output error %.4g (RTN) -> %.4g (scaled), %.1f %% lower\n", rep.awq.sites, rep.awq.err_rtn, rep.awq.err_awq,
                  rep.awq.err_rtn > 0 ? 100.0 * (1.0 - rep.awq.err_awq / rep.awq.err_rtn) : 0.0);
    if (rep.prune.params)
      std::printf("pruning: %lld of %lld block weights zeroed (%.1f %%)\n", (long long)rep.prune.zeroed, (long long)rep.prune.params,
                  100.0 * (double)rep.prune.zeroed / (double)rep.prune.params);
    if (!rep.chosen.empty()) {
      int high = 0;
      for (const auto& [name, type] : rep.chosen) high += type == o.high_type;
      std::printf("mixed precision: %d of %zu tensors in %s:", high, rep.chosen.size(), traits(o.high_type).name);
      for (const auto& [name, type] : rep.chosen)
        if (type == o.high_type) std::printf(" %s", name.c_str());
      std::printf("\n");
    }
    return 0;
  };
}

}  // namespace pocket::cli
