#include "eval/perplexity.h"

#include <chrono>
#include <cmath>

namespace pocket {
namespace {

// log-softmax of one row: returns log p[target], fills logp (n) when asked.
double log_softmax_at(const float* logits, int64_t n, int32_t target, std::vector<double>* logp) {
  float mx = logits[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp((double)logits[i] - mx);
  const double lse = std::log(sum) + mx;
  if (logp) {
    logp->resize((size_t)n);
    for (int64_t i = 0; i < n; ++i) (*logp)[(size_t)i] = (double)logits[i] - lse;
  }
  return (double)logits[target] - lse;
}

int32_t argmax(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return (int32_t)best;
}

}  // namespace

Result<PerplexityResult> compute_perplexity(Engine& engine, const std::string& text, const PerplexityOptions& opts, Engine* base,
                                            const PplProgress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  PerplexityResult r;
  r.n_ctx = engine.n_ctx();
  const int n_ctx = r.n_ctx;
  if (n_ctx < 4) return error(ErrorCode::kInvalidArgument, "perplexity: context must be at least 4 tokens");
  const Vocab& v = engine.tokenizer().vocab();
  const int64_t n_vocab = engine.model().config().n_vocab;
  if (base != nullptr) {
    if (base->model().config().n_vocab != n_vocab) return Status(ErrorCode::kInvalidArgument, "base: vocabulary sizes differ", "base");
    if (base->n_ctx() != n_ctx) return Status(ErrorCode::kInvalidArgument, "base: context sizes differ", "base");
    r.has_base = true;
  }
  const std::vector<int32_t> tokens = engine.tokenizer().encode(text, true, false);
  const int n_max = (int)(tokens.size() / (size_t)n_ctx);
  if (n_max == 0)
    return error(ErrorCode::kOutOfRange,
                 "perplexity: the text has " + std::to_string(tokens.size()) + " tokens, fewer than one chunk of " + std::to_string(n_ctx));
  r.n_chunks = opts.n_chunks < 0 ? n_max : std::min(opts.n_chunks, n_max);
  const int first = n_ctx / 2;
  double nll = 0, nll2 = 0, base_nll = 0, kld = 0, kld2 = 0, dn = 0, dn2 = 0;
  int64_t same = 0;
  std::vector<float> logits, base_logits;
  std::vector<double> logp, base_logp;
  for (int c = 0; c < r.n_chunks; ++c) {
    Batch b;
    for (int j = 0; j < n_ctx; ++j) {
      int32_t t = tokens[(size_t)c * n_ctx + j];
      if (j == 0 && v.add_bos && v.bos >= 0) t = v.bos;
      b.add(t, j, 0, j >= first && j < n_ctx - 1);
    }
    engine.clear_kv();
    POCKET_RETURN_IF_ERROR(engine.eval(b, &logits));
    if (base) {
      base->clear_kv();
      POCKET_RETURN_IF_ERROR(base->eval(b, &base_logits));
    }
    for (int j = first; j < n_ctx - 1; ++j) {
      const int32_t next = tokens[(size_t)c * n_ctx + j + 1];
      const float* row = &logits[(size_t)(j - first) * n_vocab];
      const double lp = log_softmax_at(row, n_vocab, next, base ? &logp : nullptr);
      nll += -lp;
      nll2 += lp * lp;
      if (base) {
        const float* brow = &base_logits[(size_t)(j - first) * n_vocab];
        const double blp = log_softmax_at(brow, n_vocab, next, &base_logp);
        base_nll += -blp;
        dn += blp - lp;
        dn2 += (blp - lp) * (blp - lp);
        double k = 0;
        for (int64_t i = 0; i < n_vocab; ++i) k += std::exp(base_logp[(size_t)i]) * (base_logp[(size_t)i] - logp[(size_t)i]);
        kld += k;
        kld2 += k * k;
        same += argmax(row, n_vocab) == argmax(brow, n_vocab);
      }
      ++r.n_scored;
    }
    if (progress) progress(c + 1, r.n_chunks, std::exp(nll / (double)r.n_scored));
  }
  const double n = (double)r.n_scored;
  const double mean = nll / n;
  r.ppl = std::exp(mean);
  const double var = nll2 / n - mean * mean;
  r.ppl_err = var > 0 && n > 1 ? std::sqrt(var / (n - 1)) * r.ppl : 0.0;
  if (base) {
    r.base_ppl = std::exp(base_nll / n);
    r.kld_mean = kld / n;
    const double kv = kld2 / n - r.kld_mean * r.kld_mean;
    r.kld_err = kv > 0 && n > 1 ? std::sqrt(kv / (n - 1)) : 0.0;
    r.same_top = (double)same / n;
    r.ln_ratio = dn / n;
    const double dv = dn2 / n - r.ln_ratio * r.ln_ratio;
    r.ln_ratio_err = dv > 0 && n > 1 ? std::sqrt(dv / (n - 1)) : 0.0;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace pocket
