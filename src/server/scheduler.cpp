#include "server/scheduler.h"

#include <algorithm>
#include <chrono>

#include "core/timing.h"

namespace pocket {

bool Job::next(std::string* text, int timeout_ms) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return !text_.empty() || done_; });
  text->clear();
  while (!text_.empty()) {
    *text += text_.front();
    text_.pop_front();
  }
  return !text->empty() || !done_;
}

void Job::set_notify(std::function<void()> notify) {
  std::lock_guard<std::mutex> lk(mu_);
  notify_ = std::move(notify);
}

void Job::cancel() {
  if (!cancelled_.exchange(true)) generated_at_cancel_ = progress_.load();
}

void Job::push(const std::string& text) {
  std::function<void()> notify;
  {
    std::lock_guard<std::mutex> lk(mu_);
    text_.push_back(text);
    notify = notify_;
  }
  cv_.notify_all();
  if (notify) notify();
}

void Job::push_logprobs(const std::vector<TokenLogprob>& all) {
  std::lock_guard<std::mutex> lk(mu_);
  for (size_t i = logprobs_seen_; i < all.size(); ++i) logprobs_.push_back(all[i]);
  logprobs_seen_ = std::max(logprobs_seen_, all.size());
}

void Job::take_logprobs(std::vector<TokenLogprob>* out) {
  std::lock_guard<std::mutex> lk(mu_);
  out->insert(out->end(), logprobs_.begin(), logprobs_.end());
  logprobs_.clear();
}

void Job::finish(const std::string& reason, int n_generated, const std::string& error) {
  std::function<void()> notify;
  {
    std::lock_guard<std::mutex> lk(mu_);
    done_ = true;
    reason_ = reason;
    error_ = error;
    n_generated_ = n_generated;
    notify = std::move(notify_);
  }
  cv_.notify_all();
  if (notify) notify();
}

std::string Job::finish_reason() const {
  std::lock_guard<std::mutex> lk(mu_);
  return reason_;
}

std::string Job::error_message() const {
  std::lock_guard<std::mutex> lk(mu_);
  return error_;
}

const char* openai_finish_reason(FinishReason r) {
  switch (r) {
    case FinishReason::kLength:
    case FinishReason::kContext: return "length";
    case FinishReason::kCallback:
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
    case FinishReason::kNone:
    case FinishReason::kEos:
    case FinishReason::kBos:
    case FinishReason::kStopString: return "stop";
  }
  return "stop";
}

// A sequence of the paged cache: the tokens whose K/V it holds, and the request it serves (if any).
struct Scheduler::Slot {
  int seq = 0;
  std::vector<int32_t> cached;  // between requests: the tokens at positions 0..cached.size()-1 in the cache
  std::shared_ptr<Job> job;
  std::unique_ptr<Sequence> s;  // the request's decode state
  std::unique_ptr<Drafter> drafter;
  std::unique_ptr<SpeculativeRound> round;  // speculative decoding: this request's rounds
  Draft draft;
  size_t first_row = 0, n_rows = 0;  // this step's logits rows
  int n_generated() const { return s ? s->stats().n_generated : 0; }
};

Result<std::unique_ptr<Scheduler>> Scheduler::create(Engine& engine, int n_parallel, int max_batch, const ServerSpeculation& spec) {
  std::vector<std::unique_ptr<Slot>> slots;
  if (spec.make_drafter) POCKET_RETURN_IF_ERROR(check_speculative_options(spec.options, engine.kv()));
  for (int i = 0; i < n_parallel; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->seq = i;
    if (spec.make_drafter) { POCKET_ASSIGN_OR_RETURN(slot->drafter, spec.make_drafter()); }
    slots.push_back(std::move(slot));
  }
  return std::unique_ptr<Scheduler>(new Scheduler(engine, max_batch, std::move(slots), spec.options));
}

Scheduler::Scheduler(Engine& engine, int max_batch, std::vector<std::unique_ptr<Slot>> slots, SpeculativeOptions so)
    : engine_(engine), max_batch_(std::max(1, max_batch)), slots_(std::move(slots)), spec_opts_(so) {
  m_.n_parallel = (int)slots_.size();
  count_kv_blocks();
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  for (auto& s : slots_)
    if (s->job) s->job->finish("cancelled", s->n_generated(), "server shutting down");
  for (auto& j : queue_) j->finish("cancelled", 0, "server shutting down");
}

std::shared_ptr<Job> Scheduler::submit(std::vector<int32_t> prompt, const GenerateOptions& opts) {
  auto job = std::make_shared<Job>(std::move(prompt), opts);
  {
    std::lock_guard<std::mutex> lk(mu_);
    queue_.push_back(job);
    ++m_.requests;
  }
  cv_.notify_all();
  return job;
}

// Under mu_ (or before the scheduler thread starts).
void Scheduler::count_kv_blocks() {
  if (auto* paged = dynamic_cast<const PagedKvCache*>(&engine_.kv())) {
    m_.kv_blocks_used = paged->blocks_in_use();
    m_.kv_blocks_total = paged->n_blocks();
  }
}

SchedulerMetrics Scheduler::metrics() const {
  std::lock_guard<std::mutex> lk(mu_);
  SchedulerMetrics m = m_;
  m.queued = (int)queue_.size();
  m.active = 0;
  for (const auto& s : slots_) m.active += s->job ? 1 : 0;
  return m;  // the KV block counts were copied under mu_ by the scheduler thread (the cache is its own)
}

// Under mu_: queued requests take free sequences, longest shared prefix first.
void Scheduler::admit() {
  while (!queue_.empty()) {
    std::shared_ptr<Job> job = queue_.front();
    if (job->cancelled()) {
      queue_.pop_front();
      ++m_.cancelled;
      job->finish("cancelled", 0);
      continue;
    }
    Slot* best = nullptr;
    size_t best_lcp = 0;
    for (auto& s : slots_) {
      if (s->job) continue;
      const std::vector<int32_t>& p = job->prompt();
      size_t n = 0;
      while (n < s->cached.size() && n < p.size() && s->cached[n] == p[n]) ++n;
      if (best == nullptr || n > best_lcp) best = s.get(), best_lcp = n;
    }
    if (best == nullptr) return;
    queue_.pop_front();
    std::weak_ptr<Job> weak = job;
    TextCallback on_text = [weak](const std::string& text) {
      auto j = weak.lock();
      if (!j || j->cancelled()) return false;
      j->push(text);
      return true;
    };
    Result<std::unique_ptr<Sequence>> seq = Sequence::start(engine_, job->prompt(), job->options(), std::move(on_text));
    if (!seq) {  // the HTTP layer checked the request; this is a backstop
      job->finish("error", 0, seq.status().message());
      continue;
    }
    // Keep the shared prefix, but re-read at least the last prompt token (its logits start the reply).
    const size_t keep = std::min(best_lcp, job->prompt().size() - 1);
    engine_.kv().truncate(best->seq, (int)keep);
    best->cached.resize(keep);
    best->s = std::move(seq).value();
    best->s->set_cached((int)keep);
    // Grammars and log-probabilities follow each sampled position: those requests decode plainly.
    const bool plain = job->options().sampling.grammar || job->options().logprobs >= 0;
    best->round = best->drafter && !plain ? std::make_unique<SpeculativeRound>(*best->drafter, spec_opts_, job->options().sampling) : nullptr;
    best->job = job;
    job->set_reused((int)keep);
    m_.reused_tokens += keep;
    m_.prompt_tokens += job->prompt().size();
  }
}

void Scheduler::loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] {
        if (stop_) return true;
        if (!queue_.empty()) return true;
        for (auto& s : slots_)
          if (s->job) return true;
        return false;
      });
      if (stop_) return;
      admit();
    }
    step();
  }
}

void Scheduler::step() {
  // The slot is freed (and counted) before the job reports its end: a client that has its reply must
  // never see its sequence still active in the metrics.
  auto end_job = [&](Slot& s, FinishReason reason, const std::string& err = "") {
    if (s.s) s.s->finish(reason);
    const FinishReason r = s.s ? s.s->finish_reason() : reason;
    const int n_generated = s.n_generated();
    std::shared_ptr<Job> job;
    {
      std::lock_guard<std::mutex> lk(mu_);
      job = std::move(s.job);
      if (s.s) s.cached.assign(s.s->tokens().begin(), s.s->tokens().begin() + s.s->n_cached());
      s.s.reset();
      if (s.round) {
        m_.draft_tokens += (uint64_t)s.round->stats().drafted;
        m_.draft_accepted += (uint64_t)s.round->stats().accepted;
      }
      s.round.reset();
      m_.generated_tokens += (uint64_t)n_generated;
      if (job->cancelled()) {
        ++m_.cancelled;
        m_.tokens_after_cancel += (uint64_t)std::max(0, n_generated - job->generated_at_cancel());
      }
    }
    job->finish(openai_finish_reason(r), n_generated, err);
  };
  // One batch: the pending token of every generating sequence first (one each, with its drafts when
  // speculating), then prompt chunks up to the batch size. A speculating sequence leaves its last prompt
  // token pending (its first round evaluates it). Each slot remembers which logits rows are its own.
  Batch batch;
  size_t rows = 0;
  std::vector<Slot*> with_logits;
  // Drafts never crowd out prompts: while a request reads its prompt, at least a quarter of the batch
  // is left for prompt chunks; the pending tokens themselves always go in.
  bool prompt_waiting = false;
  int n_pending = 0;
  for (auto& sp : slots_) {
    if (!sp->job) continue;
    const int uncached = (int)sp->s->tokens().size() - sp->s->n_cached();
    prompt_waiting |= sp->s->reading_prompt() && uncached > (sp->round ? 1 : 0);
    n_pending += uncached == 1 && (sp->round || !sp->s->reading_prompt()) ? 1 : 0;
  }
  int draft_room = std::max(0, max_batch_ - n_pending - (prompt_waiting ? std::max(1, max_batch_ / 4) : 0));
  for (auto& sp : slots_) {
    Slot& s = *sp;
    if (!s.job) continue;
    if (s.job->cancelled()) {
      end_job(s, FinishReason::kCancelled);
      continue;
    }
    const int uncached = (int)s.s->tokens().size() - s.s->n_cached();
    if (uncached != 1 || (!s.round && s.s->reading_prompt())) continue;
    s.draft.clear();
    if (s.round) {
      const Status st = s.round->propose(*s.s, &s.draft);
      if (!st.is_ok()) {
        end_job(s, FinishReason::kError, st.message());
        continue;
      }
      if ((int)s.draft.tokens.size() > draft_room) {
        s.draft.tokens.resize((size_t)draft_room);
        s.draft.q.resize((size_t)draft_room);
      }
      draft_room -= (int)s.draft.tokens.size();
      s.round->add_to_batch(*s.s, s.draft, s.seq, batch);
    } else {
      s.s->add_to_batch(batch, s.seq, 1);
    }
    s.first_row = rows;
    s.n_rows = 1 + s.draft.tokens.size();
    rows += s.n_rows;
    with_logits.push_back(&s);
  }
  for (auto& sp : slots_) {
    Slot& s = *sp;
    if (!s.job || !s.s->reading_prompt()) continue;
    const int uncached = (int)s.s->tokens().size() - s.s->n_cached();
    const int want = s.round ? uncached - 1 : uncached;
    if (want <= 0) continue;
    s.s->add_to_batch(batch, s.seq, std::min(want, max_batch_ - batch.size()));
    if (!s.round && !s.s->reading_prompt()) {  // the whole prompt is in: its last row starts the reply
      s.first_row = rows;
      s.n_rows = 1;
      rows += 1;
      with_logits.push_back(&s);
    }
    if (batch.size() >= max_batch_) break;
  }
  if (batch.size() == 0) return;
  std::vector<float> logits;
  const double t0 = now_seconds();
  const Status st = engine_.eval(batch, &logits);
  const double t1 = now_seconds();
  if (!st.is_ok()) {
    for (auto& sp : slots_) {
      if (!sp->job) continue;
      // What the failed batch wrote is not valid: forget this sequence's cache.
      engine_.kv().truncate(sp->seq, 0);
      sp->s->set_cached(0);
      end_job(*sp, FinishReason::kError, st.message());
    }
    std::lock_guard<std::mutex> lk(mu_);
    count_kv_blocks();
    return;
  }
  const int64_t nv = engine_.model().config().n_vocab;
  int generated = 0;
  for (Slot* sp : with_logits) {
    Slot& s = *sp;
    if (!s.job) continue;
    const int before = s.n_generated();
    const float* row = &logits[s.first_row * (size_t)nv];
    if (s.round) {
      s.round->verify(*s.s, s.draft, row, nv, t1 - t0);
      engine_.kv().truncate(s.seq, s.s->n_cached());  // drop the rejected drafts
    } else {
      s.s->step(row);
    }
    if (!s.s->logprobs().empty()) s.job->push_logprobs(s.s->logprobs());
    generated += s.n_generated() - before;
    s.job->set_progress(s.n_generated());
    if (s.s->finished()) {
      const std::string err = s.s->error();  // a copy: end_job destroys the sequence that holds it
      end_job(s, s.s->finish_reason(), err);
    }
  }
  std::lock_guard<std::mutex> lk(mu_);
  count_kv_blocks();
  m_.busy_seconds += t1 - t0;
  recent_.push_back({t1, generated});
  while (!recent_.empty() && recent_.front().first < t1 - 5.0) recent_.pop_front();
  int n = 0;
  for (auto& r : recent_) n += r.second;
  m_.recent_tps = recent_.size() > 1 ? n / std::max(1e-3, t1 - recent_.front().first + (t1 - t0)) : generated / std::max(1e-6, t1 - t0);
}

}  // namespace pocket
