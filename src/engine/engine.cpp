#include "engine/engine.h"

#include "core/timing.h"
#include "engine/sequence.h"
#include "kernels/kernel_choice.h"
#include "kernels/kernel_table.h"

#include <cstdio>

#include <algorithm>
#include <cmath>
#include <chrono>

namespace pocket {

Result<std::unique_ptr<Engine>> Engine::load(const std::string& model_path, const EngineOptions& opts) {
  POCKET_RETURN_IF_ERROR(check_kernel_environment());  // before the model is read: a typo costs no load
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::load(model_path));
  return create(std::move(model), opts);
}

Result<std::unique_ptr<Engine>> Engine::create(std::shared_ptr<const Model> model, const EngineOptions& options,
                                               std::shared_ptr<const Tokenizer> tokenizer) {
  POCKET_RETURN_IF_ERROR(check_kernel_environment());
  EngineOptions opts = options;
  if (opts.pool) opts.n_threads = opts.pool->size();
  const ModelConfig& c = model->config();
  Result<EnginePlan> plan = plan_engine(c, model->weight_bytes(), opts);
  if (!plan.is_ok()) {
    const Status& s = plan.status();
    // Shape problems belong to the file; option problems are the caller's (they name the flag).
    if (s.code() == ErrorCode::kUnsupported) return error(s.code(), model->file().name() + ": " + s.message());
    return s;
  }
  // The decode variant (kernels/kernel_choice: the cache, or a probe of < 1 s on a new machine) is settled
  // at load, not inside the first token's time, and before the engine allocates: the probe's buffer
  // (2 x L3) is freed before the KV cache and scratch exist, so it never adds to them.
  model->pack_weights(kernels(), kernel_choice(kernels()), opts.n_threads);  // once per model: the engines sharing it share the packed copy
  std::unique_ptr<Engine> e(new Engine());
  if (tokenizer) {
    if (tokenizer->vocab().n_tokens() != c.n_vocab)
      return error(ErrorCode::kInvalidArgument, model->file().name() + ": the tokenizer given has " + std::to_string(tokenizer->vocab().n_tokens()) +
                                                    " tokens but the embedding has " + std::to_string(c.n_vocab) + " rows");
    e->tokenizer_ = std::move(tokenizer);
  } else {
    POCKET_ASSIGN_OR_RETURN(e->tokenizer_, load_tokenizer(*model));
  }
  e->n_ctx_ = plan.value().n_ctx;
  e->memory_ = plan.value().memory;
  const KvCacheConfig kc = plan.value().kv;
  e->pool_ = opts.pool ? opts.pool : std::make_shared<ThreadPool>(opts.n_threads);
  if (plan.value().kv_blocks > 0)
    e->kv_ = std::make_unique<PagedKvCache>(kc, kKvBlockSize, plan.value().kv_blocks);
  else
    e->kv_ = std::make_unique<ContiguousKvCache>(kc);
  e->scratch_ = std::make_unique<Scratch>(c, opts.max_batch, e->kv_->attention_span(), opts.n_threads);
  e->opts_ = opts;
  e->model_ = std::move(model);
  return e;
}

Result<std::shared_ptr<const Tokenizer>> load_tokenizer(const Model& model) {
  POCKET_ASSIGN_OR_RETURN(Vocab vocab, read_vocab(model.file()));
  if (vocab.n_tokens() != model.config().n_vocab)
    return error(ErrorCode::kFormatError, model.file().name() + ": tokenizer.ggml.tokens: " + std::to_string(vocab.n_tokens()) +
                                              " tokens but the embedding has " + std::to_string(model.config().n_vocab) + " rows");
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> t, Tokenizer::create(std::move(vocab)));
  return std::shared_ptr<const Tokenizer>(std::move(t));
}

Status Engine::eval(const Batch& batch, std::vector<float>* logits, const ForwardOptions& fo) {
  return forward(*model_, batch, *kv_, *scratch_, *pool_, logits, fo);
}

Status Engine::check_prompt(const std::vector<int32_t>& prompt) const {
  if (prompt.empty()) return error(ErrorCode::kInvalidArgument, "empty prompt: nothing to condition on (the model adds no BOS)");
  if ((int)prompt.size() > n_ctx_)
    return Status(ErrorCode::kOutOfRange,
                  "prompt has " + std::to_string(prompt.size()) + " tokens but the context is " + std::to_string(n_ctx_) + " (raise n_ctx)", "n_ctx");
  for (int32_t t : prompt) {
    if (t < 0 || t >= model_->config().n_vocab)
      return error(ErrorCode::kInvalidArgument, "prompt token id " + std::to_string(t) + " outside the vocabulary");
  }
  return Status::ok();
}

Result<GenerateStats> Engine::generate(const std::string& prompt, const GenerateOptions& opts, const TextCallback& on_text,
                                       std::vector<int32_t>* generated_ids) {
  return generate_tokens(tokenizer_->encode(prompt, true, false), opts, on_text, generated_ids);
}

Result<GenerateStats> Engine::generate_tokens(const std::vector<int32_t>& prompt, const GenerateOptions& opts, const TextCallback& on_text,
                                              std::vector<int32_t>* generated_ids) {
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Sequence> seq, Sequence::start(*this, prompt, opts, on_text, generated_ids));
  kv_->clear();
  // Prefill: the whole prompt in one batch, logits for the last position only.
  Batch batch;
  seq->add_to_batch(batch, 0, seq->n_prompt());
  std::vector<float> logits;
  double t0 = now_seconds();
  POCKET_RETURN_IF_ERROR(eval(batch, &logits));
  seq->stats().prompt_seconds = now_seconds() - t0;

  t0 = now_seconds();
  while (seq->step(logits.data())) {
    batch.clear();
    seq->add_to_batch(batch, 0, 1);
    POCKET_RETURN_IF_ERROR(eval(batch, &logits));
  }
  seq->stats().generate_seconds = now_seconds() - t0;
  if (seq->finish_reason() == FinishReason::kError && !seq->error().empty()) return Status(ErrorCode::kInvalidArgument, seq->error(), "grammar");
  return seq->stats();
}

}  // namespace pocket

namespace pocket {

std::shared_ptr<const GrammarVocab> Engine::grammar_vocab() const {
  std::call_once(grammar_once_, [this] {
    const Vocab& v = tokenizer_->vocab();
    std::vector<std::string> bytes((size_t)v.n_tokens());
    std::vector<bool> control((size_t)v.n_tokens(), false);
    for (int32_t i = 0; i < v.n_tokens(); ++i) {
      const TokenAttr a = v.attrs[(size_t)i];
      control[(size_t)i] = a == TokenAttr::kControl || a == TokenAttr::kUnused || a == TokenAttr::kUnknown;
      if (!control[(size_t)i]) bytes[(size_t)i] = tokenizer_->token_to_piece(i);
    }
    std::vector<int32_t> ends;
    for (int32_t e : {v.eos, v.eot})
      if (e >= 0 && std::find(ends.begin(), ends.end(), e) == ends.end()) ends.push_back(e);
    grammar_vocab_ = GrammarVocab::build(std::move(bytes), std::move(control), std::move(ends));
  });
  return grammar_vocab_;
}

Status Engine::embed(const std::vector<int32_t>& tokens, bool mean, bool normalize, std::vector<float>* out, std::vector<float>* logits) {
  POCKET_RETURN_IF_ERROR(check_prompt(tokens));
  kv_->clear();
  const ModelConfig& c = model_->config();
  const std::string last = "blk." + std::to_string(c.n_layer - 1) + ".out";
  const int64_t d = c.n_embd;
  std::vector<double> sum((size_t)d, 0.0);
  std::vector<float> normed((size_t)d);
  const KernelTable& kt = kernels();
  const float* norm_w = model_->weights().output_norm.data();
  const int n = (int)tokens.size();
  ActivationHook hook = [&](const std::string& name, int entry, const float* x, int64_t width) {
    if (width != d || name != last || (!mean && entry != n - 1)) return;
    kt.rmsnorm(x, norm_w, normed.data(), d, c.rms_eps);
    for (int64_t i = 0; i < d; ++i) sum[(size_t)i] += normed[(size_t)i];
  };
  Batch batch;
  for (int i = 0; i < n; ++i) batch.add(tokens[(size_t)i], i, 0, i + 1 == n);
  ForwardOptions fo;
  fo.hook = &hook;
  std::vector<float> rows;
  POCKET_RETURN_IF_ERROR(eval(batch, logits ? logits : &rows, fo));
  out->assign((size_t)d, 0.0f);
  double norm2 = 0.0;
  for (int64_t i = 0; i < d; ++i) {
    const double v = sum[(size_t)i] / (mean ? n : 1);
    (*out)[(size_t)i] = (float)v;
    norm2 += v * v;
  }
  if (normalize && norm2 > 0)
    for (float& v : *out) v = (float)(v / std::sqrt(norm2));
  return Status::ok();
}

Result<std::shared_ptr<Grammar>> Engine::compile_grammar(const std::string& gbnf) const { return Grammar::compile(gbnf, grammar_vocab()); }

}  // namespace pocket
