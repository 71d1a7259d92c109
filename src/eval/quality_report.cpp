// Renderings of the quality matrix: Markdown, JSON and an SVG scatter plot (no plotting dependency:
// a few dozen SVG elements are simpler than any library we could take from Debian for this).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/text_format.h"
#include "eval/quality.h"

namespace pocket {

std::string quality_markdown(const std::vector<QualityRow>& rows, const QualityOptions& opts) {
  std::ostringstream o;
  for (size_t e = 0; e < opts.evals.size(); ++e) {
    const QualityEval& ev = opts.evals[e];
    const PerplexityResult* first = rows.empty() || rows[0].results.size() <= e ? nullptr : &rows[0].results[e];
    o << "**" << ev.label << "**";
    if (first) o << " (" << first->n_chunks << " chunks x " << first->n_ctx << " tokens, " << first->n_scored << " scored)";
    o << "\n\n| model | `pocket quantize` flags | MiB | bpw file | bpw native | PPL | ΔPPL (paired) | ΔPPL % | KL divergence | same top |\n";
    o << "|---|---|---|---|---|---|---|---|---|---|\n";
    for (const QualityRow& r : rows) {
      if (r.results.size() <= e) continue;
      const PerplexityResult& p = r.results[e];
      o << "| " << r.name << " | " << (r.command.empty() ? "" : "`" + r.command + "`") << " | " << fmt("%.2f", r.file_mib) << " | "
        << fmt("%.3f", r.bpw_file) << " | " << fmt("%.3f", r.bpw_native) << " | " << fmt("%.4f", p.ppl) << " ± " << fmt("%.4f", p.ppl_err) << " | "
        << fmt("%+.4f", p.delta_ppl()) << " ± " << fmt("%.4f", p.delta_ppl_err()) << " | "
        << fmt("%+.2f %%", p.base_ppl > 0 ? 100.0 * p.delta_ppl() / p.base_ppl : 0.0) << " | " << fmt("%.5f", p.kld_mean) << " ± "
        << fmt("%.5f", p.kld_err) << " | " << fmt("%.2f %%", 100.0 * p.same_top) << " |\n";
    }
    o << "\n";
  }
  return o.str();
}

std::string quality_json(const std::vector<QualityRow>& rows, const QualityOptions& opts) {
  nlohmann::json j;
  j["model"] = opts.model;
  j["n_ctx"] = opts.engine.n_ctx;
  j["rows"] = nlohmann::json::array();
  for (const QualityRow& r : rows) {
    nlohmann::json jr = {{"name", r.name},         {"flags", r.command},         {"mib", r.file_mib},
                         {"bpw_file", r.bpw_file}, {"bpw_native", r.bpw_native}, {"quantize_seconds", r.quantize_seconds}};
    jr["evals"] = nlohmann::json::array();
    for (size_t e = 0; e < r.results.size() && e < opts.evals.size(); ++e) {
      const PerplexityResult& p = r.results[e];
      jr["evals"].push_back({{"text", opts.evals[e].label},
                             {"chunks", p.n_chunks},
                             {"scored", p.n_scored},
                             {"ppl", p.ppl},
                             {"ppl_err", p.ppl_err},
                             {"base_ppl", p.base_ppl},
                             {"delta_ppl", p.delta_ppl()},
                             {"delta_ppl_err", p.delta_ppl_err()},
                             {"kld", p.kld_mean},
                             {"kld_err", p.kld_err},
                             {"same_top", p.same_top}});
    }
    j["rows"].push_back(jr);
  }
  return j.dump(2) + "\n";
}

std::string quality_svg(const std::vector<QualityRow>& rows, const QualityOptions& opts) {
  const double W = 900, H = 560, L = 80, R = 330, T = 40, B = 60;  // plot area: [L, W-R] x [T, H-B]
  double x0 = 1e9, x1 = 0, y0 = 1e9, y1 = 0;
  for (const QualityRow& r : rows) {
    if (r.results.empty()) continue;
    x0 = std::min(x0, r.bpw_native);
    x1 = std::max(x1, r.bpw_native);
    y0 = std::min(y0, r.results[0].ppl);
    y1 = std::max(y1, r.results[0].ppl);
  }
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) y1 = y0 + 1;
  const double lx0 = std::log2(x0 * 0.9), lx1 = std::log2(x1 * 1.1);
  // Log scale on both axes: 4-bit and 32-bit models, and pruned models far above, on one chart.
  const double ly0 = std::log(y0) - 0.05 * (std::log(y1) - std::log(y0)), ly1 = std::log(y1) + 0.05 * (std::log(y1) - std::log(y0));
  auto X = [&](double bpw) { return L + (std::log2(bpw) - lx0) / (lx1 - lx0) * (W - L - R); };
  auto Y = [&](double ppl) { return H - B - (std::log(ppl) - ly0) / (ly1 - ly0) * (H - T - B); };
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H << "' font-family='sans-serif' font-size='12'>\n";
  o << "<rect width='100%' height='100%' fill='white'/>\n";
  o << "<text x='" << L << "' y='24' font-size='15'>Perplexity vs bits per weight — " << xml_escape(opts.evals.empty() ? "" : opts.evals[0].label)
    << "</text>\n";
  o << "<rect x='" << L << "' y='" << T << "' width='" << (W - L - R) << "' height='" << (H - T - B) << "' fill='none' stroke='#444'/>\n";
  for (double b : {4.0, 5.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0}) {
    if (b < x0 * 0.9 || b > x1 * 1.1) continue;
    o << "<line x1='" << X(b) << "' y1='" << T << "' x2='" << X(b) << "' y2='" << (H - B) << "' stroke='#ddd'/>";
    o << "<text x='" << X(b) << "' y='" << (H - B + 16) << "' text-anchor='middle'>" << b << "</text>\n";
  }
  for (int i = 0; i <= 6; ++i) {
    const double v = std::exp(ly0 + (ly1 - ly0) * i / 6.0);
    o << "<line x1='" << L << "' y1='" << Y(v) << "' x2='" << (W - R) << "' y2='" << Y(v) << "' stroke='#eee'/>";
    o << "<text x='" << (L - 6) << "' y='" << (Y(v) + 4) << "' text-anchor='end'>" << fmt("%.3f", v) << "</text>\n";
  }
  o << "<text x='" << (L + (W - L - R) / 2) << "' y='" << (H - 18) << "' text-anchor='middle'>bits per weight (native layout, log scale)</text>\n";
  o << "<text x='20' y='" << (T + (H - T - B) / 2) << "' transform='rotate(-90 20 " << (T + (H - T - B) / 2)
    << ")' text-anchor='middle'>perplexity (log scale)</text>\n";
  const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  int k = 0;
  for (const QualityRow& r : rows) {
    if (r.results.empty()) continue;
    const char* c = colors[k % 10];
    const double px = X(r.bpw_native), py = Y(r.results[0].ppl);
    o << "<circle cx='" << px << "' cy='" << py << "' r='5' fill='" << c << "'/>";
    o << "<text x='" << (px + 7) << "' y='" << (py - 6) << "' font-size='10'>" << (k + 1) << "</text>\n";
    o << "<circle cx='" << (W - R + 20) << "' cy='" << (T + 8 + 18 * k) << "' r='5' fill='" << c << "'/>";
    o << "<text x='" << (W - R + 30) << "' y='" << (T + 12 + 18 * k) << "'>" << (k + 1) << ". " << xml_escape(r.name) << " — "
      << fmt("%.3f", r.results[0].ppl) << "</text>\n";
    ++k;
  }
  o << "</svg>\n";
  return o.str();
}

Result<std::vector<QualityRow>> quality_from_json(const std::string& text, QualityOptions* opts) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("rows") || !j["rows"].is_array())
    return error(ErrorCode::kFormatError, "quality JSON: not an object with a 'rows' array");
  std::vector<QualityRow> rows;
  try {
    opts->model = j.value("model", "");
    opts->engine.n_ctx = j.value("n_ctx", 0);
    opts->evals.clear();
    for (const auto& jr : j["rows"]) {
      QualityRow r;
      r.name = jr.at("name").get<std::string>();
      r.command = jr.at("flags").get<std::string>();
      r.file_mib = jr.at("mib").get<double>();
      r.bpw_file = jr.at("bpw_file").get<double>();
      r.bpw_native = jr.at("bpw_native").get<double>();
      r.quantize_seconds = jr.value("quantize_seconds", 0.0);
      for (const auto& je : jr.at("evals")) {
        PerplexityResult p;
        p.n_chunks = je.at("chunks").get<int>();
        p.n_ctx = opts->engine.n_ctx;
        p.n_scored = je.at("scored").get<int64_t>();
        p.ppl = je.at("ppl").get<double>();
        p.ppl_err = je.at("ppl_err").get<double>();
        p.base_ppl = je.at("base_ppl").get<double>();
        p.has_base = true;
        p.ln_ratio_err = p.ppl > 0 ? je.at("delta_ppl_err").get<double>() / p.ppl : 0.0;
        p.kld_mean = je.at("kld").get<double>();
        p.kld_err = je.at("kld_err").get<double>();
        p.same_top = je.at("same_top").get<double>();
        r.results.push_back(p);
        if (rows.empty()) opts->evals.push_back({je.at("text").get<std::string>(), "", p.n_chunks});
      }
      rows.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) { return error(ErrorCode::kFormatError, std::string("quality JSON: ") + e.what()); }
  return rows;
}

}  // namespace pocket
