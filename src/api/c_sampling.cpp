// The sampler chain for callers that drive decoding themselves.
#include "api/c_handles.h"
#include "api/c_options.h"

using namespace pocket;
using namespace pocket::capi;

extern "C" {

POCKET_API pocket_status pocket_sampler_new(const pocket_model* model, const pocket_sampling_params* params, pocket_sampler** out) {
  static const char* fn = "pocket_sampler_new";
  return guarded(fn, [&]() -> pocket_status {
    if (out == nullptr) return null_arg(fn, "out");
    *out = nullptr;
    if (model == nullptr) return null_arg(fn, "model");
    SamplingParams sp;
    if (pocket_status s = sampling_params(fn, params, &sp)) return s;
    auto smp = std::make_unique<pocket_sampler>();
    smp->n_vocab = (int32_t)model->model->config().n_vocab;
    smp->sampler = std::make_unique<Sampler>(sp, smp->n_vocab);
    *out = smp.release();
    return POCKET_OK;
  });
}

POCKET_API pocket_status pocket_sampler_sample(pocket_sampler* sampler, const float* logits, int32_t n_vocab, pocket_token* out) {
  static const char* fn = "pocket_sampler_sample";
  return guarded(fn, [&]() -> pocket_status {
    if (sampler == nullptr) return null_arg(fn, "sampler");
    if (logits == nullptr) return null_arg(fn, "logits");
    if (out == nullptr) return null_arg(fn, "out");
    if (n_vocab != sampler->n_vocab)
      return set_error(POCKET_ERR_INVALID_ARGUMENT, std::string(fn) + ": n_vocab is " + std::to_string(n_vocab) + " but the model's vocabulary has " +
                                                        std::to_string(sampler->n_vocab));
    *out = sampler->sampler->sample(logits);
    return POCKET_OK;
  });
}

POCKET_API pocket_status pocket_sampler_accept(pocket_sampler* sampler, pocket_token token) {
  static const char* fn = "pocket_sampler_accept";
  return guarded(fn, [&]() -> pocket_status {
    if (sampler == nullptr) return null_arg(fn, "sampler");
    if (token < 0 || token >= sampler->n_vocab)
      return set_error(POCKET_ERR_OUT_OF_RANGE, std::string(fn) + ": token id " + std::to_string(token) + " outside the vocabulary");
    sampler->sampler->accept(token);
    return POCKET_OK;
  });
}

POCKET_API void pocket_sampler_reset(pocket_sampler* sampler) {
  if (sampler) sampler->sampler->reset();
}

POCKET_API void pocket_sampler_free(pocket_sampler* sampler) { delete sampler; }

}  // extern "C"
