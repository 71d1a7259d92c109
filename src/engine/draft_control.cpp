#include "engine/draft_control.h"

#include <algorithm>
#include <cmath>

namespace pocket {

namespace {
constexpr double kDecay = 0.85;        // weight of the previous estimate in the running averages
constexpr double kMinSpeedup = 1.02;   // speculation must be expected to beat plain decoding by this
}  // namespace

DraftController::DraftController(int draft_max, bool adaptive, bool free_drafts, int probe_interval)
    : draft_max_(std::max(draft_max, 0)), adaptive_(adaptive), free_(free_drafts), probe_interval_(std::max(probe_interval, 1)),
      verify_s_((size_t)draft_max_ + 2, -1.0) {}

double DraftController::target_seconds(int m) const {
  if (m < (int)verify_s_.size() && verify_s_[(size_t)m] > 0) return verify_s_[(size_t)m];
  // Not measured: interpolate from the nearest measured sizes below and above (linear in m), or assume
  // that a pass over m positions costs a little more than one (decode reads the weights once).
  int lo = -1, hi = -1;
  for (int i = std::min(m, (int)verify_s_.size() - 1); i >= 1; --i)
    if (verify_s_[(size_t)i] > 0) { lo = i; break; }
  for (int i = m + 1; i < (int)verify_s_.size(); ++i)
    if (verify_s_[(size_t)i] > 0) { hi = i; break; }
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

int DraftController::choose(int limit) {
  const int kmax = std::min(draft_max_, limit);
  if (kmax <= 0) return 0;
  if (!adaptive_) return kmax;
  int best = 0;
  double best_s = kMinSpeedup;
  for (int k = 1; k <= kmax; ++k) {
    const double s = expected_speedup(k);
    if (s > best_s) { best_s = s; best = k; }
  }
  on_ = best > 0;
  if (on_) {
    rounds_off_ = 0;
    return best;
  }
  if (++rounds_off_ >= probe_interval_) {  // a short probe keeps the acceptance estimate current
    rounds_off_ = 0;
    return std::min(kmax, 2);
  }
  return 0;
}

void DraftController::record(int proposed, int accepted, double draft_seconds, int m, double verify_seconds) {
  if (m >= 1 && m < (int)verify_s_.size()) {
    double& v = verify_s_[(size_t)m];
    v = v > 0 ? kDecay * v + (1 - kDecay) * verify_seconds : verify_seconds;
  }
  if (proposed <= 0) return;
  const double per_token = draft_seconds / proposed;
  draft_token_s_ = draft_token_s_ >= 0 ? kDecay * draft_token_s_ + (1 - kDecay) * per_token : per_token;
  // Acceptance per tested draft token: tokens after the first rejection were never tested.
  const int tested = accepted < proposed ? accepted + 1 : proposed;
  const double w = std::pow(kDecay, std::min(tested, 8));
  accept_ = w * accept_ + (1 - w) * ((double)accepted / tested);
}

}  // namespace pocket
