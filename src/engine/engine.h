// Engine: a loaded model + tokenizer + one sequence's KV cache, scratch and thread pool;
// generate() drives prefill -> decode -> sample -> stream.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/generation.h"
#include "engine/memory_plan.h"
#include "kv/kv_cache.h"
#include "model/forward.h"
#include "model/model_weights.h"
#include "model/scratch.h"
#include "runtime/thread_pool.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace pocket {

// The model's tokenizer (its vocabulary checked against the embedding).
Result<std::shared_ptr<const Tokenizer>> load_tokenizer(const Model& model);

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> load(const std::string& model_path, const EngineOptions& opts);
  // Several engines may share one model and tokenizer (the C API's sessions): both are read-only here.
  // tokenizer == nullptr: built from the model's vocabulary.
  static Result<std::unique_ptr<Engine>> create(std::shared_ptr<const Model> model, const EngineOptions& opts,
                                                std::shared_ptr<const Tokenizer> tokenizer = nullptr);

  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const std::shared_ptr<const Model>& shared_model() const { return model_; }
  const std::shared_ptr<const Tokenizer>& shared_tokenizer() const { return tokenizer_; }
  const EngineOptions& options() const { return opts_; }
  int n_ctx() const { return n_ctx_; }
  const MemoryPlan& memory() const { return memory_; }
  KvCache& kv() { return *kv_; }
  const KvCache& kv() const { return *kv_; }
  ThreadPool& pool() { return *pool_; }
  const std::shared_ptr<ThreadPool>& shared_pool() const { return pool_; }

  // Evaluates a batch on this engine's cache (clear_kv() to start over).
  Status eval(const Batch& batch, std::vector<float>* logits, const ForwardOptions& fo = {});
  void clear_kv() { kv_->clear(); }

  // An embedding of tokens (from position 0 of a cleared cache): the final-norm hidden states, mean- or
  // last-token pooled, optionally L2-normalised. logits (optional) gets the last position's row.
  Status embed(const std::vector<int32_t>& tokens, bool mean, bool normalize, std::vector<float>* out, std::vector<float>* logits = nullptr);

  // The vocabulary as grammars see it (each token's text; control tokens never match; EOS/EOT end a
  // complete output), built on first use; and GBNF compiled against it (for SamplingParams::grammar).
  std::shared_ptr<const GrammarVocab> grammar_vocab() const;
  Result<std::shared_ptr<Grammar>> compile_grammar(const std::string& gbnf) const;

  // Error for an empty prompt, one longer than the context, or token ids outside the vocabulary.
  Status check_prompt(const std::vector<int32_t>& prompt) const;

  // Tokenizes prompt (with BOS when the vocabulary asks), runs it and generates.
  Result<GenerateStats> generate(const std::string& prompt, const GenerateOptions& opts, const TextCallback& on_text,
                                 std::vector<int32_t>* generated_ids = nullptr);
  Result<GenerateStats> generate_tokens(const std::vector<int32_t>& prompt, const GenerateOptions& opts, const TextCallback& on_text,
                                        std::vector<int32_t>* generated_ids = nullptr);

 private:
  std::shared_ptr<const Model> model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  EngineOptions opts_;  // as given (pool: only when it was given one)
  std::shared_ptr<ThreadPool> pool_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<Scratch> scratch_;
  int n_ctx_ = 0;
  MemoryPlan memory_;
  mutable std::once_flag grammar_once_;
  mutable std::shared_ptr<const GrammarVocab> grammar_vocab_;
};

}  // namespace pocket
