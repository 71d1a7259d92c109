// Adaptive draft length for speculative decoding. From the measured cost of a draft token, of a
// target forward pass over m positions, and the recent acceptance rate a, it picks the draft length
// k that maximises the expected speedup
//     S(k) = E[tokens per round] * t_target(1) / (k * t_draft + t_target(k + 1)),
//     E[tokens per round] = (1 - a^(k+1)) / (1 - a)          (Leviathan et al., 2023, eq. 1)
// and returns 0 (plain decoding) when no k is expected to beat plain decoding. While off, it probes
// with a short draft every probe_interval rounds, so it notices when drafting starts to work again.
#pragma once

#include <vector>

namespace pocket {

class DraftController {
 public:
  DraftController(int draft_max, bool adaptive, bool free_drafts, int probe_interval = 16);
  // Draft length for the next round (0: a plain decoding step), at most limit.
  int choose(int limit);
  // After a round: tokens proposed (may be fewer than chosen) and accepted, seconds spent drafting,
  // and seconds of the target's forward pass over m positions.
  void record(int proposed, int accepted, double draft_seconds, int m, double verify_seconds);

  double acceptance() const { return accept_; }
  double expected_speedup(int k) const;
  bool speculating() const { return on_; }

 private:
  double target_seconds(int m) const;  // measured (or, before a measurement, estimated) forward time
  int draft_max_;
  bool adaptive_, free_;
  int probe_interval_;
  double accept_ = 0.7;           // running estimate of P(draft token accepted)
  double draft_token_s_ = -1.0;   // seconds per draft token (< 0: not measured yet)
  std::vector<double> verify_s_;  // [m]: seconds of a target pass over m positions (< 0: not measured)
  bool on_ = true;
  int rounds_off_ = 0;
};

}  // namespace pocket
