// Speculative decoding: a drafter proposes k tokens, the target evaluates the pending token and the k
// drafts in one batched forward pass, keeps the longest verified prefix plus one token of its own,
// and rolls its KV cache back past the first rejected draft.
//   greedy:   a draft is kept when it equals the target's choice, so the output is the target's
//             greedy output token for token;
//   sampling: a draft d drawn from q is kept with probability min(1, p(d)/q(d)); on rejection the
//             token is drawn from max(0, p - q) normalised (Leviathan et al. 2023; Chen et al. 2023),
//             which leaves the target's distribution p unchanged.
#pragma once

#include <string>
#include <vector>

#include "speculative/drafter.h"
#include "engine/engine.h"
#include "engine/sequence.h"
#include "speculative/draft_control.h"

namespace pocket {

struct SpeculativeOptions {
  int draft_max = 8;        // draft tokens per verification at most (1..32)
  bool adaptive = true;     // choose the draft length from measured costs and acceptance; switch off when slower
  float p_min = 0.3f;       // adaptive: a model draft stops when its top probability falls below this
  int probe_interval = 16;  // adaptive: rounds between probes while speculation is off
};

struct SpeculativeStats {
  int rounds = 0;         // target forward passes after the prompt
  int verifications = 0;  // rounds that checked at least one draft token
  int64_t drafted = 0;    // draft tokens proposed
  int64_t accepted = 0;   // draft tokens accepted
  double draft_seconds = 0, target_seconds = 0;
  double acceptance() const { return drafted ? (double)accepted / (double)drafted : 0.0; }
  // Tokens produced per verification: accepted drafts + the target's own token.
  double tokens_per_verification() const { return verifications ? (double)(accepted + verifications) / verifications : 0.0; }
};

// Errors for options out of range or a draft longer than a sliding-window cache can roll back.
Status check_speculative_options(const SpeculativeOptions& so, const KvCache& kv);

// One sequence's speculative rounds: propose drafts for the sequence, put the pending token and the
// drafts in a batch (alone, or beside other sequences in the server's batch), and after the target's
// forward pass verify them through the sequence's decode step. The caller rolls the cache back to
// seq.n_cached() after verify().
class SpeculativeRound {
 public:
  SpeculativeRound(Drafter& drafter, const SpeculativeOptions& so, const SamplingParams& sp);
  Status propose(const Sequence& seq, Draft* draft);
  void add_to_batch(Sequence& seq, const Draft& draft, int32_t seq_id, Batch& batch);
  // rows: the logits of the pending token and of each draft token, in batch order. Returns the drafts kept.
  int verify(Sequence& seq, const Draft& draft, const float* rows, int64_t n_vocab, double verify_seconds);
  const SpeculativeStats& stats() const { return stats_; }

 private:
  Drafter& drafter_;
  DraftController ctl_;
  SpeculativeStats stats_;
  bool first_ = true;
  int k_ = 0;
  double round_start_ = 0.0, draft_seconds_ = 0.0;
};

// Generates from prompt tokens like Engine::generate_tokens, with drafts from `drafter`.
Result<GenerateStats> generate_speculative(Engine& target, Drafter& drafter, const std::vector<int32_t>& prompt, const GenerateOptions& opts,
                                           const SpeculativeOptions& so, const TextCallback& on_text, std::vector<int32_t>* generated_ids,
                                           SpeculativeStats* spec_stats);

}  // namespace pocket
