// Perplexity the way llama.cpp's llama-perplexity computes it, so numbers are comparable: the text's
// tokens (BOS once) are cut into non-overlapping chunks of n_ctx; each chunk starts with BOS; only the
// second half is scored (positions n_ctx/2 .. n_ctx-2 predict the next token). Optionally the KL
// divergence and same-top-token rate against a base model, computed in the same run.
#pragma once

#include <functional>
#include <string>

#include "engine/engine.h"

namespace pocket {

struct PerplexityOptions {
  int n_chunks = -1;  // < 0: all
};

struct PerplexityResult {
  int n_ctx = 0;
  int n_chunks = 0;
  int64_t n_scored = 0;  // predictions scored
  double ppl = 0, ppl_err = 0;
  // Against a base model (when given): mean KL(base || model) and its standard error, share of
  // positions where both put the same token on top, and the base model's own perplexity.
  bool has_base = false;
  double kld_mean = 0, kld_err = 0, same_top = 0, base_ppl = 0;
  // Paired difference on the same positions, so two models on one text compare beyond their shared
  // noise: mean of ln p_base - ln p_model = ln(PPL / PPL_base), with its standard error.
  double ln_ratio = 0, ln_ratio_err = 0;
  double delta_ppl() const { return ppl - base_ppl; }
  double delta_ppl_err() const { return ppl * ln_ratio_err; }  // first-order (delta method)
  double seconds = 0;
};

// Progress callback: (chunks done, chunks total, running ppl).
using PplProgress = std::function<void(int, int, double)>;

// `engine` (and `base`, if not null) must have been created with the chunk size as context.
Result<PerplexityResult> compute_perplexity(Engine& engine, const std::string& text, const PerplexityOptions& opts, Engine* base = nullptr,
                                            const PplProgress& progress = nullptr);

}  // namespace pocket
