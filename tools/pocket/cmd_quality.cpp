// pocket quality: the quantization quality matrix of one model (Markdown, JSON, SVG plot).
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "commands.h"
#include "core/mapped_file.h"
#include "eval/quality.h"

namespace pocket::cli {

Runner register_quality(CLI::App& app) {
  struct Args {
    std::string model, calib, out_dir = "quality";
    std::vector<std::string> evals;
    std::vector<int> chunks;
    std::string only, from_json;
    bool keep = false;
    QualityOptions o;
  };
  auto a = std::make_shared<Args>();
  CLI::App* sub = app.add_subcommand("quality", "quantize a model every way we can and measure each against it (table, JSON, plot)");
  auto* model = sub->add_option("-m,--model", a->model, "unquantized GGUF (F32/F16)")->check(CLI::ExistingFile);
  auto* calib = sub->add_option("--calib", a->calib, "calibration text (must not overlap the evaluation texts)")->check(CLI::ExistingFile);
  auto* evals = sub->add_option("-f,--eval", a->evals, "evaluation text(s)")->check(CLI::ExistingFile);
  auto* from =
      sub->add_option("--from-json", a->from_json, "re-render quality.md/svg from a saved quality.json (no measuring)")->check(CLI::ExistingFile);
  model->excludes(from);
  for (CLI::Option* o : {model, calib, evals}) o->needs(model)->needs(calib)->needs(evals);
  sub->callback([model, from] {
    if (model->count() == 0 && from->count() == 0) throw CLI::RequiredError("--model (or --from-json)");
  });
  sub->add_option("--chunks", a->chunks, "chunks per evaluation text (-1: all), one value per --eval");
  sub->add_option("-c,--ctx", a->o.engine.n_ctx, "chunk size in tokens")->check(CLI::Range(8, 1 << 16));
  sub->add_option("-t,--threads", a->o.engine.n_threads, "threads")->check(CLI::Range(1, 256));
  sub->add_option("-o,--out", a->out_dir, "output directory for quality.md, quality.json, quality.svg");
  sub->add_option("--only", a->only, "comma-separated row numbers (1-based) of the matrix to run");
  sub->add_flag("--keep", a->keep, "keep the quantized files in the output directory");
  return [a] {
    if (!a->from_json.empty()) {
      auto text = read_text_file(a->from_json);
      if (!text) return fail(text.status());
      QualityOptions o;
      auto rows = quality_from_json(text.value(), &o);
      if (!rows) return fail(a->from_json + ": " + flag_message(rows.status()));
      std::error_code ec;
      std::filesystem::create_directories(a->out_dir, ec);
      std::ofstream(a->out_dir + "/quality.md") << quality_markdown(rows.value(), o);
      std::ofstream(a->out_dir + "/quality.svg") << quality_svg(rows.value(), o);
      std::printf("wrote %s/quality.md, quality.svg from %s\n", a->out_dir.c_str(), a->from_json.c_str());
      return 0;
    }
    auto calib = read_text_file(a->calib);
    if (!calib) return fail(calib.status());
    std::error_code ec;
    std::filesystem::create_directories(a->out_dir, ec);
    if (ec) return fail(a->out_dir + ": cannot create: " + ec.message());
    QualityOptions o = a->o;
    o.model = a->model;
    o.work_dir = a->out_dir;
    o.keep_files = a->keep;
    if (!a->chunks.empty() && a->chunks.size() != a->evals.size()) return fail("--chunks: give one value per --eval");
    for (size_t i = 0; i < a->evals.size(); ++i)
      o.evals.push_back({std::filesystem::path(a->evals[i]).filename().string(), a->evals[i], a->chunks.empty() ? -1 : a->chunks[i]});
    o.log = [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); };
    std::vector<QualityVariant> variants = standard_quality_variants(calib.value(), o.engine.n_threads);
    if (!a->only.empty()) {
      std::vector<QualityVariant> picked;
      std::stringstream ss(a->only);
      std::string item;
      while (std::getline(ss, item, ',')) {
        int k = 0;
        try {
          k = std::stoi(item);
        } catch (const std::exception&) { return fail("--only: '" + item + "' is not a row number"); }
        if (k < 1 || k > (int)variants.size()) return fail("--only: row " + item + " outside 1.." + std::to_string(variants.size()));
        picked.push_back(variants[(size_t)k - 1]);
      }
      if (picked.empty() || !picked[0].is_base) picked.insert(picked.begin(), variants[0]);  // the reference row comes first
      variants = picked;
    }
    auto rows = run_quality(variants, o);
    if (!rows) return fail(rows.status());
    const std::string md = quality_markdown(rows.value(), o);
    std::ofstream(a->out_dir + "/quality.md") << md;
    std::ofstream(a->out_dir + "/quality.json") << quality_json(rows.value(), o);
    std::ofstream(a->out_dir + "/quality.svg") << quality_svg(rows.value(), o);
    std::printf("%s", md.c_str());
    std::printf("wrote %s/quality.md, quality.json, quality.svg\n", a->out_dir.c_str());
    return 0;
  };
}

}  // namespace pocket::cli
