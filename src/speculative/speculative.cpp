#include "speculative/speculative.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/timing.h"
#include "speculative/draft_control.h"

namespace pocket {
Status check_speculative_options(const SpeculativeOptions& so, const KvCache& kv) {
  if (so.draft_max < 1 || so.draft_max > 32) return field_error("draft_max", "must be in 1..32");
  if (!(so.p_min >= 0.0f && so.p_min < 1.0f)) return field_error("p_min", "must be in [0, 1)");
  if (kv.window() > 0 && so.draft_max > kv.slots() - kv.window())
    return field_error("draft_max", std::to_string(so.draft_max) + " exceeds what the sliding-window cache can roll back (" +
                                        std::to_string(kv.slots() - kv.window()) + "; raise max_batch)");
  return Status::ok();
}

SpeculativeRound::SpeculativeRound(Drafter& drafter, const SpeculativeOptions& so, const SamplingParams& sp)
    : drafter_(drafter), ctl_(so.draft_max, so.adaptive, !drafter.costly(), so.probe_interval) {
  drafter_.configure(sp, so.adaptive ? so.p_min : 0.0f);
}

Status SpeculativeRound::propose(const Sequence& seq, Draft* draft) {
  // Drafts beyond the token limit or the context are wasted; the first round (the prompt's last
  // token) is a plain step, which also measures the target's single-token cost.
  k_ = first_ ? 0 : ctl_.choose(seq.room());
  first_ = false;
  round_start_ = now_seconds();
  draft->clear();
  draft_seconds_ = 0.0;
  if (k_ > 0) {
    const double t = now_seconds();
    POCKET_RETURN_IF_ERROR(drafter_.propose(seq.tokens(), k_, draft));
    draft_seconds_ = now_seconds() - t;
    if ((int)draft->tokens.size() > k_) {
      draft->tokens.resize((size_t)k_);
      draft->q.resize((size_t)k_);
    }
  }
  return Status::ok();
}

void SpeculativeRound::add_to_batch(Sequence& seq, const Draft& draft, int32_t seq_id, Batch& batch) {
  const int32_t pos = seq.pos();
  seq.add_to_batch(batch, seq_id, 1);
  for (size_t i = 0; i < draft.tokens.size(); ++i) batch.add(draft.tokens[i], pos + 1 + (int32_t)i, seq_id, true);
}

int SpeculativeRound::verify(Sequence& seq, const Draft& draft, const float* rows, int64_t n_vocab, double verify_seconds) {
  const int nd = (int)draft.tokens.size();
  const int accepted = seq.verify(rows, n_vocab, draft);
  ++stats_.rounds;
  if (nd > 0) ++stats_.verifications;
  stats_.drafted += nd;
  stats_.accepted += accepted;
  stats_.draft_seconds += draft_seconds_;
  stats_.target_seconds += verify_seconds;
  // The first pass after the prompt runs on cold caches: not representative of a decode step.
  if (stats_.rounds > 1)
    ctl_.record(nd, accepted, draft_seconds_, draft.evaluated, nd + 1, verify_seconds, now_seconds() - round_start_, accepted + 1);
  if (std::getenv("POCKET_SPEC_TRACE"))
    std::fprintf(stderr, "round %d: k %d proposed %d accepted %d draft %.2f ms target %.2f ms (m=%d) a=%.2f S(k)=%.2f\n", stats_.rounds, k_, nd,
                 accepted, draft_seconds_ * 1e3, verify_seconds * 1e3, nd + 1, ctl_.acceptance(), ctl_.expected_speedup(k_));
  return accepted;
}

Result<GenerateStats> generate_speculative(Engine& target, Drafter& drafter, const std::vector<int32_t>& prompt, const GenerateOptions& opts,
                                           const SpeculativeOptions& so, const TextCallback& on_text, std::vector<int32_t>* generated_ids,
                                           SpeculativeStats* spec_stats) {
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Sequence> seq, Sequence::start(target, prompt, opts, on_text, generated_ids));
  KvCache& kv = target.kv();
  POCKET_RETURN_IF_ERROR(check_speculative_options(so, kv));
  const int64_t n_vocab = target.model().config().n_vocab;
  SpeculativeRound round(drafter, so, opts.sampling);

  // Prefill all but the last prompt token: it is the first round's pending token.
  target.clear_kv();
  Batch batch;
  std::vector<float> logits;
  double t0 = now_seconds();
  seq->add_to_batch(batch, 0, seq->n_prompt() - 1);
  if (batch.size() > 0) POCKET_RETURN_IF_ERROR(target.eval(batch, &logits));
  seq->stats().prompt_seconds = now_seconds() - t0;

  t0 = now_seconds();
  Draft draft;
  while (!seq->finished()) {
    POCKET_RETURN_IF_ERROR(round.propose(*seq, &draft));
    batch.clear();
    round.add_to_batch(*seq, draft, 0, batch);
    const double t = now_seconds();
    POCKET_RETURN_IF_ERROR(target.eval(batch, &logits));
    round.verify(*seq, draft, logits.data(), n_vocab, now_seconds() - t);
    // Keep the pending token and the accepted drafts; the target's own last token is the next pending one.
    kv.truncate(0, seq->n_cached());
  }
  seq->stats().generate_seconds = now_seconds() - t0;
  if (spec_stats) *spec_stats = round.stats();
  return seq->stats();
}

}  // namespace pocket
