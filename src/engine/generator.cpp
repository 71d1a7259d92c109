#include "engine/generator.h"

#include "engine/token_output.h"

#include <cstdio>

#include <algorithm>
#include <chrono>

namespace pocket {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

// Without --ctx, long-context models get 4096 positions (as llama.cpp): the F32 KV cache of a
// 128k-context model would not fit a phone.
constexpr int64_t kDefaultMaxCtx = 4096;
constexpr int kUnlimitedWindowCtx = 1000000;

Result<std::unique_ptr<Engine>> Engine::load(const std::string& model_path, const EngineOptions& opts) {
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::load(model_path));
  return create(std::move(model), opts);
}

Result<std::unique_ptr<Engine>> Engine::create(std::unique_ptr<Model> model, const EngineOptions& options) {
  EngineOptions opts = options;
  if (opts.pool) opts.n_threads = opts.pool->size();
  if (opts.n_threads < 1 || opts.n_threads > 256) return error(ErrorCode::kInvalidArgument, "--threads must be in 1..256");
  if (opts.max_batch < 1 || opts.max_batch > 4096) return error(ErrorCode::kInvalidArgument, "--batch must be in 1..4096");
  if (opts.n_ctx < 0) return error(ErrorCode::kInvalidArgument, "--ctx must be >= 0");
  std::unique_ptr<Engine> e(new Engine());
  const ModelConfig& c = model->config();
  POCKET_ASSIGN_OR_RETURN(Vocab vocab, read_vocab(model->file()));
  if (vocab.n_tokens() != c.n_vocab)
    return error(ErrorCode::kFormatError, model->file().name() + ": tokenizer.ggml.tokens: " + std::to_string(vocab.n_tokens()) +
                                              " tokens but the embedding has " + std::to_string(c.n_vocab) + " rows");
  POCKET_ASSIGN_OR_RETURN(e->tokenizer_, Tokenizer::create(std::move(vocab)));
  const int window = opts.kv_window > 0 ? opts.kv_window : opts.kv_window == 0 ? (int)c.sliding_window : 0;
  if (window > 0 && (opts.kv_sinks < 0 || opts.kv_sinks >= window))
    return error(ErrorCode::kInvalidArgument, "--kv-sinks must be in 0.." + std::to_string(window - 1) + " (below the window)");
  e->n_ctx_ = opts.n_ctx > 0 ? opts.n_ctx : window > 0 ? kUnlimitedWindowCtx : (int)std::min<int64_t>(c.n_ctx_train, kDefaultMaxCtx);
  // The cache is allocated up front: refuse sizes that cannot be meant before touching memory.
  if (c.head_dim > kMaxHeadDim)
    return error(ErrorCode::kUnsupported, model->file().name() + ": head dimension " + std::to_string(c.head_dim) + " exceeds " + std::to_string(kMaxHeadDim));
  KvCacheConfig kc;
  kc.n_layer = (int)c.n_layer;
  kc.n_head_kv = c.n_head_kv;
  kc.head_dim = c.head_dim;
  kc.n_ctx = e->n_ctx_;
  kc.n_seq = 1;
  kc.k_type = opts.kv_k_type;
  kc.v_type = opts.kv_v_type;
  if (window > 0 && window < e->n_ctx_) {
    kc.window = window;
    kc.sinks = opts.kv_sinks;
    kc.slack = opts.max_batch - 1;
  }
  size_t kv_data = 0, kv_scales = 0;
  kv_cache_bytes(kc, &kv_data, &kv_scales);
  const double kv_bytes = (double)kv_data + (double)kv_scales;
  if (kv_bytes > 64.0 * (1ull << 30))
    return error(ErrorCode::kResourceLimit, "context " + std::to_string(e->n_ctx_) + " needs a " + std::to_string((long long)(kv_bytes / (1 << 20))) + " MiB KV cache; refusing");
  const int span = kc.window > 0 ? std::min(kc.n_ctx, kc.window) : kc.n_ctx;
  MemoryPlan& mp = e->memory_;
  mp.weights = model->weight_bytes();
  mp.kv_values = kv_data;
  mp.kv_scales = kv_scales;
  mp.activations = scratch_bytes(c, opts.max_batch, span, opts.n_threads);
  mp.logits = (size_t)c.n_vocab * sizeof(float);  // generation reads one row; perplexity's scored rows come on top
  if (opts.mem_budget > 0 && mp.total() > opts.mem_budget) {
    auto mib = [](double b) { char buf[32]; std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1 << 20)); return std::string(buf); };
    const double fixed = (double)(mp.weights + mp.activations + mp.logits);
    const double per_pos = (double)(kv_data + kv_scales) / (double)std::max(1, kc.slots());
    std::string hint;
    if (fixed >= (double)opts.mem_budget) hint = "the weights and activations alone exceed it: use a smaller weight type (pocket quantize) or --batch";
    else hint = "fits with --ctx " + std::to_string((long long)(((double)opts.mem_budget - fixed) / per_pos)) + " or a smaller --kv-type";
    return error(ErrorCode::kResourceLimit, "--mem-budget " + mib((double)opts.mem_budget) + ": weights " + mib((double)mp.weights) + " + KV cache " +
                                                mib((double)(kv_data + kv_scales)) + " (" + kv_type_name(kc.k_type) + "/" + kv_type_name(kc.v_type) + ", " +
                                                std::to_string(kc.slots()) + " positions) + activations " + mib((double)mp.activations) + " + logits " +
                                                mib((double)mp.logits) + " = " + mib((double)mp.total()) + " exceed it; " + hint);
  }
  e->pool_ = opts.pool ? opts.pool : std::make_shared<ThreadPool>(opts.n_threads);
  e->kv_ = std::make_unique<ContiguousKvCache>(kc);
  e->scratch_ = std::make_unique<Scratch>(c, opts.max_batch, e->kv_->attention_span(), opts.n_threads);
  e->model_ = std::move(model);
  return e;
}

Status Engine::eval(const Batch& batch, std::vector<float>* logits, const ForwardOptions& fo) {
  return forward(*model_, batch, *kv_, *scratch_, *pool_, logits, fo);
}

Status Engine::check_prompt(const std::vector<int32_t>& prompt) const {
  if (prompt.empty()) return error(ErrorCode::kInvalidArgument, "empty prompt: nothing to condition on (the model adds no BOS)");
  if ((int)prompt.size() > n_ctx_)
    return error(ErrorCode::kOutOfRange, "prompt has " + std::to_string(prompt.size()) + " tokens but the context is " + std::to_string(n_ctx_) + " (use --ctx)");
  for (int32_t t : prompt) {
    if (t < 0 || t >= model_->config().n_vocab) return error(ErrorCode::kInvalidArgument, "prompt token id " + std::to_string(t) + " outside the vocabulary");
  }
  return Status::ok();
}

Result<GenerateStats> Engine::generate(const std::string& prompt, const GenerateOptions& opts, const TextCallback& on_text,
                                       std::vector<int32_t>* generated_ids) {
  return generate_tokens(tokenizer_->encode(prompt, true, false), opts, on_text, generated_ids);
}

Result<GenerateStats> Engine::generate_tokens(const std::vector<int32_t>& prompt, const GenerateOptions& opts,
                                              const TextCallback& on_text, std::vector<int32_t>* generated_ids) {
  POCKET_RETURN_IF_ERROR(opts.sampling.validate());
  POCKET_RETURN_IF_ERROR(check_prompt(prompt));
  const ModelConfig& c = model_->config();
  kv_->clear();
  GenerateStats st;
  st.n_prompt = (int)prompt.size();
  Sampler sampler(opts.sampling, (int32_t)c.n_vocab);
  for (int32_t t : prompt) sampler.accept(t);
  const int limit = opts.n_predict < 0 ? n_ctx_ : opts.n_predict;
  TokenOutput out(*tokenizer_, opts, on_text, generated_ids, prompt.back(), limit);

  // Prefill: the whole prompt in one batch, logits for the last position only.
  Batch batch;
  for (size_t i = 0; i < prompt.size(); ++i) batch.add(prompt[i], (int32_t)i, 0, i + 1 == prompt.size());
  std::vector<float> logits;
  double t0 = now_seconds();
  POCKET_RETURN_IF_ERROR(eval(batch, &logits));
  st.prompt_seconds = now_seconds() - t0;

  t0 = now_seconds();
  int pos = (int)prompt.size();
  while (!out.done(&st)) {
    const int32_t tok = sampler.sample(logits.data());
    sampler.accept(tok);
    if (!out.push(tok, &st)) break;
    if (pos >= n_ctx_) { st.stop_reason = "context"; break; }
    batch.clear();
    batch.add(tok, pos++, 0, true);
    POCKET_RETURN_IF_ERROR(eval(batch, &logits));
  }
  out.finish(st);
  st.generate_seconds = now_seconds() - t0;
  return st;
}

}  // namespace pocket
