#include "speculative/speculative.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/timing.h"
#include "speculative/draft_control.h"
#include "engine/token_output.h"

namespace pocket {
namespace {

// Speculative sampling of one position: keeps draft token d (drawn from q; q empty = point mass on d)
// with probability min(1, p(d)/q(d)), else draws from max(0, p - q) normalised. Returns the token
// and sets *kept. p_dense and q_dense are n_vocab zeros on entry and on return.
int32_t verify_sampled(Sampler& sampler, const float* logits, int32_t d, const std::vector<std::pair<int32_t, float>>& q,
                       std::vector<float>& p_dense, std::vector<float>& q_dense, bool* kept) {
  const Candidates& p = sampler.probabilities(logits);
  for (const Candidate& c : p.items) p_dense[(size_t)c.id] = c.p;
  if (q.empty()) q_dense[(size_t)d] = 1.0f;
  for (const auto& [id, prob] : q) q_dense[(size_t)id] = prob;
  const double pd = p_dense[(size_t)d], qd = q_dense[(size_t)d];
  int32_t tok = d;
  *kept = qd > 0 && sampler.uniform() * qd < pd;
  if (!*kept) {
    double sum = 0.0;
    for (const Candidate& c : p.items) sum += std::max(0.0, (double)c.p - (double)q_dense[(size_t)c.id]);
    const double u = sampler.uniform();
    double cum = 0.0;
    tok = -1;
    if (sum > 1e-12) {  // the residual distribution
      for (const Candidate& c : p.items) {
        cum += std::max(0.0, (double)c.p - (double)q_dense[(size_t)c.id]) / sum;
        if (u < cum) { tok = c.id; break; }
      }
    } else {  // p == q: any draw from p is exact
      for (const Candidate& c : p.items) {
        cum += c.p;
        if (u < cum) { tok = c.id; break; }
      }
    }
    if (tok < 0) tok = p.items.back().id;  // rounding at the end of the scan
  }
  for (const Candidate& c : p.items) p_dense[(size_t)c.id] = 0.0f;
  q_dense[(size_t)d] = 0.0f;
  for (const auto& qi : q) q_dense[(size_t)qi.first] = 0.0f;
  return tok;
}

}  // namespace

Result<GenerateStats> generate_speculative(Engine& target, Drafter& drafter, const std::vector<int32_t>& prompt, const GenerateOptions& opts,
                                           const SpeculativeOptions& so, const TextCallback& on_text, std::vector<int32_t>* generated_ids,
                                           SpeculativeStats* spec_stats) {
  POCKET_RETURN_IF_ERROR(opts.sampling.validate());
  if (so.draft_max < 1 || so.draft_max > 32) return error(ErrorCode::kInvalidArgument, "--draft-max must be in 1..32");
  if (!(so.p_min >= 0.0f && so.p_min < 1.0f)) return error(ErrorCode::kInvalidArgument, "--draft-p-min must be in [0, 1)");
  KvCache& kv = target.kv();
  if (kv.window() > 0 && so.draft_max > kv.slots() - kv.window())
    return error(ErrorCode::kInvalidArgument, "--draft-max " + std::to_string(so.draft_max) + " exceeds what the sliding-window cache can roll back (" +
                                                  std::to_string(kv.slots() - kv.window()) + "; raise --batch)");
  POCKET_RETURN_IF_ERROR(target.check_prompt(prompt));
  const int64_t n_vocab = target.model().config().n_vocab;
  const int n_ctx = target.n_ctx();
  SpeculativeStats ss;
  GenerateStats st;
  st.n_prompt = (int)prompt.size();
  Sampler sampler(opts.sampling, (int32_t)n_vocab);
  for (int32_t t : prompt) sampler.accept(t);
  drafter.configure(opts.sampling, so.adaptive ? so.p_min : 0.0f);
  const int limit = opts.n_predict < 0 ? n_ctx : opts.n_predict;
  TokenOutput out(target.tokenizer(), opts, on_text, generated_ids, prompt.back(), limit);

  // Prefill all but the last prompt token: it is the first round's pending token.
  target.clear_kv();
  Batch batch;
  std::vector<float> logits;
  double t0 = now_seconds();
  for (size_t i = 0; i + 1 < prompt.size(); ++i) batch.add(prompt[i], (int32_t)i, 0, false);
  if (batch.size() > 0) POCKET_RETURN_IF_ERROR(target.eval(batch, &logits));
  st.prompt_seconds = now_seconds() - t0;

  t0 = now_seconds();
  std::vector<int32_t> context = prompt;  // prompt + generated; the last token is pending
  int pos = (int)prompt.size() - 1;       // position of the pending token
  DraftController ctl(so.draft_max, so.adaptive, !drafter.costly(), so.probe_interval);
  Draft draft;
  std::vector<float> p_dense, q_dense;
  if (!sampler.greedy()) {
    p_dense.assign((size_t)n_vocab, 0.0f);
    q_dense.assign((size_t)n_vocab, 0.0f);
  }
  bool first = true;
  while (!out.done(&st)) {
    if (pos >= n_ctx) { st.stop_reason = "context"; break; }
    // Drafts beyond the token limit or the context are wasted; the first round (the prompt's last
    // token) is a plain step, which also measures the target's single-token cost.
    const int room = std::min(limit - st.n_generated - 1, n_ctx - pos - 1);
    const int k = first ? 0 : ctl.choose(room);
    first = false;
    const double round_start = now_seconds();
    draft.clear();
    double td = 0.0;
    if (k > 0) {
      const double t = now_seconds();
      POCKET_RETURN_IF_ERROR(drafter.propose(context, k, &draft));
      td = now_seconds() - t;
      if ((int)draft.tokens.size() > k) {
        draft.tokens.resize((size_t)k);
        draft.q.resize((size_t)k);
      }
    }
    const int nd = (int)draft.tokens.size();
    batch.clear();
    batch.add(context.back(), pos, 0, true);
    for (int i = 0; i < nd; ++i) batch.add(draft.tokens[(size_t)i], pos + 1 + i, 0, true);
    const double t = now_seconds();
    POCKET_RETURN_IF_ERROR(target.eval(batch, &logits));
    const double tv = now_seconds() - t;

    int accepted = 0;
    bool stop = false;
    for (int i = 0; i <= nd; ++i) {
      const float* row = logits.data() + (size_t)i * (size_t)n_vocab;
      int32_t tok;
      bool kept = false;
      if (i < nd && !sampler.greedy()) {
        tok = verify_sampled(sampler, row, draft.tokens[(size_t)i], draft.q[(size_t)i], p_dense, q_dense, &kept);
      } else {
        tok = sampler.sample(row);
        kept = i < nd && tok == draft.tokens[(size_t)i];
      }
      sampler.accept(tok);
      context.push_back(tok);
      accepted += kept ? 1 : 0;
      if (!out.push(tok, &st)) { stop = true; break; }
      if (!kept) break;
    }
    ++ss.rounds;
    if (nd > 0) ++ss.verifications;
    ss.drafted += nd;
    ss.accepted += accepted;
    ss.draft_seconds += td;
    ss.target_seconds += tv;
    // The first pass after the prompt runs on cold caches: not representative of a decode step.
    if (ss.rounds > 1) ctl.record(nd, accepted, td, draft.evaluated, nd + 1, tv, now_seconds() - round_start, accepted + 1);
    if (std::getenv("POCKET_SPEC_TRACE"))
      std::fprintf(stderr, "round %d: k %d proposed %d accepted %d draft %.2f ms target %.2f ms (m=%d) a=%.2f S(k)=%.2f\n", ss.rounds, k, nd, accepted,
                   td * 1e3, tv * 1e3, nd + 1, ctl.acceptance(), ctl.expected_speedup(k));
    // Keep the pending token and the accepted drafts; the target's own last token is the next pending one.
    pos += 1 + accepted;
    kv.truncate(0, pos);
    if (stop) break;
  }
  out.finish(st);
  st.generate_seconds = now_seconds() - t0;
  if (spec_stats) *spec_stats = ss;
  return st;
}

}  // namespace pocket
