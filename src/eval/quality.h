// The quantization quality matrix (`pocket quality`): every weight format and method we have, applied
// to one model, each measured on the evaluation texts against the unquantized model in the same run
// (perplexity, paired ΔPPL, KL divergence, same-top-token rate), plus size and bits per weight.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/engine_options.h"
#include "eval/perplexity.h"
#include "quantize/quantize_model.h"

namespace pocket {

struct QualityVariant {
  std::string name;          // "Q4_0 g32 GPTQ"
  std::string command;       // the equivalent `pocket quantize` flags, for the table
  QuantizeOptions quantize;  // ignored for the base row
  bool is_base = false;
};

// The standard matrix: F32, INT8 per block / per channel, INT4 RTN (g32/g128, sym/asym), GPTQ, AWQ,
// AWQ+GPTQ, automatic mixed precision, 2:4 and 50 % pruning. Every 2-D tensor gets the row's type,
// the token embedding (the tied output head of small models) included, so bits per weight are honest.
std::vector<QualityVariant> standard_quality_variants(const std::string& calib_text, int n_threads);

struct QualityEval {
  std::string label;  // file name of the evaluation text
  std::string path;
  int n_chunks = -1;
};

struct QualityRow {
  std::string name, command;
  double file_mib = 0, bpw_file = 0, bpw_native = 0, quantize_seconds = 0;
  std::vector<PerplexityResult> results;  // one per evaluation text
};

// Chunks of 256 tokens, evaluated 256 at a time.
inline EngineOptions quality_engine_defaults() {
  EngineOptions e;
  e.n_ctx = 256;
  e.max_batch = 256;
  return e;
}

struct QualityOptions {
  std::string model;  // the unquantized (F32/F16) model
  std::vector<QualityEval> evals;
  std::string work_dir;  // quantized files go here (deleted after measuring unless keep_files)
  bool keep_files = false;
  EngineOptions engine = quality_engine_defaults();  // n_ctx: the chunk size; n_threads
  std::function<void(const std::string&)> log;
};

// Refuses a calibration text that shares text with an evaluation text (sampled 64-byte windows).
Status check_disjoint(const std::string& calib, const std::string& eval, const std::string& label);

Result<std::vector<QualityRow>> run_quality(const std::vector<QualityVariant>& variants, const QualityOptions& opts);

// Renderings of the matrix: a Markdown table (one block per evaluation text), JSON, and an SVG plot
// of perplexity against bits per weight for the first evaluation text.
std::string quality_markdown(const std::vector<QualityRow>& rows, const QualityOptions& opts);
std::string quality_json(const std::vector<QualityRow>& rows, const QualityOptions& opts);
std::string quality_svg(const std::vector<QualityRow>& rows, const QualityOptions& opts);
// Reads quality_json's output back (re-render the table or plot without re-measuring).
Result<std::vector<QualityRow>> quality_from_json(const std::string& text, QualityOptions* opts);

}  // namespace pocket
