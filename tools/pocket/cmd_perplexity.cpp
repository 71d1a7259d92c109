// pocket perplexity: llama.cpp-compatible perplexity, optionally with KL divergence to a base model.
#include <cstdio>

#include "commands.h"
#include "eval/perplexity.h"

namespace pocket::cli {

Runner register_perplexity(CLI::App& app) {
  struct Args {
    std::string model, file, base;
    EngineOptions engine;  // -c, -t, -b; the KV flags on top
    PerplexityOptions opts;
    KvFlags kv;
  };
  auto a = std::make_shared<Args>();
  a->engine.max_batch = 512;
  CLI::App* sub = app.add_subcommand("perplexity", "perplexity of a text (llama.cpp's method), optionally KL divergence to a base model");
  sub->add_option("-m,--model", a->model, "GGUF model")->required()->check(CLI::ExistingFile);
  sub->add_option("-f,--file", a->file, "text file")->required()->check(CLI::ExistingFile);
  sub->add_option("-c,--ctx", a->engine.n_ctx, "chunk size in tokens (0: the model's context)")->check(CLI::Range(0, 1 << 20));
  sub->add_option("--chunks", a->opts.n_chunks, "chunks to score (-1: all)")->check(CLI::Range(-1, 1 << 30));
  sub->add_option("-t,--threads", a->engine.n_threads, "threads")->check(CLI::Range(1, 256));
  sub->add_option("-b,--batch", a->engine.max_batch, "tokens per forward chunk")->check(CLI::Range(1, 4096));
  add_kv_flags(sub, &a->kv);
  sub->add_option("--kl-base", a->base, "base model: also report mean KL divergence and same-top-token rate")->check(CLI::ExistingFile);
  return [a] {
    auto text = read_text_file(a->file);
    if (!text) return fail(text.status());
    EngineOptions eo = a->engine;
    std::string kv_err;
    if (!apply_kv_flags(a->kv, &eo, &kv_err)) return fail(kv_err);
    auto e = Engine::load(a->model, eo);
    if (!e) return fail(e.status());
    std::unique_ptr<Engine> base;
    if (!a->base.empty()) {
      eo.n_ctx = e.value()->n_ctx();
      eo.kv_k_type = eo.kv_v_type = KvType::kF32;  // the reference keeps an exact, full cache
      eo.kv_window = -1;
      auto b = Engine::load(a->base, eo);
      if (!b) return fail(b.status());
      base = std::move(b.value());
    }
    auto r = compute_perplexity(*e.value(), text.value(), a->opts, base.get(),
                                [](int done, int total, double ppl) { std::fprintf(stderr, "\r[%d/%d] ppl %.4f   ", done, total, ppl); });
    std::fprintf(stderr, "\n");
    if (!r) return fail(r.status());
    const PerplexityResult& p = r.value();
    std::printf("perplexity: %.4f +/- %.5f  (%d chunks x %d tokens, %lld scored, %.1f s)\n", p.ppl, p.ppl_err, p.n_chunks, p.n_ctx,
                (long long)p.n_scored, p.seconds);
    if (p.has_base) {
      std::printf("vs base: base perplexity %.4f, mean KL divergence %.6f +/- %.6f, same top token %.2f %%\n", p.base_ppl, p.kld_mean, p.kld_err,
                  100.0 * p.same_top);
      std::printf("vs base: PPL - PPL(base) = %.4f +/- %.4f (paired), ln(PPL/PPL(base)) = %.5f +/- %.5f\n", p.delta_ppl(), p.delta_ppl_err(),
                  p.ln_ratio, p.ln_ratio_err);
    }
    return 0;
  };
}

}  // namespace pocket::cli
