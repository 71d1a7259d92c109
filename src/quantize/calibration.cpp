#include "quantize/calibration.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace pocket {
namespace {

// Rows wait here until a block of them is folded into H with one rank-k update.
struct SiteBuffer {
  std::vector<float> rows;  // [k, cols]
  int k = 0;
};

constexpr int kRowsPerUpdate = 64;

// H (upper triangle) += X^T X for k rows of X.
void accumulate(SiteStats& s, SiteBuffer& b) {
  const int64_t c = s.cols;
  std::vector<float> acc((size_t)c);
  for (int64_t i = 0; i < c; ++i) {
    std::fill(acc.begin() + i, acc.end(), 0.0f);
    for (int r = 0; r < b.k; ++r) {
      const float* x = &b.rows[(size_t)r * c];
      const float xi = x[i];
      if (xi == 0.0f) continue;
      for (int64_t j = i; j < c; ++j) acc[(size_t)j] += xi * x[j];
    }
    double* hrow = &s.h[(size_t)i * c];
    for (int64_t j = i; j < c; ++j) hrow[j] += acc[(size_t)j];
  }
  s.n += b.k;
  b.k = 0;
}

bool parse_hook_name(const std::string& name, int* layer, CalibSite* site) {
  int l = -1, used = 0;
  if (std::sscanf(name.c_str(), "blk.%d.%n", &l, &used) != 1 || used == 0) return false;
  const char* rest = name.c_str() + used;
  if (std::strcmp(rest, "attn_norm") == 0)
    *site = CalibSite::kAttnIn;
  else if (std::strcmp(rest, "attn_out") == 0)
    *site = CalibSite::kAttnOut;
  else if (std::strcmp(rest, "ffn_norm") == 0)
    *site = CalibSite::kFfnIn;
  else if (std::strcmp(rest, "ffn_act") == 0)
    *site = CalibSite::kFfnAct;
  else
    return false;
  *layer = l;
  return true;
}

}  // namespace

bool calib_site_of(const std::string& tensor_name, int* layer, CalibSite* site) {
  int l = -1, used = 0;
  if (std::sscanf(tensor_name.c_str(), "blk.%d.%n", &l, &used) != 1 || used == 0) return false;
  const std::string rest = tensor_name.substr((size_t)used);
  if (rest == "attn_q.weight" || rest == "attn_k.weight" || rest == "attn_v.weight")
    *site = CalibSite::kAttnIn;
  else if (rest == "attn_output.weight")
    *site = CalibSite::kAttnOut;
  else if (rest == "ffn_gate.weight" || rest == "ffn_up.weight")
    *site = CalibSite::kFfnIn;
  else if (rest == "ffn_down.weight")
    *site = CalibSite::kFfnAct;
  else
    return false;
  *layer = l;
  return true;
}

const SiteStats* Calibration::stats_for(const std::string& tensor_name, bool tied) const {
  if (layers.empty()) return nullptr;
  const SiteStats* st = nullptr;
  int l = 0;
  CalibSite site;
  if (tensor_name == "output.weight" || (tied && tensor_name == "token_embd.weight"))
    st = &layers.back().at(CalibSite::kHead);
  else if (calib_site_of(tensor_name, &l, &site) && l >= 0 && l < (int)layers.size())
    st = &layers[(size_t)l].at(site);
  return st != nullptr && st->n > 0 ? st : nullptr;
}

Result<Calibration> collect_calibration(Engine& engine, const std::string& text, const CalibrationOptions& opts) {
  const ModelConfig& c = engine.model().config();
  const int n_ctx = std::min(opts.n_ctx, engine.n_ctx());
  if (n_ctx < 2) return error(ErrorCode::kInvalidArgument, "calibration: context must be at least 2 tokens");
  const std::vector<int32_t> tokens = engine.tokenizer().encode(text, true, false);
  if ((int64_t)tokens.size() < n_ctx)
    return error(ErrorCode::kOutOfRange,
                 "calibration text has " + std::to_string(tokens.size()) + " tokens, fewer than one chunk of " + std::to_string(n_ctx));
  Calibration cal;
  cal.layers.resize((size_t)c.n_layer);
  const int64_t widths[kCalibSites] = {c.n_embd, c.q_dim(), c.n_embd, c.n_ff, c.n_embd};
  double bytes = 0;
  for (int s = 0; s < kCalibSites; ++s)
    bytes += (double)(s == (int)CalibSite::kHead ? 1 : c.n_layer) * (double)(widths[s] * widths[s]) * sizeof(double);
  if (bytes > opts.max_bytes)
    return error(ErrorCode::kResourceLimit, "calibration: the statistics of this model need " + std::to_string((int64_t)(bytes / (1 << 20))) +
                                                " MiB, over the limit of " + std::to_string((int64_t)(opts.max_bytes / (1 << 20))) + " MiB");
  std::vector<SiteBuffer> buffers((size_t)c.n_layer * kCalibSites);
  for (int l = 0; l < (int)c.n_layer; ++l) {
    for (int s = 0; s < kCalibSites; ++s) {
      if (s == (int)CalibSite::kHead && l != (int)c.n_layer - 1) continue;
      SiteStats& st = cal.layers[(size_t)l].site[s];
      st.cols = widths[s];
      st.h.assign((size_t)(st.cols * st.cols), 0.0);
      st.sum_abs.assign((size_t)st.cols, 0.0);
      buffers[(size_t)l * kCalibSites + s].rows.resize((size_t)(kRowsPerUpdate * st.cols));
    }
  }
  // The head's input is the final RMSNorm of the last block's output (computed here, so calibration
  // needs no logits).
  const std::string last_out = "blk." + std::to_string(c.n_layer - 1) + ".out";
  const std::vector<float>& out_norm = engine.model().weights().output_norm;
  std::vector<float> normed((size_t)c.n_embd);
  ActivationHook hook = [&](const std::string& name, int, const float* data, int64_t n) {
    int l = 0;
    CalibSite site;
    if (name == last_out && n == c.n_embd) {
      double ss = 0;
      for (int64_t i = 0; i < n; ++i) ss += (double)data[i] * data[i];
      const float scale = 1.0f / std::sqrt((float)(ss / (double)n) + c.rms_eps);
      for (int64_t i = 0; i < n; ++i) normed[(size_t)i] = data[i] * scale * out_norm[(size_t)i];
      data = normed.data();
      l = (int)c.n_layer - 1;
      site = CalibSite::kHead;
    } else if (!parse_hook_name(name, &l, &site) || l < 0 || l >= (int)c.n_layer) {
      return;
    }
    SiteStats& st = cal.layers[(size_t)l].at(site);
    if (n != st.cols) return;
    SiteBuffer& b = buffers[(size_t)l * kCalibSites + (int)site];
    std::memcpy(&b.rows[(size_t)b.k * n], data, (size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; ++i) st.sum_abs[(size_t)i] += std::fabs(data[i]);
    if (++b.k == kRowsPerUpdate) accumulate(st, b);
  };
  ForwardOptions fo;
  fo.hook = &hook;
  const Vocab& v = engine.tokenizer().vocab();
  const int64_t n_chunks = std::max<int64_t>(1, std::min<int64_t>((int64_t)tokens.size(), opts.max_tokens) / n_ctx);
  std::vector<float> logits;
  for (int64_t ch = 0; ch < n_chunks; ++ch) {
    Batch b;
    for (int j = 0; j < n_ctx; ++j) {
      int32_t t = tokens[(size_t)(ch * n_ctx + j)];
      if (j == 0 && v.add_bos && v.bos >= 0) t = v.bos;
      b.add(t, j, 0, false);
    }
    engine.clear_kv();
    POCKET_RETURN_IF_ERROR(engine.eval(b, &logits, fo));
    cal.n_tokens += n_ctx;
  }
  for (int l = 0; l < (int)c.n_layer; ++l) {
    for (int s = 0; s < kCalibSites; ++s) {
      SiteStats& st = cal.layers[(size_t)l].site[s];
      if (st.cols == 0) continue;
      SiteBuffer& b = buffers[(size_t)l * kCalibSites + s];
      if (b.k > 0) accumulate(st, b);
      for (int64_t i = 0; i < st.cols; ++i)  // mirror the upper triangle
        for (int64_t j = 0; j < i; ++j) st.h[(size_t)(i * st.cols + j)] = st.h[(size_t)(j * st.cols + i)];
    }
  }
  engine.clear_kv();
  return cal;
}

}  // namespace pocket
