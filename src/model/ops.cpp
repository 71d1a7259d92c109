#include "model/ops.h"

#include "kernels/packed_rows.h"
#include "kernels/softmax.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/check.h"

namespace pocket {

void matmul_group(const KernelTable& kt, const KernelChoice& kc, ThreadPool& pool, const Matrix* const* ws, float* const* ys, int n_mats,
                  const float* x, int n_tok, uint8_t* act) {
  POCKET_CHECK(n_mats >= 1);
  const int64_t cols = ws[0]->cols;
  const TensorType at = act_type_for(ws[0]->type);
  for (int i = 1; i < n_mats; ++i) POCKET_CHECK(ws[i]->cols == cols && act_type_for(ws[i]->type) == at);
  const size_t arow = act_row_bytes(ws[0]->type, cols);
  const uint8_t* xa = reinterpret_cast<const uint8_t*>(x);
  // Packed matrices (Model::pack_weights) need each token's lane corrections for their type
  // (packed_rows.h), formed once here for every matrix of that type: corr[0] for Q4_0, corr[1] for Q8_0.
  // (thread_local so concurrent engines never share it; the pool's workers reach the caller's through
  // this pointer, never their own.)
  static thread_local std::vector<int32_t> corr_buf[2];
  std::vector<int32_t>* corr = corr_buf;
  bool need_corr[2] = {false, false};
  for (int i = 0; i < n_mats; ++i)
    if (ws[i]->packed != nullptr && kt.vec_dot_packed[(int)ws[i]->type] != nullptr && packed_needs_corrections(ws[i]->type))
      need_corr[ws[i]->type == TensorType::Q4_0 ? 0 : 1] = true;
  const size_t cs = (size_t)cols / 32;
  for (int k = 0; k < 2; ++k)
    if (need_corr[k] && corr[k].size() < (size_t)n_tok * cs) corr[k].resize((size_t)n_tok * cs);
  if (at != TensorType::F32) {
    const TensorType wt = ws[0]->type;
    auto prepare = [&](int64_t t) {
      quantize_activations(kt, wt, x + (size_t)t * cols, act + (size_t)t * arow, cols);
      if (need_corr[0]) packed_corrections(TensorType::Q4_0, act + (size_t)t * arow, cols, corr[0].data() + t * cs);
      if (need_corr[1]) packed_corrections(TensorType::Q8_0, act + (size_t)t * arow, cols, corr[1].data() + t * cs);
    };
    if (n_tok >= 4 * pool.size() && pool.size() > 1) {  // prompt batches: quantize rows in parallel
      pool.run([&](int ith, int nth) {
        int64_t t0, t1;
        split_range(n_tok, ith, nth, &t0, &t1);
        for (int64_t t = t0; t < t1; ++t) prepare(t);
      });
    } else {
      for (int t = 0; t < n_tok; ++t) prepare(t);
    }
    xa = act;
  }
  // A batch of 2 or 3 tokens (speculative verification, short appends) runs the 4-token kernel over
  // `pad`: its rows copied beside zero rows, whose results are dropped. The per-token dot is latency
  // bound on short rows, so k single dots cost k times one, where one 4-token call costs little more
  // than one dot (stories15M F32 verification: 72 % of the time in single dots before).
  // (Only where some matrix takes that path: not packed, no n-token kernel for its type.)
  static thread_local std::vector<uint8_t> pad_buf;
  const uint8_t* pad = nullptr;
  bool x4_path = false;
  for (int i = 0; i < n_mats; ++i) {
    const int ty = (int)ws[i]->type;
    x4_path |= !(ws[i]->packed != nullptr && kt.vec_dot_packed[ty] != nullptr) && kt.vec_dot_xn[ty] == nullptr && kt.vec_dot_x4[ty] != nullptr;
  }
  if ((n_tok == 2 || n_tok == 3) && x4_path) {
    pad_buf.assign(4 * arow, 0);
    std::memcpy(pad_buf.data(), xa, (size_t)n_tok * arow);
    pad = pad_buf.data();
  }
  // Tokens in chunks whose activations stay in L2; within a chunk each weight row is read once and,
  // where the table has a 4-token kernel, unpacked once per 4 tokens.
  constexpr int kTokenChunk = 64;
  pool.run([&](int ith, int nth) {
    for (int t0 = 0; t0 < n_tok; t0 += kTokenChunk) {
      const int t1 = std::min(n_tok, t0 + kTokenChunk);
      for (int i = 0; i < n_mats; ++i) {
        const Matrix& w = *ws[i];
        float* y = ys[i];
        // Packed matrices (when this table has the kernel; a table without one reads the file's rows):
        // groups of kPackRows rows, every token of the chunk per group.
        const VecDotPackedFn packed = w.packed != nullptr ? kt.vec_dot_packed[(int)w.type] : nullptr;
        if (packed != nullptr) {
          const size_t gb = packed_group_bytes(w.type, cols);
          const int32_t* c = packed_needs_corrections(w.type) ? corr[w.type == TensorType::Q4_0 ? 0 : 1].data() + (size_t)t0 * cs : nullptr;
          int64_t g0, g1;
          split_range(w.rows / kPackRows, ith, nth, &g0, &g1);
          for (int64_t g = g0; g < g1; ++g)
            packed(cols, w.packed + (size_t)g * gb, xa + (size_t)t0 * arow, arow, c, cs, t1 - t0, y + (size_t)t0 * w.rows + g * kPackRows,
                   (size_t)w.rows);
          continue;
        }
        int64_t r0, r1;
        split_range(w.rows, ith, nth, &r0, &r1);
        // Two or more tokens, where the table has an n-token kernel: each row read once per 8 tokens.
        const VecDotXnFn dotn = t1 - t0 >= 2 ? kt.vec_dot_xn[(int)w.type] : nullptr;
        if (dotn != nullptr) {
          float outn[kMaxXnTokens];
          for (int64_t r = r0; r < r1; ++r)
            for (int t = t0; t < t1; t += kMaxXnTokens) {
              const int nt = std::min(kMaxXnTokens, t1 - t);
              dotn(cols, w.row(r), xa + (size_t)t * arow, arow, nt, outn);
              for (int q = 0; q < nt; ++q) y[(size_t)(t + q) * w.rows + r] = outn[q];
            }
          continue;
        }
        const VecDotFn dot = kt.vec_dot[(int)w.type];
        const VecDotX4Fn dot4 = kt.vec_dot_x4[(int)w.type];
        float out4[4];
        // Tokens in groups of 4 use the 4-token kernel; so do the 1 to 3 left over in a chunk of 2 or
        // more tokens: the chunk's last 4 tokens again (the repeated ones get the same values), or `pad`.
        // A single token (decode) uses the 4-row kernel over groups of 4 rows where it was measured faster
        // on this machine for this type and width (kernel_choice), else vec_dot row by row. Every result
        // equals vec_dot's, whatever the grouping. [t0, t4): groups of 4; [t4, t1): the rest.
        const int t4 = dot4 != nullptr ? t0 + (t1 - t0) / 4 * 4 : t0;
        const bool tail4 = dot4 != nullptr && t4 < t1 && (t1 - t0 >= 4 || pad != nullptr);
        auto dot_tail4 = [&](const uint8_t* wr, int64_t r) {
          const uint8_t* xt = t1 - t0 >= 4 ? xa + (size_t)(t1 - 4) * arow : pad;
          const int first = t1 - t0 >= 4 ? t1 - 4 : t0;
          dot4(cols, wr, xt, arow, out4);
          for (int t = t4; t < t1; ++t) y[(size_t)t * w.rows + r] = out4[t - first];
        };
        const VecDotR4Fn dotr4 = t4 < t1 && !tail4 && kc.use_multi(w.type, cols) ? kt.vec_dot_r4[(int)w.type] : nullptr;
        int64_t r = r0;
        // Four rows at a time where the 4-row kernel runs: the 4-token kernel per row over the token
        // groups, the 4-row kernel over the other tokens.
        if (dotr4 != nullptr) {
          for (; r + 4 <= r1; r += 4) {
            const uint8_t* wr = w.row(r);
            for (int t = t0; t < t4; t += 4) {
              for (int64_t j = 0; j < 4; ++j) {
                dot4(cols, wr + j * w.row_bytes, xa + (size_t)t * arow, arow, out4);
                for (int q = 0; q < 4; ++q) y[(size_t)(t + q) * w.rows + r + j] = out4[q];
              }
            }
            for (int t = t4; t < t1; ++t) {
              dotr4(cols, wr, w.row_bytes, xa + (size_t)t * arow, out4);
              for (int q = 0; q < 4; ++q) y[(size_t)t * w.rows + r + q] = out4[q];
            }
          }
        }
        for (; r < r1; ++r) {
          const uint8_t* wr = w.row(r);
          int t = t0;
          if (dot4 != nullptr)
            for (; t < t4; t += 4) {
              dot4(cols, wr, xa + (size_t)t * arow, arow, out4);
              for (int j = 0; j < 4; ++j) y[(size_t)(t + j) * w.rows + r] = out4[j];
            }
          if (tail4) {
            dot_tail4(wr, r);
            continue;
          }
          for (; t < t1; ++t) y[(size_t)t * w.rows + r] = dot(cols, wr, xa + (size_t)t * arow);
        }
      }
    }
  });
}

void rope_table(const ModelConfig& c, int set, const std::vector<float>& factors, int pos, float* cs) {
  // theta_i = pos * base^(-2i/d), formed as a running float product like llama.cpp's CPU backend, so
  // the rotated q/k match its values to the last bit (which matters for Q8_0 activation rounding);
  // then divided by the pair's frequency factor and times freq_scale, and cos/sin times the attention
  // factor, in ggml's rope_yarn order (no YaRN ramp: ext_factor 0).
  const RopeParams& rp = c.rope_sets[set];
  const float theta_scale = std::pow(rp.base, -2.0f / (float)c.rope_dim);
  const float mscale = c.rope_attn_factor;
  float theta = (float)pos;
  for (int64_t i = 0; i < c.rope_dim / 2; ++i) {
    const float ff = factors.empty() ? 1.0f : factors[(size_t)i];
    const float t = rp.freq_scale * (theta / ff);
    cs[2 * i] = std::cos(t) * mscale;
    cs[2 * i + 1] = std::sin(t) * mscale;
    theta *= theta_scale;
  }
}

void rope_apply(const ModelConfig& c, const float* cs, float* x, int64_t n_heads) {
  const int64_t half = c.rope_dim / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* xh = x + h * c.head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const int64_t a = c.rope_layout == RopeLayout::kNormal ? 2 * i : i;
      const int64_t b = c.rope_layout == RopeLayout::kNormal ? 2 * i + 1 : i + half;
      const float x0 = xh[a], x1 = xh[b];
      const float co = cs[2 * i], si = cs[2 * i + 1];
      xh[a] = x0 * co - x1 * si;
      xh[b] = x0 * si + x1 * co;
    }
  }
}

namespace {

// Attention over the sinks [0, n_sinks), their keys rotated (RoPE) by `shift` more positions, and the
// positions [first, pos]; each row is found through the cache's slot map (rings) and the view's block
// table (paged caches) and decoded on the fly. Sliding window with attention sinks (StreamingLLM):
// shift = evicted positions, so the sinks sit right before the window as if the evicted tokens never
// existed and every relative distance stays below the window, inside the trained range.
void attend_positions(const KernelTable& kt, const ModelConfig& c, int layer, const KvCache& kv, const KvView& view, int seq, int64_t g,
                      const float* qh, float scale, float* oh, float* sc, int n_sinks, int shift, int first, int pos) {
  const int64_t hd = c.head_dim;
  alignas(32) float buf[kMaxHeadDim];
  alignas(32) float cs[kMaxHeadDim];
  const int rope_set = c.layers[(size_t)layer].rope;  // a NoPE layer's sink keys need no re-rotation
  if (n_sinks > 0 && rope_set != LayerAttention::kNoRope) rope_table(c, rope_set, c.rope_factors_for(kv.n_ctx()), shift, cs);
  const KvHeadRows kh = view.k_head(g), vh = view.v_head(g);
  auto row = [&](bool is_k, int p) -> const float* {
    int r = 0;
    const KvHeadRows h = KvView::at(is_k ? kh : vh, view, is_k, kv.slot(seq, p), &r);
    const uint8_t* d = h.data + (size_t)r * h.stride;
    if (h.type == KvType::kF32) return reinterpret_cast<const float*>(d);
    kv_decode(h.type, d, h.scales ? h.scales + (size_t)r * h.scale_stride : nullptr, 0, hd, h.group, buf);
    return buf;
  };
  int n = 0;
  for (int p = 0; p < n_sinks; ++p, ++n) {
    const float* k = row(true, p);
    if (k != buf) std::memcpy(buf, k, (size_t)hd * sizeof(float));
    if (rope_set != LayerAttention::kNoRope) rope_apply(c, cs, buf, 1);
    sc[n] = kt.dot_f32(qh, buf, hd) * scale;
  }
  for (int p = first; p <= pos; ++p, ++n) sc[n] = kt.dot_f32(qh, row(true, p), hd) * scale;
  if (c.attn_softcap > 0.0f)  // Gemma 2: cap * tanh(score / cap), as llama.cpp applies it before softmax
    for (int i = 0; i < n; ++i) sc[i] = c.attn_softcap * std::tanh(sc[i] / c.attn_softcap);
  softmax_inplace(sc, n);
  for (int64_t i = 0; i < hd; ++i) oh[i] = 0.0f;
  int j = 0;
  for (int p = 0; p < n_sinks; ++p, ++j) kt.axpy_f32(sc[j], row(false, p), oh, hd);
  for (int p = first; p <= pos; ++p, ++j) kt.axpy_f32(sc[j], row(false, p), oh, hd);
}

// The rows from position `first` on, of a contiguous head (no ring, no block table).
KvHeadRows from_row(KvHeadRows h, int first) {
  h.data += (size_t)first * h.stride;
  if (h.scales != nullptr) h.scales += (size_t)first * h.scale_stride;
  return h;
}

}  // namespace

void attention(const KernelTable& kt, ThreadPool& pool, const ModelConfig& c, const BatchEntry* entries, int n, const float* q, const KvCache& kv,
               int layer, float* out, float* scores, int n_scores) {
  const int64_t hd = c.head_dim;
  const int64_t group = c.n_head / c.n_head_kv;
  const float scale = c.attn_scale;
  const int64_t layer_window = c.layers[(size_t)layer].window;  // Gemma's local layers; 0: none
  const int64_t n_items = (int64_t)n * c.n_head;
  pool.run([&](int ith, int nth) {
    float* sc = scores + (size_t)ith * n_scores;
    int64_t i0, i1;
    split_range(n_items, ith, nth, &i0, &i1);
    for (int64_t item = i0; item < i1; ++item) {
      const int t = (int)(item / c.n_head);
      const int64_t h = item % c.n_head;
      const int64_t g = h / group;  // the KV head this query head reads
      const BatchEntry& e = entries[t];
      const KvView view = kv.view(layer, e.seq);
      const float* qh = q + (size_t)t * c.q_dim() + h * hd;
      float* oh = out + (size_t)t * c.q_dim() + h * hd;
      // The layer's own window: its last layer_window positions, itself included (llama.cpp's SWA mask).
      const int local_first = layer_window > 0 && e.pos >= layer_window ? e.pos - (int)layer_window + 1 : 0;
      if (kv.window() > 0 && e.pos >= kv.window()) {
        const int first = e.pos - (kv.window() - kv.sinks()) + 1;  // oldest position of the window
        attend_positions(kt, c, layer, kv, view, e.seq, g, qh, scale, oh, sc, kv.sinks(), first - kv.sinks(), std::max(first, local_first), e.pos);
        continue;
      }
      if (view.block_table != nullptr || c.attn_softcap > 0.0f) {
        attend_positions(kt, c, layer, kv, view, e.seq, g, qh, scale, oh, sc, 0, 0, local_first, e.pos);
        continue;
      }
      const KvHeadRows kh = from_row(view.k_head(g), local_first), vh = from_row(view.v_head(g), local_first);
      const int n_pos = e.pos + 1 - local_first;
      if (kh.type == KvType::kF32 && vh.type == KvType::kF32 && kh.stride == vh.stride) {
        kt.attn_head_f32(qh, reinterpret_cast<const float*>(kh.data), reinterpret_cast<const float*>(vh.data), (int64_t)(kh.stride / sizeof(float)),
                         n_pos, hd, scale, oh, sc);
      } else {
        kt.attn_head_kv(qh, kh, vh, n_pos, hd, scale, oh, sc);
      }
    }
  });
}

}  // namespace pocket
