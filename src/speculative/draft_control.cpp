#include "speculative/draft_control.h"

#include <algorithm>
#include <cmath>

namespace pocket {

namespace {
constexpr double kDecay = 0.85;       // weight of the previous estimate in the running averages
constexpr double kMinSpeedup = 1.02;  // the model must expect speculation to beat plain decoding by this
double ema(double old, double x, double decay = kDecay) { return old >= 0 ? decay * old + (1 - decay) * x : x; }
constexpr int kWarmup = 8;       // speculative rounds measured before their cost may switch speculation off
constexpr int kModelWarmup = 1;  // speculative rounds before the model's estimate may switch it off
}  // namespace

DraftController::DraftController(int draft_max, bool adaptive, bool free_drafts, int probe_interval)
    : draft_max_(std::max(draft_max, 0)), adaptive_(adaptive), free_(free_drafts), probe_interval_(std::max(probe_interval, 2)),
      verify_s_((size_t)draft_max_ + 2, -1.0), off_interval_(probe_interval_) {}

double DraftController::target_seconds(int m) const {
  if (m < (int)verify_s_.size() && verify_s_[(size_t)m] > 0) return verify_s_[(size_t)m];
  // Not measured: interpolate from the nearest measured sizes below and above (linear in m), or assume
  // that a pass over m positions costs a little more than one (decode reads the weights once).
  int lo = -1, hi = -1;
  for (int i = std::min(m, (int)verify_s_.size() - 1); i >= 1; --i)
    if (verify_s_[(size_t)i] > 0) {
      lo = i;
      break;
    }
  for (int i = m + 1; i < (int)verify_s_.size(); ++i)
    if (verify_s_[(size_t)i] > 0) {
      hi = i;
      break;
    }
  if (lo > 0 && hi > 0) return verify_s_[(size_t)lo] + (verify_s_[(size_t)hi] - verify_s_[(size_t)lo]) * (m - lo) / (hi - lo);
  if (lo > 0) return verify_s_[(size_t)lo] * (1.0 + 0.05 * (m - lo));
  if (hi > 0) return verify_s_[(size_t)hi] / (1.0 + 0.05 * (hi - m));
  return 1.0 + 0.05 * (m - 1);  // relative units until something is measured
}

double DraftController::expected_speedup(int k) const {
  if (k <= 0) return 1.0;
  const double a = std::clamp(accept_, 0.0, 0.999);
  const double tokens = (1.0 - std::pow(a, k + 1)) / (1.0 - a);
  const double t1 = target_seconds(1);
  const double td = free_ ? 0.0 : (draft_token_s_ >= 0 ? draft_token_s_ : 0.3 * t1);
  return tokens * t1 / (k * td + target_seconds(k + 1));
}

int DraftController::best_k(int kmax) const {
  int best = 0;
  double best_s = kMinSpeedup;
  for (int k = 1; k <= kmax; ++k) {
    const double s = expected_speedup(k);
    if (s > best_s) {
      best_s = s;
      best = k;
    }
  }
  return best;
}

int DraftController::choose(int limit) {
  const int kmax = std::min(draft_max_, limit);
  if (kmax <= 0) return 0;
  if (!adaptive_) return kmax;
  if (plain_tok_s_ < 0) return 0;  // measure a plain step first: every decision compares against it
  if (on_) {
    if (++rounds_ % (2 * probe_interval_) == 0) return 0;  // a plain step keeps its cost current
    const int k = best_k(kmax);
    if (spec_rounds_ < kModelWarmup) return std::max(k, 1);  // measure at least one round before judging
    const bool slower = spec_rounds_ >= kWarmup && plain_tok_s_ > 0 && spec_tok_s_ > plain_tok_s_;
    if (k > 0 && !slower) return k;
    on_ = false;
    rounds_off_ = 0;
    return 0;
  }
  if (++rounds_off_ >= off_interval_) {  // a one-token probe keeps acceptance and draft cost current
    rounds_off_ = 0;
    off_interval_ = std::min(off_interval_ * 2, 16 * probe_interval_);  // back off while probes keep failing
    return 1;
  }
  return 0;
}

void DraftController::record(int proposed, int accepted, double draft_seconds, int draft_evaluated, int m, double verify_seconds,
                             double round_seconds, int emitted) {
  if (m >= 1 && m < (int)verify_s_.size()) verify_s_[(size_t)m] = ema(verify_s_[(size_t)m], verify_seconds);
  const double per_token = round_seconds / std::max(emitted, 1);
  const bool plain = proposed == 0 && draft_seconds == 0.0;
  if (plain) {
    plain_tok_s_ = ema(plain_tok_s_, per_token);
    return;
  }
  // A speculative round (drafting may have proposed nothing: its time still counts).
  // Seconds per token as a ratio of running sums (not a mean of per-round ratios): one long rejected
  // draft costs its time once instead of dominating the average. Probes (while off) weigh more.
  const double decay = on_ ? kDecay : 0.25;
  spec_time_ = ema(spec_time_, round_seconds, decay);
  spec_tokens_ = ema(spec_tokens_, (double)std::max(emitted, 1), decay);
  spec_tok_s_ = spec_time_ / spec_tokens_;
  ++spec_rounds_;
  // In steady speculation a round evaluates about k draft tokens (the kept ones catch up next round), so
  // the cost per evaluated token is the cost per drafted one, without a long catch-up after a pause.
  if (draft_seconds > 0) draft_token_s_ = ema(draft_token_s_, draft_seconds / std::max(draft_evaluated, 1));
  if (proposed > 0) {
    // Acceptance per tested draft token: tokens after the first rejection were never tested.
    const int tested = accepted < proposed ? accepted + 1 : proposed;
    const double w = std::pow(kDecay, std::min(tested, 8));
    accept_ = w * accept_ + (1 - w) * ((double)accepted / tested);
  }
  if (!on_ && best_k(draft_max_) > 0) {
    // A probe (its draft cost is per evaluated token, so the catch-up after the pause does not count
    // against it) says drafting should pay again: speculate, and measure the result afresh.
    on_ = true;
    rounds_ = 0;
    spec_rounds_ = 0;
    spec_time_ = spec_tokens_ = spec_tok_s_ = -1.0;
  }
}

}  // namespace pocket
