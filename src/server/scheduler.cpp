#include "server/scheduler.h"

#include <algorithm>
#include <chrono>

#include "core/timing.h"
#include "engine/token_output.h"

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

void Job::push(const std::string& text) {
  std::lock_guard<std::mutex> lk(mu_);
  text_.push_back(text);
  cv_.notify_all();
}

void Job::finish(const std::string& reason, int n_generated, const std::string& error) {
  std::lock_guard<std::mutex> lk(mu_);
  done_ = true;
  reason_ = reason;
  error_ = error;
  n_generated_ = n_generated;
  cv_.notify_all();
}

std::string Job::finish_reason() const {
  std::lock_guard<std::mutex> lk(mu_);
  return reason_;
}

std::string Job::error_message() const {
  std::lock_guard<std::mutex> lk(mu_);
  return error_;
}

// A sequence of the paged cache: the tokens whose K/V it holds, and the request it serves (if any).
struct Scheduler::Slot {
  int seq = 0;
  std::vector<int32_t> cached;   // tokens at positions 0..cached.size()-1 in the cache
  std::shared_ptr<Job> job;
  size_t prompt_pos = 0;         // next prompt token to evaluate
  int32_t pending = -1;          // sampled, not yet evaluated
  std::unique_ptr<Sampler> sampler;
  TextCallback on_text;
  std::unique_ptr<TokenOutput> out;
  GenerateStats st;
};

Scheduler::Scheduler(Engine& engine, int n_parallel, int max_batch) : engine_(engine), max_batch_(std::max(1, max_batch)) {
  for (int i = 0; i < n_parallel; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->seq = i;
  }
  m_.n_parallel = n_parallel;
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
    if (s->job) s->job->finish("cancelled", s->st.n_generated, "server shutting down");
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

SchedulerMetrics Scheduler::metrics() const {
  std::lock_guard<std::mutex> lk(mu_);
  SchedulerMetrics m = m_;
  m.queued = (int)queue_.size();
  m.active = 0;
  for (const auto& s : slots_) m.active += s->job ? 1 : 0;
  if (auto* paged = dynamic_cast<const PagedKvCache*>(&engine_.kv())) {
    m.kv_blocks_used = paged->blocks_in_use();
    m.kv_blocks_total = paged->n_blocks();
  }
  return m;
}

// Under mu_: queued requests take free sequences, longest shared prefix first.
void Scheduler::admit() {
  while (!queue_.empty()) {
    std::shared_ptr<Job> job = queue_.front();
    if (job->cancelled()) {
      queue_.pop_front();
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
    // Keep the shared prefix, but re-read at least the last prompt token (its logits start the reply).
    const size_t keep = std::min(best_lcp, job->prompt().size() - 1);
    engine_.kv().truncate(best->seq, (int)keep);
    best->cached.resize(keep);
    best->prompt_pos = keep;
    best->pending = -1;
    best->job = job;
    job->set_reused((int)keep);
    m_.reused_tokens += keep;
    m_.prompt_tokens += job->prompt().size();
    const GenerateOptions& o = job->options();
    best->sampler = std::make_unique<Sampler>(o.sampling, (int32_t)engine_.model().config().n_vocab);
    for (int32_t t : job->prompt()) best->sampler->accept(t);
    best->st = GenerateStats{};
    best->st.n_prompt = (int)job->prompt().size();
    std::weak_ptr<Job> weak = job;
    best->on_text = [weak](const std::string& text) {
      auto j = weak.lock();
      if (!j || j->cancelled()) return false;
      j->push(text);
      return true;
    };
    const int limit = o.n_predict < 0 ? engine_.n_ctx() : o.n_predict;
    best->out = std::make_unique<TokenOutput>(engine_.tokenizer(), o, best->on_text, nullptr, job->prompt().back(), limit);
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
  auto end_job = [&](Slot& s, const std::string& reason, const std::string& err = "") {
    std::shared_ptr<Job> job;
    {
      std::lock_guard<std::mutex> lk(mu_);
      job = std::move(s.job);
      s.out.reset();
      m_.generated_tokens += (uint64_t)s.st.n_generated;
    }
    job->finish(reason, s.st.n_generated, err);
  };
  // One batch: the pending token of every generating sequence first (one each), then prompt chunks
  // up to the batch size. Which entry holds a slot's logits is remembered in order.
  Batch batch;
  std::vector<Slot*> with_logits;
  for (auto& sp : slots_) {
    Slot& s = *sp;
    if (!s.job) continue;
    if (s.job->cancelled()) {
      end_job(s, "cancelled");
      continue;
    }
    if (s.pending >= 0) {
      batch.add(s.pending, (int32_t)s.cached.size(), s.seq, true);
      s.cached.push_back(s.pending);
      s.pending = -1;
      with_logits.push_back(&s);
    }
  }
  for (auto& sp : slots_) {
    Slot& s = *sp;
    if (!s.job || s.prompt_pos >= s.job->prompt().size()) continue;
    const std::vector<int32_t>& p = s.job->prompt();
    while (s.prompt_pos < p.size() && batch.size() < max_batch_) {
      const bool last = s.prompt_pos + 1 == p.size();
      batch.add(p[s.prompt_pos], (int32_t)s.cached.size(), s.seq, last);
      s.cached.push_back(p[s.prompt_pos]);
      ++s.prompt_pos;
      if (last) with_logits.push_back(&s);
    }
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
      sp->cached.clear();
      end_job(*sp, "error", st.message());
    }
    return;
  }
  const int64_t nv = engine_.model().config().n_vocab;
  int generated = 0;
  for (size_t i = 0; i < with_logits.size(); ++i) {
    Slot& s = *with_logits[i];
    if (!s.job) continue;
    const int32_t tok = s.sampler->sample(&logits[i * (size_t)nv]);
    s.sampler->accept(tok);
    ++generated;
    if (!s.out->push(tok, &s.st)) {
      s.out->finish(s.st);
      end_job(s, s.st.stop_reason == "n_predict" ? "length" : s.st.stop_reason == "callback" ? "cancelled" : "stop");
      continue;
    }
    if (s.out->done(&s.st)) {
      s.out->finish(s.st);
      end_job(s, "length");
      continue;
    }
    if ((int)s.cached.size() >= engine_.n_ctx()) {  // no position left for the pending token
      s.out->finish(s.st);
      end_job(s, "length");
      continue;
    }
    s.pending = tok;
  }
  std::lock_guard<std::mutex> lk(mu_);
  m_.busy_seconds += t1 - t0;
  recent_.push_back({t1, generated});
  while (!recent_.empty() && recent_.front().first < t1 - 5.0) recent_.pop_front();
  int n = 0;
  for (auto& r : recent_) n += r.second;
  m_.recent_tps = recent_.size() > 1 ? n / std::max(1e-3, t1 - recent_.front().first + (t1 - t0)) : generated / std::max(1e-6, t1 - t0);
}

}  // namespace pocket
