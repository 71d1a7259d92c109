#include "quantize/awq.h"

#include <algorithm>
#include <cmath>

namespace pocket {
namespace {

// sum over rows of d_r^T H d_r; H float [cols, cols]; t: cols of scratch.
double quad_error(const float* d, int64_t rows, int64_t cols, const float* h, float* t) {
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* dr = d + r * cols;
    std::fill(t, t + cols, 0.0f);
    for (int64_t k = 0; k < cols; ++k) {
      const float dk = dr[k];
      if (dk == 0.0f) continue;
      const float* hk = h + k * cols;
      for (int64_t j = 0; j < cols; ++j) t[j] += dk * hk[j];
    }
    double s = 0.0;
    for (int64_t j = 0; j < cols; ++j) s += (double)dr[j] * (double)t[j];
    total += s;
  }
  return total;
}

std::string tensor(int l, const char* what) { return "blk." + std::to_string(l) + "." + what + ".weight"; }

}  // namespace

AwqSiteResult awq_search_scale(const std::vector<const float*>& w, const std::vector<int64_t>& rows, const std::vector<const GroupCodec*>& codec,
                               const SiteStats& st, const AwqOptions& opts) {
  const int64_t cols = st.cols;
  std::vector<float> hf(st.h.begin(), st.h.end());
  std::vector<float> s((size_t)cols), ws((size_t)cols), fq((size_t)cols), t((size_t)cols);
  std::vector<float> d;
  AwqSiteResult best;
  best.err_awq = -1.0;
  for (int gi = 0; gi <= opts.grid; ++gi) {
    const double alpha = (double)gi / (double)std::max(1, opts.grid);
    float smax = 0.0f, smin = INFINITY;
    for (int64_t c = 0; c < cols; ++c) {
      s[(size_t)c] = std::max(1e-4f, (float)std::pow(std::max(st.mean_abs(c), 1e-8), alpha));
      smax = std::max(smax, s[(size_t)c]);
      smin = std::min(smin, s[(size_t)c]);
    }
    const float norm = std::sqrt(smax * smin);
    for (float& v : s) v = std::clamp(v / norm, 1e-4f, 1e4f);
    double err = 0.0;
    for (size_t m = 0; m < w.size(); ++m) {
      d.resize((size_t)(rows[m] * cols));
      for (int64_t r = 0; r < rows[m]; ++r) {
        const float* wr = w[m] + r * cols;
        for (int64_t c = 0; c < cols; ++c) ws[(size_t)c] = wr[c] * s[(size_t)c];
        codec[m]->fake_quantize_row(ws.data(), fq.data());
        for (int64_t c = 0; c < cols; ++c) d[(size_t)(r * cols + c)] = fq[(size_t)c] / s[(size_t)c] - wr[c];
      }
      err += quad_error(d.data(), rows[m], cols, hf.data(), t.data());
    }
    if (gi == 0) best.err_rtn = err;
    if (best.err_awq < 0.0 || err < best.err_awq) {
      best.err_awq = err;
      best.alpha = alpha;
      best.s = s;
    }
  }
  return best;
}

std::vector<float> awq_search_clip(const GroupCodec& codec, const float* w, int64_t rows, const std::vector<double>& h, const AwqOptions& opts) {
  const int64_t cols = codec.cols(), g = codec.group(), n_groups = codec.n_groups();
  std::vector<float> hg((size_t)(n_groups * g * g));  // the diagonal blocks of H, one per group
  for (int64_t k = 0; k < n_groups; ++k) {
    const int64_t len = codec.group_len(k);  // block k stored as [len, len] at k * g * g
    for (int64_t i = 0; i < len; ++i)
      for (int64_t j = 0; j < len; ++j) hg[(size_t)(k * g * g + i * len + j)] = (float)h[(size_t)((k * g + i) * cols + k * g + j)];
  }
  std::vector<float> clips((size_t)(rows * n_groups), 1.0f);
  std::vector<float> d((size_t)g), t((size_t)g);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < n_groups; ++k) {
      const float* wg = w + r * cols + k * g;
      const int64_t len = codec.group_len(k);
      double best = -1.0;
      for (int i = 0; i <= opts.clip_grid; ++i) {
        const float c = 1.0f - opts.max_shrink * (float)i / (float)std::max(1, opts.clip_grid);
        const GroupParams p = codec.params(wg, len, c);
        for (int64_t j = 0; j < len; ++j) d[(size_t)j] = codec.dequantize(codec.quantize(wg[j], p), p) - wg[j];
        const double e = quad_error(d.data(), 1, len, &hg[(size_t)(k * g * g)], t.data());
        if (best < 0.0 || e < best) {
          best = e;
          clips[(size_t)(r * n_groups + k)] = c;
        }
      }
    }
  }
  return clips;
}

Status apply_awq(const GgufFile& in, const ModelConfig& cfg, const Calibration& cal, const CodecFor& codec_for, const AwqOptions& opts,
                 WeightEdits* edits, AwqReport* report) {
  struct Site {
    CalibSite site;
    std::vector<std::string> mats;  // linears reading the site, [rows, cols]
    std::string norm;               // RMSNorm weight producing the site (or empty)
    std::string prev, prev_bias;    // linear whose output rows produce the site (or empty)
  };
  std::map<std::string, std::vector<float>>& col_scale = edits->col_scales;  // linear -> the s its columns were multiplied by
  std::map<std::string, CalibSite> site_of;
  const bool tied = in.find_tensor("output.weight") == nullptr;
  site_of[tied ? "token_embd.weight" : "output.weight"] = CalibSite::kHead;
  for (int l = 0; l < (int)cfg.n_layer; ++l) {
    std::vector<Site> sites = {
        {CalibSite::kAttnIn, {tensor(l, "attn_q"), tensor(l, "attn_k"), tensor(l, "attn_v")}, tensor(l, "attn_norm"), "", ""},
        {CalibSite::kFfnIn, {tensor(l, "ffn_gate"), tensor(l, "ffn_up")}, tensor(l, "ffn_norm"), "", ""},
        {CalibSite::kFfnAct, {tensor(l, "ffn_down")}, "", tensor(l, "ffn_up"), ""},
    };
    // The attention output is a mix of V rows; with one V head per query head its channels are V's rows.
    if (cfg.n_head == cfg.n_head_kv)
      sites.push_back({CalibSite::kAttnOut, {tensor(l, "attn_output")}, "", tensor(l, "attn_v"), "blk." + std::to_string(l) + ".attn_v.bias"});
    // The output head: its scale folds into the final norm, unless the head is the embedding table too.
    if (l == (int)cfg.n_layer - 1 && !tied) sites.push_back({CalibSite::kHead, {"output.weight"}, "output_norm.weight", "", ""});
    const LayerCalibration& lc = cal.layers[(size_t)l];
    for (const Site& site : sites) {
      const SiteStats& st = lc.at(site.site);
      std::vector<const float*> ws;
      std::vector<int64_t> rows;
      std::vector<const GroupCodec*> codecs;
      std::vector<std::vector<float>*> all;
      for (const std::string& name : site.mats) {
        POCKET_ASSIGN_OR_RETURN(std::vector<float> * v, edits->get(in, name));
        if ((int64_t)v->size() % st.cols != 0)
          return error(ErrorCode::kFormatError, in.name() + ": tensor '" + name + "' does not have " + std::to_string(st.cols) + " columns");
        all.push_back(v);
        site_of[name] = site.site;
        const GroupCodec* c = codec_for(name);
        if (c == nullptr) continue;
        ws.push_back(v->data());
        rows.push_back((int64_t)v->size() / st.cols);
        codecs.push_back(c);
      }
      if (ws.empty() || st.n == 0) continue;
      const AwqSiteResult res = awq_search_scale(ws, rows, codecs, st, opts);
      report->sites++;
      report->err_rtn += res.err_rtn;
      report->err_awq += res.err_awq;
      for (size_t m = 0; m < all.size(); ++m) {
        std::vector<float>& v = *all[m];
        for (size_t i = 0; i < v.size(); ++i) v[i] *= res.s[i % (size_t)st.cols];
        col_scale[site.mats[m]] = res.s;
      }
      if (!site.norm.empty()) {
        POCKET_ASSIGN_OR_RETURN(std::vector<float> * nv, edits->get(in, site.norm));
        if ((int64_t)nv->size() != st.cols) return error(ErrorCode::kFormatError, in.name() + ": '" + site.norm + "' has the wrong length");
        for (int64_t c = 0; c < st.cols; ++c) (*nv)[(size_t)c] /= res.s[(size_t)c];
      } else {
        POCKET_ASSIGN_OR_RETURN(std::vector<float> * pv, edits->get(in, site.prev));
        if ((int64_t)pv->size() % st.cols != 0) return error(ErrorCode::kFormatError, in.name() + ": '" + site.prev + "' has the wrong shape");
        const int64_t pc = (int64_t)pv->size() / st.cols;  // prev is [st.cols rows, pc cols]
        for (int64_t r = 0; r < st.cols; ++r)
          for (int64_t c = 0; c < pc; ++c) (*pv)[(size_t)(r * pc + c)] /= res.s[(size_t)r];
        if (in.find_tensor(site.prev_bias) != nullptr) {
          POCKET_ASSIGN_OR_RETURN(std::vector<float> * bv, edits->get(in, site.prev_bias));
          for (int64_t r = 0; r < st.cols && r < (int64_t)bv->size(); ++r) (*bv)[(size_t)r] /= res.s[(size_t)r];
        }
      }
    }
  }
  if (!opts.clip) return Status::ok();
  for (const auto& [name, site] : site_of) {
    if (name.find("attn_q.") != std::string::npos || name.find("attn_k.") != std::string::npos) continue;
    const GroupCodec* c = codec_for(name);
    const SiteStats* stp = cal.stats_for(name, tied);
    if (c == nullptr || stp == nullptr) continue;
    const SiteStats& st = *stp;
    std::vector<double> h = st.h;  // in the scaled input space: H'_ij = H_ij / (s_i s_j)
    auto it = col_scale.find(name);
    if (it != col_scale.end()) {
      for (int64_t i = 0; i < st.cols; ++i)
        for (int64_t j = 0; j < st.cols; ++j) h[(size_t)(i * st.cols + j)] /= (double)it->second[(size_t)i] * it->second[(size_t)j];
    }
    POCKET_ASSIGN_OR_RETURN(std::vector<float> * v, edits->get(in, name));
    edits->clips[name] = awq_search_clip(*c, v->data(), (int64_t)v->size() / st.cols, h, opts);
  }
  return Status::ok();
}

}  // namespace pocket
