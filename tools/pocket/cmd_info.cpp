// pocket info: architecture, hyperparameters, metadata and the tensor table of a GGUF file.
#include <cstdio>
#include <map>

#include "commands.h"
#include "format/gguf_reader.h"
#include "model/model_config.h"

namespace pocket::cli {
namespace {

int info(const std::string& path, bool all_metadata) {
  auto fr = GgufFile::open(path);
  if (!fr) return fail(fr.status());
  const GgufFile& f = *fr.value();
  std::printf("file: %s\nGGUF version %u, %zu metadata keys, %zu tensors, alignment %zu, data at byte %zu, %zu bytes\n", path.c_str(), f.version(),
              f.metadata().size(), f.tensors().size(), f.alignment(), f.data_offset(), f.file_size());
  auto cr = read_model_config(f);
  if (cr) {
    const ModelConfig& c = cr.value();
    std::printf("\narchitecture: %s%s%s\n", c.arch.c_str(), c.name.empty() ? "" : "  name: ", c.name.c_str());
    std::printf("  n_vocab %lld, n_embd %lld, n_layer %lld, n_head %lld, n_head_kv %lld, head_dim %lld, n_ff %lld\n", (long long)c.n_vocab,
                (long long)c.n_embd, (long long)c.n_layer, (long long)c.n_head, (long long)c.n_head_kv, (long long)c.head_dim, (long long)c.n_ff);
    std::printf("  context %lld, rope: %s, dim %lld, freq_base %g, rms_eps %g\n", (long long)c.n_ctx_train,
                c.rope_layout == RopeLayout::kNormal ? "normal (adjacent pairs)" : "neox (split halves)", (long long)c.rope_dim, c.rope_freq_base,
                c.rms_eps);
  } else {
    std::printf("\nnot a runnable model: %s\n", flag_message(cr.status()).c_str());
  }
  std::printf("\nmetadata:\n");
  for (const auto& [k, v] : f.metadata()) {
    if (!all_metadata && v.type == GgufType::ARRAY && v.array_size() > 16) {
      std::printf("  %-44s [%s x %zu]\n", k.c_str(), gguf_type_name(v.elem_type), v.array_size());
      continue;
    }
    std::printf("  %-44s %s\n", k.c_str(), gguf_value_to_string(v).c_str());
  }
  std::printf("\ntensors:\n");
  std::map<std::string, std::pair<size_t, size_t>> by_type;  // type -> (count, bytes)
  size_t total = 0;
  int64_t params = 0;
  for (const TensorView& t : f.tensors()) {
    std::printf("  %-32s %-6s %-22s %12zu bytes\n", t.name.c_str(), traits(t.type).name, t.shape_string().c_str(), t.nbytes);
    auto& e = by_type[traits(t.type).name];
    e.first++;
    e.second += t.nbytes;
    total += t.nbytes;
    params += t.n_elements();
  }
  std::printf("\nsummary: %lld parameters, %.2f MiB of tensor data (%.2f bits per weight)\n", (long long)params, (double)total / (1 << 20),
              params ? 8.0 * (double)total / (double)params : 0.0);
  for (const auto& [t, e] : by_type) std::printf("  %-6s %4zu tensors %10.2f MiB\n", t.c_str(), e.first, (double)e.second / (1 << 20));
  return 0;
}

}  // namespace

Runner register_info(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand("info", "print architecture, hyperparameters, metadata and tensors of a GGUF file");
  sub->add_option("model", *path, "GGUF file")->required();
  sub->add_flag("--all", *all, "print long arrays in full");
  return [path, all] { return info(*path, *all); };
}

}  // namespace pocket::cli
