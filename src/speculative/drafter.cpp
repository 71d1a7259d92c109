#include "speculative/drafter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "quantize/quantize_model.h"

namespace pocket {

Status check_same_vocab(const Engine& target, const std::string& target_name, const Engine& draft, const std::string& draft_name) {
  const Vocab& a = target.tokenizer().vocab();
  const Vocab& b = draft.tokenizer().vocab();
  if (a.n_tokens() != b.n_tokens())
    return error(ErrorCode::kInvalidArgument, "draft " + draft_name + " has " + std::to_string(b.n_tokens()) + " tokens but the target " +
                                                  target_name + " has " + std::to_string(a.n_tokens()) +
                                                  ": speculative decoding needs the same vocabulary");
  for (int32_t i = 0; i < a.n_tokens(); ++i) {
    if (a.tokens[(size_t)i] != b.tokens[(size_t)i])
      return error(ErrorCode::kInvalidArgument, "draft " + draft_name + " and target " + target_name + " differ at token " + std::to_string(i) +
                                                    " ('" + b.tokens[(size_t)i] + "' vs '" + a.tokens[(size_t)i] +
                                                    "'): speculative decoding needs the same vocabulary");
  }
  return Status::ok();
}

Result<std::unique_ptr<ModelDrafter>> ModelDrafter::create(std::unique_ptr<Engine> draft, const Engine& target, std::string label) {
  POCKET_RETURN_IF_ERROR(check_same_vocab(target, target.model().file().name(), *draft, draft->model().file().name()));
  // Page the draft's weights in now (load time, like the target's mapping) so that the first rounds of
  // a generation, which the adaptive controller measures, do not pay for page faults.
  Batch warm;
  warm.add(std::max<int32_t>(draft->tokenizer().vocab().bos, 0), 0, 0, true);
  std::vector<float> logits;
  POCKET_RETURN_IF_ERROR(draft->eval(warm, &logits));
  draft->clear_kv();
  return std::unique_ptr<ModelDrafter>(new ModelDrafter(std::move(draft), std::move(label)));
}

void ModelDrafter::configure(const SamplingParams& sp, float p_min) {
  sp_ = sp;
  SamplingParams q = sp;  // the draft's q must be reproducible from its own state: no penalties
  q.repeat_penalty = 1.0f;
  q.frequency_penalty = 0.0f;
  q.presence_penalty = 0.0f;
  q.seed = sp.seed ^ 0x9e3779b97f4a7c15ull;
  sampler_ = std::make_unique<Sampler>(q, subset_.empty() ? (int32_t)draft_->model().config().n_vocab : (int32_t)subset_.size());
  p_min_ = p_min;
}

namespace {

// Whether the most likely token's probability under softmax(logits) (temperature 1) is below p_min:
// p_top = 1 / sum_i exp(l_i - l_max) < p_min  <=>  the sum exceeds 1 / p_min. Terms below e^-16
// are skipped (32000 of them add at most 0.004) and the scan stops as soon as the sum is too large.
bool low_confidence(const float* logits, int64_t n, float max_logit, float p_min) {
  const double limit = 1.0 / p_min;
  const float floor = max_logit - 16.0f;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (logits[i] < floor) continue;
    sum += std::exp((double)(logits[i] - max_logit));
    if (sum > limit) return true;
  }
  return false;
}

}  // namespace

Status ModelDrafter::propose(const std::vector<int32_t>& context, int max_tokens, Draft* out) {
  out->clear();
  if (!sampler_) configure(sp_, p_min_);
  const int n = (int)context.size();
  if (n == 0 || max_tokens <= 0 || n + max_tokens > draft_->n_ctx()) return Status::ok();
  // Keep the cached prefix that still matches; evaluate the rest of the context (at least its last token).
  size_t common = 0;
  while (common < cached_.size() && common + 1 < context.size() && cached_[common] == context[common]) ++common;
  KvCache& kv = draft_->kv();
  if (kv.window() > 0 && kv.seq_len(0) > kv.slots() && (size_t)kv.seq_len(0) - common > (size_t)(kv.slots() - kv.window())) {
    draft_->clear_kv();  // a ring cannot roll back that far
    common = 0;
  }
  kv.truncate(0, (int)common);
  cached_.resize(common);
  batch_.clear();
  for (size_t i = common; i < context.size(); ++i) batch_.add(context[i], (int32_t)i, 0, i + 1 == context.size());
  POCKET_RETURN_IF_ERROR(draft_->eval(batch_, &logits_, fo_));
  out->evaluated += batch_.size();
  cached_.insert(cached_.end(), context.begin() + (std::ptrdiff_t)common, context.end());

  const int64_t n_vocab = subset_.empty() ? draft_->model().config().n_vocab : (int64_t)subset_.size();
  auto global = [&](int32_t id) { return subset_.empty() ? id : subset_[(size_t)id]; };
  const bool greedy = sampler_->greedy();
  for (int i = 0; i < max_tokens; ++i) {
    int32_t tok;
    std::vector<std::pair<int32_t, float>> q;
    const Candidates& c = sampler_->probabilities(logits_.data());
    if (greedy) {
      tok = c.items[0].id;
      if (p_min_ > 0.0f && low_confidence(logits_.data(), n_vocab, c.items[0].logit, p_min_)) break;
    } else {
      if (p_min_ > 0.0f && c.items[0].p < p_min_) break;
      const double u = sampler_->uniform();
      double cum = 0.0;
      tok = c.items.back().id;
      for (const Candidate& x : c.items) {
        cum += x.p;
        if (u < cum) {
          tok = x.id;
          break;
        }
      }
      q.reserve(c.items.size());
      for (const Candidate& x : c.items) q.emplace_back(global(x.id), x.p);
    }
    const int32_t local = tok;
    tok = global(local);
    out->tokens.push_back(tok);
    out->q.push_back(std::move(q));
    if (i + 1 == max_tokens) break;  // the last draft token needs no evaluation yet
    batch_.clear();
    batch_.add(tok, (int32_t)cached_.size(), 0, true);
    POCKET_RETURN_IF_ERROR(draft_->eval(batch_, &logits_, fo_));
    ++out->evaluated;
    cached_.push_back(tok);
  }
  return Status::ok();
}

Status ModelDrafter::set_vocab_subset(std::vector<int32_t> ids) {
  const Matrix& out = draft_->model().weights().output;
  if (ids.empty()) {
    subset_.clear();
    fo_.head = nullptr;
    sampler_.reset();
    return Status::ok();
  }
  head_bytes_.resize(ids.size() * out.row_bytes);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= out.rows)
      return error(ErrorCode::kInvalidArgument, "draft vocabulary subset: token id " + std::to_string(ids[i]) + " outside the vocabulary");
    std::memcpy(head_bytes_.data() + i * out.row_bytes, out.row(ids[i]), out.row_bytes);
  }
  head_ = out;
  head_.rows = (int64_t)ids.size();
  head_.data = head_bytes_.data();
  head_.name = out.name + "[draft subset]";
  fo_.head = &head_;
  subset_ = std::move(ids);
  sampler_.reset();  // configure() again: the sampler's vocabulary changed
  cached_.clear();   // logits of the cached state were for the other head
  draft_->clear_kv();
  return Status::ok();
}

std::vector<int32_t> rank_vocabulary(const Tokenizer& tok, const std::string& text, int n) {
  const Vocab& v = tok.vocab();
  std::vector<int64_t> count((size_t)v.n_tokens(), 0);
  if (!text.empty())
    for (int32_t t : tok.encode(text, false, false)) ++count[(size_t)t];
  for (int32_t special : {v.bos, v.eos, v.eot})
    if (special >= 0) count[(size_t)special] = INT64_MAX;
  std::vector<int32_t> ids((size_t)v.n_tokens());
  for (int32_t i = 0; i < v.n_tokens(); ++i) ids[(size_t)i] = i;
  std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return count[(size_t)a] > count[(size_t)b]; });
  ids.resize((size_t)std::clamp(n, 1, v.n_tokens()));
  std::sort(ids.begin(), ids.end());  // head rows in id order: the same memory order as the full head
  return ids;
}

Status PromptLookupDrafter::propose(const std::vector<int32_t>& context, int max_tokens, Draft* out) {
  out->clear();
  const int n = (int)context.size();
  for (int g = std::min(max_ngram_, n - 1); g >= std::max(1, min_ngram_); --g) {
    const int32_t* tail = context.data() + n - g;
    // The most recent earlier occurrence of the last g tokens that has a continuation.
    for (int start = n - g - 1; start >= 0; --start) {
      if (!std::equal(tail, tail + g, context.data() + start)) continue;
      for (int j = start + g; j < n && (int)out->tokens.size() < max_tokens; ++j) {
        out->tokens.push_back(context[(size_t)j]);
        out->q.emplace_back();
      }
      return Status::ok();
    }
  }
  return Status::ok();
}

Result<std::unique_ptr<ModelDrafter>> self_draft_layers(const std::string& target_path, const Engine& target, int n_layers, const EngineOptions& eo) {
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Model> m, Model::load(target_path));
  if (n_layers >= m->config().n_layer)
    return field_error("self_layers", std::to_string(n_layers) + ": the target has only " + std::to_string(m->config().n_layer) +
                                          " layers; a self-draft must use fewer");
  POCKET_RETURN_IF_ERROR(m->keep_first_layers(n_layers));
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Engine> e, Engine::create(std::move(m), eo));
  return ModelDrafter::create(std::move(e), target, "self-draft: first " + std::to_string(n_layers) + " layers");
}

Result<std::unique_ptr<ModelDrafter>> self_draft_quantized(const std::string& target_path, const Engine& target, TensorType type,
                                                           const EngineOptions& eo) {
  QuantizeOptions qo;
  qo.type = type;
  // From the target's own mapping (its pages are resident already) into buffers the draft owns: the
  // bytes `pocket quantize --type` would write, without writing them.
  auto q = quantize_tensors(target.model().file(), qo);
  if (!q) return error(q.status().code(), "self-draft: " + q.status().message());
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Model> m, Model::load(target_path));
  POCKET_RETURN_IF_ERROR(m->replace_tensors(std::move(q).value()));
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Engine> e, Engine::create(std::move(m), eo));
  return ModelDrafter::create(std::move(e), target, std::string("self-draft: ") + traits(type).name + " copy");
}

Result<std::unique_ptr<Drafter>> make_drafter(const DraftSpec& spec, const std::string& target_path, const Engine& target, EngineOptions eo) {
  const int modes = (spec.model.empty() ? 0 : 1) + (spec.lookup ? 1 : 0) + (spec.self_layers > 0 ? 1 : 0) + (spec.self_type.empty() ? 0 : 1);
  if (modes == 0) return std::unique_ptr<Drafter>();
  if (modes > 1) return Status(ErrorCode::kInvalidArgument, "choose one of model, lookup, self_layers, self_type", "model");
  if (spec.vocab < 0) return field_error("vocab", "must be >= 0");
  if ((spec.vocab > 0 || !spec.vocab_text.empty()) && spec.lookup) return field_error("vocab", "applies to model drafts, not to lookup");
  if (spec.lookup) {
    if (spec.lookup_ngram < 1 || spec.lookup_ngram > 16) return field_error("lookup_ngram", "must be in 1..16");
    return std::unique_ptr<Drafter>(new PromptLookupDrafter(spec.lookup_ngram, 1));
  }
  eo.pool = target.shared_pool();  // measured: a 1-thread draft beside a 2-thread target is 0.7x as fast
  eo.n_ctx = target.n_ctx();
  eo.mem_budget = 0;  // the target's budget check covers the target; the draft is reported separately
  std::unique_ptr<ModelDrafter> d;
  if (spec.self_layers > 0) {
    POCKET_ASSIGN_OR_RETURN(d, self_draft_layers(target_path, target, spec.self_layers, eo));
  } else if (!spec.self_type.empty()) {
    const auto type = type_from_name(spec.self_type);
    if (!type || !traits(*type).from_float)
      return field_error("self_type", "'" + spec.self_type + "': not a type we can quantize to (q8_0, q4_0, q4_1, f16)");
    POCKET_ASSIGN_OR_RETURN(d, self_draft_quantized(target_path, target, *type, eo));
  } else {
    POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Engine> e, Engine::load(spec.model, eo));
    POCKET_ASSIGN_OR_RETURN(d, ModelDrafter::create(std::move(e), target, "draft " + spec.model.substr(spec.model.find_last_of('/') + 1)));
  }
  if (spec.vocab > 0 || !spec.vocab_text.empty()) {
    std::string text;
    if (!spec.vocab_text.empty()) {
      std::ifstream in(spec.vocab_text, std::ios::binary);
      if (!in) return Status(ErrorCode::kIoError, spec.vocab_text + ": cannot open the vocab_text file", "vocab_text");
      std::ostringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    }
    const int n = spec.vocab > 0 ? spec.vocab : 4096;
    POCKET_RETURN_IF_ERROR(d->set_vocab_subset(rank_vocabulary(target.tokenizer(), text, n)));
  }
  return std::unique_ptr<Drafter>(std::move(d));
}

}  // namespace pocket
