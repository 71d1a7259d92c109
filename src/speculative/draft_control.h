// Adaptive draft length for speculative decoding. From the measured cost of a draft token, of a
// target forward pass over m positions, and the recent acceptance rate a, it picks the draft length
// k that maximises the expected speedup
//     S(k) = E[tokens per round] * t_target(1) / (k * t_draft + t_target(k + 1)),
//     E[tokens per round] = (1 - a^(k+1)) / (1 - a)          (Leviathan et al., 2023, eq. 1)
// Speculation switches off when the model expects no gain (from the first speculative round on) or when, after 8 rounds, the measured seconds per
// emitted token of speculative rounds exceed those of plain steps (one plain step every 2 x probe_interval rounds keeps that current). While off it
// probes with a one-token draft after probe_interval rounds, doubling the interval after every probe (at most 16 x), and switches back on when the
// model, updated by the probe, expects a gain.
#pragma once

#include <vector>

namespace pocket {

class DraftController {
 public:
  DraftController(int draft_max, bool adaptive, bool free_drafts, int probe_interval = 16);
  // Draft length for the next round (0: a plain decoding step), at most limit.
  int choose(int limit);
  // After a round: tokens proposed (may be fewer than chosen) and accepted, seconds spent drafting and
  // the tokens the draft model evaluated in them, seconds of the target's forward pass over m positions,
  // and the round's wall time and tokens emitted.
  void record(int proposed, int accepted, double draft_seconds, int draft_evaluated, int m, double verify_seconds, double round_seconds, int emitted);

  double acceptance() const { return accept_; }
  double expected_speedup(int k) const;
  bool speculating() const { return on_; }
  // Measured seconds per emitted token of plain steps and of speculative rounds (< 0: none yet).
  double plain_token_seconds() const { return plain_tok_s_; }
  double speculative_token_seconds() const { return spec_tok_s_; }

 private:
  double target_seconds(int m) const;  // measured (or, before a measurement, estimated) forward time
  int best_k(int kmax) const;          // by the model; 0 if none is expected to beat plain decoding
  int draft_max_;
  bool adaptive_, free_;
  int probe_interval_;
  double accept_ = 0.7;           // running estimate of P(draft token accepted)
  double draft_token_s_ = -1.0;   // seconds per token the draft evaluates (< 0: not measured yet)
  std::vector<double> verify_s_;  // [m]: seconds of a target pass over m positions (< 0: not measured)
  double plain_tok_s_ = -1.0, spec_tok_s_ = -1.0;
  double spec_time_ = -1.0, spec_tokens_ = -1.0;  // running sums behind spec_tok_s_
  int spec_rounds_ = 0;
  bool on_ = true;
  int rounds_ = 0;      // rounds while on (every probe_interval-th is a plain step)
  int rounds_off_ = 0;  // rounds while off since the last probe
  int off_interval_;    // rounds between probes while off: probe_interval, doubling after each failed probe
};

}  // namespace pocket
