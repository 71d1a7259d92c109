#include "quantize/mixed_precision.h"

#include <algorithm>
#include <cmath>

#include "engine/engine.h"
#include "dtype/group_codec.h"

namespace pocket {
namespace {

// Log-probabilities of the scored positions (second half of each chunk, as perplexity scores them).
Status run_logprobs(Engine& e, const std::vector<int32_t>& tokens, int n_ctx, int n_chunks, std::vector<float>* out) {
  const Vocab& v = e.tokenizer().vocab();
  const int64_t n_vocab = e.model().config().n_vocab;
  out->clear();
  std::vector<float> logits;
  for (int ch = 0; ch < n_chunks; ++ch) {
    Batch b;
    for (int j = 0; j < n_ctx; ++j) {
      int32_t t = tokens[(size_t)ch * n_ctx + j];
      if (j == 0 && v.add_bos && v.bos >= 0) t = v.bos;
      b.add(t, j, 0, j >= n_ctx / 2);
    }
    e.clear_kv();
    POCKET_RETURN_IF_ERROR(e.eval(b, &logits));
    const size_t rows = logits.size() / (size_t)n_vocab;
    for (size_t r = 0; r < rows; ++r) {
      const float* x = &logits[r * (size_t)n_vocab];
      float mx = x[0];
      for (int64_t i = 1; i < n_vocab; ++i) mx = std::max(mx, x[i]);
      double sum = 0;
      for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp((double)x[i] - mx);
      const float lse = (float)(std::log(sum) + mx);
      for (int64_t i = 0; i < n_vocab; ++i) out->push_back(x[i] - lse);
    }
  }
  return Status::ok();
}

double mean_kl(const std::vector<float>& base, const std::vector<float>& q, int64_t n_vocab) {
  const size_t rows = base.size() / (size_t)n_vocab;
  double total = 0;
  for (size_t r = 0; r < rows; ++r) {
    double k = 0;
    for (int64_t i = 0; i < n_vocab; ++i) {
      const size_t j = r * (size_t)n_vocab + (size_t)i;
      k += std::exp((double)base[j]) * ((double)base[j] - (double)q[j]);
    }
    total += k;
  }
  return rows ? total / (double)rows : 0.0;
}

}  // namespace

Result<std::vector<TensorSensitivity>> measure_sensitivity(const std::string& model_path, const std::string& text,
                                                           const std::vector<std::string>& candidates, const SensitivityOptions& opts) {
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::load(model_path));
  Model* m = model.get();  // stays owned by the engine
  EngineOptions eo;
  eo.n_threads = opts.n_threads;
  eo.n_ctx = opts.n_ctx;
  eo.max_batch = 256;
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Engine> e, Engine::create(std::move(model), eo));
  const int n_ctx = e->n_ctx();
  const std::vector<int32_t> tokens = e->tokenizer().encode(text, true, false);
  const int n_chunks = std::min<int>(opts.n_chunks, (int)(tokens.size() / (size_t)n_ctx));
  if (n_chunks < 1)
    return error(ErrorCode::kOutOfRange, "mixed precision: the calibration text is shorter than one chunk of " + std::to_string(n_ctx) + " tokens");
  std::vector<float> base, q;
  POCKET_RETURN_IF_ERROR(run_logprobs(*e, tokens, n_ctx, n_chunks, &base));
  const int64_t n_vocab = m->config().n_vocab;
  std::vector<TensorSensitivity> out;
  std::vector<float> row;
  for (const std::string& name : candidates) {
    const TensorView* t = m->file().find_tensor(name);
    if (t == nullptr || t->n_dims != 2) continue;
    const TypeTraits& src = traits(t->type);
    if (src.to_float == nullptr) continue;
    const int64_t cols = t->ne[0], rows = t->n_rows();
    POCKET_ASSIGN_OR_RETURN(GroupCodec codec, GroupCodec::make(opts.low, opts.group, cols));
    const size_t rb = row_bytes(traits(opts.low), cols);
    std::vector<uint8_t> bytes((size_t)rows * rb);
    row.resize((size_t)cols);
    for (int64_t r = 0; r < rows; ++r) {
      src.to_float(t->data + (size_t)r * row_bytes(src, cols), row.data(), cols);
      codec.quantize_row(row.data(), bytes.data() + (size_t)r * rb);
    }
    POCKET_RETURN_IF_ERROR(m->set_matrix_data(name, opts.low, bytes.data()));
    const Status st = run_logprobs(*e, tokens, n_ctx, n_chunks, &q);
    POCKET_RETURN_IF_ERROR(m->set_matrix_data(name, t->type, nullptr));
    POCKET_RETURN_IF_ERROR(st);
    TensorSensitivity s;
    s.name = name;
    s.bytes_low = bytes.size();
    s.bytes_high = (size_t)rows * row_bytes(traits(opts.high), cols);
    s.kld = mean_kl(base, q, n_vocab);
    out.push_back(s);
  }
  return out;
}

std::map<std::string, TensorType> allocate_mixed_precision(const std::vector<TensorSensitivity>& s, size_t base_bytes, size_t budget_bytes,
                                                           TensorType low, TensorType high) {
  std::map<std::string, TensorType> chosen;
  size_t total = base_bytes;
  for (const TensorSensitivity& t : s) {
    chosen[t.name] = low;
    total += t.bytes_low;
  }
  std::vector<const TensorSensitivity*> order;
  for (const TensorSensitivity& t : s) order.push_back(&t);
  auto gain = [](const TensorSensitivity* t) {
    const double extra = (double)t->bytes_high - (double)t->bytes_low;
    return extra > 0 ? std::max(0.0, t->kld) / extra : 0.0;
  };
  std::stable_sort(order.begin(), order.end(), [&](const TensorSensitivity* a, const TensorSensitivity* b) { return gain(a) > gain(b); });
  for (const TensorSensitivity* t : order) {
    if (t->bytes_high <= t->bytes_low) continue;
    const size_t extra = t->bytes_high - t->bytes_low;
    if (total + extra > budget_bytes) continue;  // a smaller one further down may still fit
    total += extra;
    chosen[t->name] = high;
  }
  return chosen;
}

}  // namespace pocket
