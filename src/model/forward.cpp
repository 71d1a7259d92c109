#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/check.h"
#include "model/activation.h"
#include "model/ops.h"

namespace pocket {
namespace {

Status validate(const ModelConfig& c, const Batch& batch, const KvCache& kv) {
  thread_local std::vector<int> next;  // reused: a decode step allocates nothing
  next.assign((size_t)kv.n_seq(), 0);
  for (int s = 0; s < kv.n_seq(); ++s) next[(size_t)s] = kv.seq_len(s);
  for (int i = 0; i < batch.size(); ++i) {
    const BatchEntry& e = batch.entries[(size_t)i];
    auto where = [i] { return "batch entry " + std::to_string(i) + ": "; };  // built only for an error
    if (e.token < 0 || e.token >= c.n_vocab)
      return error(ErrorCode::kInvalidArgument,
                   where() + "token id " + std::to_string(e.token) + " outside the vocabulary (0.." + std::to_string(c.n_vocab - 1) + ")");
    if (e.seq < 0 || e.seq >= kv.n_seq())
      return error(ErrorCode::kInvalidArgument, where() + "sequence " + std::to_string(e.seq) + " outside 0.." + std::to_string(kv.n_seq() - 1));
    if (e.pos >= kv.n_ctx())
      return error(ErrorCode::kOutOfRange, where() + "position " + std::to_string(e.pos) + " exceeds the context size " + std::to_string(kv.n_ctx()));
    if (e.pos != next[(size_t)e.seq])
      return error(ErrorCode::kInvalidArgument, where() + "position " + std::to_string(e.pos) + " does not continue sequence " +
                                                    std::to_string(e.seq) + " (expected " + std::to_string(next[(size_t)e.seq]) + ")");
    next[(size_t)e.seq] = e.pos + 1;
  }
  return Status::ok();
}

struct Runner {
  const Model& m;
  const ModelConfig& c;
  const KernelTable& kt;
  const KernelChoice& kc;  // decode variant per weight type and row width
  KvCache& kv;
  Scratch& s;
  ThreadPool& pool;
  const ActivationHook* hook;
  const Matrix& head;

  // The name ("blk.L.what") is built only when a hook listens: nothing allocates per layer per token otherwise.
  void dump(int layer, const char* what, int n, const float* data, int64_t width, int entry0) const {
    if (hook == nullptr) return;
    const std::string name = "blk." + std::to_string(layer) + "." + what;
    for (int t = 0; t < n; ++t) (*hook)(name, entry0 + t, data + (size_t)t * width, width);
  }

  // fn(t) for every token row t < n: split among the threads for prompt batches, in order on this
  // thread otherwise. A row's arithmetic does not depend on which thread runs it.
  template <class Fn>
  void each_row(int n, Fn&& fn) {
    if (pool.size() > 1 && n >= 2 * pool.size()) {
      pool.run([&](int ith, int nth) {
        int64_t t0, t1;
        split_range(n, ith, nth, &t0, &t1);
        for (int64_t t = t0; t < t1; ++t) fn((int)t);
      });
    } else {
      for (int t = 0; t < n; ++t) fn(t);
    }
  }

  void rmsnorm_rows(const float* x, const std::vector<float>& w, float* y, int n) {
    each_row(n, [&](int t) { kt.rmsnorm(x + (size_t)t * c.n_embd, w.data(), y + (size_t)t * c.n_embd, c.n_embd, c.rms_eps); });
  }

  static void add_bias(float* y, const std::vector<float>& b, int n) {
    if (b.empty()) return;
    for (int t = 0; t < n; ++t)
      for (size_t i = 0; i < b.size(); ++i) y[(size_t)t * b.size() + i] += b[i];
  }

  static void add_rows(float* x, const float* y, size_t count) {
    for (size_t i = 0; i < count; ++i) x[i] += y[i];
  }

  void layer(int l, const BatchEntry* e, int n, int entry0) {
    const LayerWeights& L = m.weights().layers[(size_t)l];
    rmsnorm_rows(s.x.data(), L.attn_norm, s.xb.data(), n);
    dump(l, "attn_norm", n, s.xb.data(), c.n_embd, entry0);

    const Matrix* qkv[3] = {&L.wq, &L.wk, &L.wv};
    float* qkv_out[3] = {s.q.data(), s.k.data(), s.v.data()};
    if (act_type_for(L.wq.type) == act_type_for(L.wk.type) && act_type_for(L.wk.type) == act_type_for(L.wv.type)) {
      matmul_group(kt, kc, pool, qkv, qkv_out, 3, s.xb.data(), n, s.act.data());
    } else {
      for (int i = 0; i < 3; ++i) matmul(kt, kc, pool, *qkv[i], qkv_out[i], s.xb.data(), n, s.act.data());
    }
    add_bias(s.q.data(), L.bq, n);
    add_bias(s.k.data(), L.bk, n);
    add_bias(s.v.data(), L.bv, n);
    if (c.qk_norm) {  // every head of q and k normed over head_dim before RoPE (Qwen3, Gemma 3)
      for (int64_t h = 0; h < (int64_t)n * c.n_head; ++h)
        kt.rmsnorm(s.q.data() + h * c.head_dim, L.q_norm.data(), s.q.data() + h * c.head_dim, c.head_dim, c.rms_eps);
      for (int64_t h = 0; h < (int64_t)n * c.n_head_kv; ++h)
        kt.rmsnorm(s.k.data() + h * c.head_dim, L.k_norm.data(), s.k.data() + h * c.head_dim, c.head_dim, c.rms_eps);
    }
    const int rope_set = c.layers[(size_t)l].rope;
    for (int t = 0; t < n; ++t) {
      if (rope_set != LayerAttention::kNoRope) {
        const float* cs = s.rope_cs.data() + ((size_t)rope_set * s.max_batch + t) * c.rope_dim;
        rope_apply(c, cs, s.q.data() + (size_t)t * c.q_dim(), c.n_head);
        rope_apply(c, cs, s.k.data() + (size_t)t * c.kv_dim(), c.n_head_kv);
      }
      kv.store(l, e[t].seq, e[t].pos, s.k.data() + (size_t)t * c.kv_dim(), s.v.data() + (size_t)t * c.kv_dim());
    }
    dump(l, "q_rope", n, s.q.data(), c.q_dim(), entry0);
    dump(l, "k_rope", n, s.k.data(), c.kv_dim(), entry0);

    attention(kt, pool, c, e, n, s.q.data(), kv, l, s.attn.data(), s.scores.data(), kv.attention_span());
    dump(l, "attn_out", n, s.attn.data(), c.q_dim(), entry0);
    matmul(kt, kc, pool, L.wo, s.xb.data(), s.attn.data(), n, s.act.data());
    if (c.post_norms) {
      rmsnorm_rows(s.xb.data(), L.attn_post_norm, s.xb.data(), n);
      dump(l, "attn_post_norm", n, s.xb.data(), c.n_embd, entry0);
    }
    add_rows(s.x.data(), s.xb.data(), (size_t)n * c.n_embd);

    rmsnorm_rows(s.x.data(), L.ffn_norm, s.xb.data(), n);
    dump(l, "ffn_norm", n, s.xb.data(), c.n_embd, entry0);
    const Matrix* gu[2] = {&L.w_gate, &L.w_up};
    float* gu_out[2] = {s.hb.data(), s.hb2.data()};
    if (act_type_for(L.w_gate.type) == act_type_for(L.w_up.type)) {
      matmul_group(kt, kc, pool, gu, gu_out, 2, s.xb.data(), n, s.act.data());
    } else {
      for (int i = 0; i < 2; ++i) matmul(kt, kc, pool, *gu[i], gu_out[i], s.xb.data(), n, s.act.data());
    }
    each_row(n, [&](int t) {
      float* g = s.hb.data() + (size_t)t * c.n_ff;
      const float* u = s.hb2.data() + (size_t)t * c.n_ff;
      if (c.ffn_act == FfnActivation::kGeluTanh)
        gelu_tanh_mul(g, u, c.n_ff);
      else
        kt.silu_mul(g, u, c.n_ff);
    });
    dump(l, "ffn_act", n, s.hb.data(), c.n_ff, entry0);
    matmul(kt, kc, pool, L.w_down, s.xb.data(), s.hb.data(), n, s.act.data());
    if (c.post_norms) rmsnorm_rows(s.xb.data(), L.ffn_post_norm, s.xb.data(), n);
    dump(l, "ffn_out", n, s.xb.data(), c.n_embd, entry0);
    add_rows(s.x.data(), s.xb.data(), (size_t)n * c.n_embd);
    dump(l, "out", n, s.x.data(), c.n_embd, entry0);
  }

  // Runs entries [0, n) of a chunk; appends logits rows for entries that want them.
  void chunk(const BatchEntry* e, int n, int entry0, float* logits_out, int* n_out) {
    const Matrix& emb = m.weights().tok_embd;
    const TypeTraits& et = traits(emb.type);
    const std::vector<float>& factors = c.rope_factors_for(kv.n_ctx());
    for (int t = 0; t < n; ++t) {
      float* x = s.x.data() + (size_t)t * c.n_embd;
      et.to_float(emb.row(e[t].token), x, c.n_embd);
      if (c.embd_scale != 1.0f)
        for (int64_t i = 0; i < c.n_embd; ++i) x[i] *= c.embd_scale;
      for (int set = 0; set < c.n_rope_sets; ++set)
        rope_table(c, set, factors, e[t].pos, s.rope_cs.data() + ((size_t)set * s.max_batch + t) * c.rope_dim);
    }
    if (hook)
      for (int t = 0; t < n; ++t) (*hook)("token_embd", entry0 + t, s.x.data() + (size_t)t * c.n_embd, c.n_embd);
    for (int l = 0; l < (int)c.n_layer; ++l) layer(l, e, n, entry0);

    // Final norm and output head, only for the entries that want logits.
    int k = 0;
    for (int t = 0; t < n; ++t) {
      if (!e[t].want_logits) continue;
      kt.rmsnorm(s.x.data() + (size_t)t * c.n_embd, m.weights().output_norm.data(), s.out_rows.data() + (size_t)k * c.n_embd, c.n_embd, c.rms_eps);
      if (hook) (*hook)("result_norm", entry0 + t, s.out_rows.data() + (size_t)k * c.n_embd, c.n_embd);
      ++k;
    }
    if (k == 0) return;
    float* logits = logits_out + (size_t)(*n_out) * head.rows;
    matmul(kt, kc, pool, head, logits, s.out_rows.data(), k, s.act.data());
    if (c.final_softcap > 0.0f)  // Gemma 2: cap * tanh(logit / cap)
      for (size_t i = 0; i < (size_t)k * head.rows; ++i) logits[i] = c.final_softcap * std::tanh(logits[i] / c.final_softcap);
    *n_out += k;
  }
};

}  // namespace

Status forward(const Model& model, const Batch& batch, KvCache& kv, Scratch& scratch, ThreadPool& pool, std::vector<float>* logits,
               const ForwardOptions& opts) {
  const ModelConfig& c = model.config();
  POCKET_RETURN_IF_ERROR(validate(c, batch, kv));
  {  // room for every position the batch writes (paged caches allocate or copy blocks here)
    std::vector<int> end((size_t)kv.n_seq(), -1);
    for (const BatchEntry& e : batch.entries) end[(size_t)e.seq] = std::max(end[(size_t)e.seq], e.pos + 1);
    for (int s = 0; s < kv.n_seq(); ++s)
      if (end[(size_t)s] > 0) POCKET_RETURN_IF_ERROR(kv.reserve(s, end[(size_t)s]));
  }
  POCKET_CHECK(scratch.scores.size() >= (size_t)pool.size() * kv.attention_span());
  const Matrix& head = opts.head ? *opts.head : model.weights().output;
  if (head.cols != c.n_embd || head.rows < 1 || head.type != model.weights().output.type)
    return error(ErrorCode::kInvalidArgument, "forward: replacement output head must have the model's width and type");
  const size_t n_rows = (size_t)batch.n_logits();
  if (logits->size() != n_rows * (size_t)head.rows) logits->resize(n_rows * (size_t)head.rows);
  const KernelTable& kt = opts.kernels ? *opts.kernels : kernels();
  const KernelChoice& kc = opts.kernel_choice ? *opts.kernel_choice : kernel_choice(kt);
  Runner r{model, c, kt, kc, kv, scratch, pool, opts.hook, head};
  int n_out = 0;
  for (int start = 0; start < batch.size(); start += scratch.max_batch) {
    const int n = std::min(scratch.max_batch, batch.size() - start);
    r.chunk(batch.entries.data() + start, n, start, logits->data(), &n_out);
    for (int t = start; t < start + n; ++t) {
      const BatchEntry& e = batch.entries[(size_t)t];
      kv.set_seq_len(e.seq, e.pos + 1);
    }
  }
  return Status::ok();
}

}  // namespace pocket
