// Continuous batching for the server: N sequences share one model, one thread pool and one paged KV
// cache. Each step evaluates one batch holding the next prompt chunk of sequences still reading their
// prompt and the last sampled token of every generating one; requests beyond N wait in a queue. A new
// request takes the free sequence whose cached tokens share the longest prefix with its prompt, so a
// conversation's next turn re-reads only what is new. Every sequence decodes through the engine's one
// decode step (engine/sequence.h); with a drafter factory each sequence gets its own drafter and
// generates by speculative rounds (the pending token and its drafts verified in the shared batch).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "engine/sequence.h"
#include "speculative/speculative.h"

namespace pocket {

// One request's generation: the scheduler pushes text, the HTTP handler reads it.
class Job {
 public:
  Job(std::vector<int32_t> prompt, GenerateOptions opts) : prompt_(std::move(prompt)), opts_(std::move(opts)) {}
  const std::vector<int32_t>& prompt() const { return prompt_; }
  const GenerateOptions& options() const { return opts_; }

  // Reader side. Waits up to timeout_ms (0: not at all) for text; false once the job has ended and all
  // text was read.
  bool next(std::string* text, int timeout_ms);
  // Called (on the scheduler's thread, outside the job's lock) after each push and at the end; set it
  // before reading, or read once after setting it, so no wake-up is lost.
  void set_notify(std::function<void()> notify);
  // Marks the job: the scheduler ends it at its next step. The first call remembers how many tokens had
  // been generated, so the tokens generated after the cancel can be counted.
  void cancel();
  bool cancelled() const { return cancelled_; }
  int generated_at_cancel() const { return generated_at_cancel_; }
  // Valid after next() returned false.
  std::string finish_reason() const;  // "stop", "length", "cancelled" or "error"
  std::string error_message() const;
  int n_prompt() const { return n_prompt_; }
  int n_generated() const { return n_generated_; }
  int n_reused() const { return n_reused_; }  // prompt tokens whose KV was reused from an earlier request

  // Log-probabilities of the tokens generated since the last call (GenerateOptions::logprobs >= 0).
  void take_logprobs(std::vector<TokenLogprob>* out);

  // Scheduler side.
  void push(const std::string& text);
  void push_logprobs(const std::vector<TokenLogprob>& all);  // all so far: the new tail is kept
  void finish(const std::string& reason, int n_generated, const std::string& error = "");
  void set_reused(int n) { n_reused_ = n; }
  void set_progress(int n_generated) { progress_ = n_generated; }  // after each step

 private:
  std::vector<int32_t> prompt_;
  GenerateOptions opts_;
  std::atomic<bool> cancelled_{false};
  std::atomic<int> progress_{0}, generated_at_cancel_{0};
  mutable std::mutex mu_;
  std::function<void()> notify_;
  std::condition_variable cv_;
  std::deque<std::string> text_;
  std::vector<TokenLogprob> logprobs_;
  size_t logprobs_seen_ = 0;
  bool done_ = false;
  std::string reason_, error_;
  int n_prompt_ = (int)prompt_.size(), n_generated_ = 0, n_reused_ = 0;
};

struct SchedulerMetrics {
  uint64_t requests = 0, prompt_tokens = 0, generated_tokens = 0, reused_tokens = 0;
  uint64_t draft_tokens = 0, draft_accepted = 0;    // speculative decoding: drafts proposed and kept
  uint64_t cancelled = 0, tokens_after_cancel = 0;  // requests cancelled; tokens generated after their cancel
  double busy_seconds = 0;                          // time spent evaluating batches
  double recent_tps = 0;                            // generated tokens/s over the last few seconds
  int queued = 0, active = 0, n_parallel = 0;
  int kv_blocks_used = 0, kv_blocks_total = 0;
};

// Speculative decoding in the server: a drafter for each sequence (each keeps its own draft state).
struct ServerSpeculation {
  std::function<Result<std::unique_ptr<Drafter>>()> make_drafter;  // empty: plain decoding
  SpeculativeOptions options;
};

// The OpenAI finish_reason of a finished sequence: "stop", "length", "cancelled" or "error".
const char* openai_finish_reason(FinishReason r);

class Scheduler {
 public:
  // engine: created with EngineOptions::n_parallel = n_parallel (a paged cache with that many sequences).
  // Scheduler::create makes the drafters first (their errors are the caller's to report).
  static Result<std::unique_ptr<Scheduler>> create(Engine& engine, int n_parallel, int max_batch, const ServerSpeculation& spec = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request (prompt and options already checked: Sequence::check).
  std::shared_ptr<Job> submit(std::vector<int32_t> prompt, const GenerateOptions& opts);
  SchedulerMetrics metrics() const;

 private:
  struct Slot;
  Scheduler(Engine& engine, int max_batch, std::vector<std::unique_ptr<Slot>> slots, SpeculativeOptions so);
  void loop();
  void admit();
  void step();
  void count_kv_blocks();

  Engine& engine_;
  int max_batch_;
  std::vector<std::unique_ptr<Slot>> slots_;
  SpeculativeOptions spec_opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stop_ = false;
  SchedulerMetrics m_;
  std::deque<std::pair<double, int>> recent_;  // (time, tokens) of recent steps
  std::thread thread_;
};

}  // namespace pocket
