#include "plan/plan_report.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/text_format.h"

namespace pocket {
namespace {

std::string mib(double bytes) { return fmt("%.1f MiB", bytes / (1 << 20)); }
std::string gb(double bytes) { return fmt("%.2f GB", bytes / 1e9); }

std::string config_label(const PlanResult& r) {
  std::string s = r.weight_type + " weights, KV " + r.kv + ", ctx " + std::to_string(r.n_ctx);
  if (r.window > 0) s += " (window " + std::to_string(r.window) + ")";
  return s;
}

nlohmann::json to_json(const PlanResult& r) {
  return {{"model", r.model},
          {"device", r.device},
          {"weight_type", r.weight_type},
          {"kv", r.kv},
          {"n_ctx", r.n_ctx},
          {"kv_positions", r.kv_positions},
          {"window", r.window},
          {"threads", r.threads},
          {"memory",
           {{"weights_file", r.memory.weights},
            {"weights_resident", r.resident_weights},
            {"kv_values", r.memory.kv_values},
            {"kv_scales", r.memory.kv_scales},
            {"activations", r.memory.activations},
            {"logits", r.memory.logits},
            {"runtime_overhead", r.runtime_overhead},
            {"total", r.total},
            {"usable", r.usable}}},
          {"fits", r.fits},
          {"margin_bytes", (double)r.usable - (double)r.total},
          {"decode_tps", r.decode_tps},
          {"decode_bound", r.decode_bound},
          {"prefill_tps", r.prefill_tps},
          {"ttft_s", r.ttft_s},
          {"j_per_token", r.j_per_token},
          {"tokens_per_j", r.tokens_per_j},
          {"quality_cost", r.quality_cost},
          {"cloud",
           {{"ttft_s", r.cloud.ttft_s},
            {"tps", r.cloud.tps},
            {"device_j_per_token", r.cloud.device_j_per_token},
            {"total_j_per_token", r.cloud.total_j_per_token}}}};
}

}  // namespace

std::string plan_to_text(const PlanResult& r, const DeviceProfile& d, const std::vector<PlanResult>& options) {
  std::ostringstream os;
  os << r.model << " on " << d.name << " (" << d.description << ")\n";
  os << "configuration: " << config_label(r) << ", " << r.threads << " thread" << (r.threads > 1 ? "s" : "") << "\n\n";
  os << "memory\n";
  os << "  weights           " << mib((double)r.resident_weights) << " resident";
  os << "\n";
  os << "  KV cache          " << mib((double)(r.memory.kv_values + r.memory.kv_scales)) << " (" << r.kv << ", " << r.kv_positions
     << " positions; values " << mib((double)r.memory.kv_values) << " + scales " << mib((double)r.memory.kv_scales) << ")\n";
  os << "  activations       " << mib((double)r.memory.activations) << " (scratch for one batch) + logits " << mib((double)r.memory.logits) << "\n";
  os << "  runtime           " << mib((double)r.runtime_overhead) << " (process, tokenizer tables, thread stacks)\n";
  os << "  total             " << mib((double)r.total) << " of " << mib((double)r.usable) << " usable (" << gb((double)r.usable) << ")\n";
  const double margin = (double)r.usable - (double)r.total;
  if (r.fits)
    os << "  fits, with " << mib(margin) << " to spare (" << fmt("%.0f", 100.0 * (double)r.total / (double)r.usable) << " % used)\n";
  else
    os << "  DOES NOT FIT: over by " << mib(-margin) << "\n";
  os << "\nspeed (roofline over " << (d.measured.empty() ? "the profile's bandwidth and compute" : "this machine's measured kernel rates") << ")\n";
  os << "  decode            " << fmt("%.1f", r.decode_tps) << " tokens/s (" << r.decode_bound << "-bound)\n";
  os << "  prefill           " << fmt("%.1f", r.prefill_tps) << " tokens/s\n";
  os << "  first token       " << fmt("%.3f", r.ttft_s) << " s\n";
  os << "\nenergy\n";
  if (r.j_per_token > 0)
    os << "  " << fmt("%.3f", r.j_per_token) << " J/token, " << fmt("%.1f", r.tokens_per_j) << " tokens per joule (at " << fmt("%.1f", d.power_w)
       << " W)\n";
  else
    os << "  unknown: the profile has no power_w (pocket calibrate found no readable energy counter)\n";
  os << "\ncloud, same request (assumed: " << fmt("%.0f", r.cloud.tps) << " tokens/s streamed)\n";
  os << "  first token       " << fmt("%.3f", r.cloud.ttft_s) << " s (network round trip + server)\n";
  os << "  energy            " << fmt("%.3f", r.cloud.device_j_per_token) << " J/token from the battery (radio), "
     << fmt("%.3f", r.cloud.total_j_per_token) << " J/token with network and data centre\n";
  if (!options.empty()) {
    os << "\nconfigurations that fit, best first (longest context, then expected quality, then speed):\n";
    for (const PlanResult& o : options)
      os << "  " << config_label(o) << ": " << mib((double)o.total) << ", " << fmt("%.1f", o.decode_tps) << " tokens/s, quality cost "
         << fmt("%.3f", o.quality_cost) << "\n";
  } else if (!r.fits) {
    os << "\nno configuration fits (weights F16..Q4_0, KV f16..q4, context down to 512)\n";
  }
  return os.str();
}

std::string plan_to_json(const std::vector<PlanResult>& plans, const std::vector<std::vector<PlanResult>>& options) {
  nlohmann::json a = nlohmann::json::array();
  for (size_t i = 0; i < plans.size(); ++i) {
    nlohmann::json j = to_json(plans[i]);
    nlohmann::json o = nlohmann::json::array();
    if (i < options.size())
      for (const PlanResult& x : options[i]) o.push_back(to_json(x));
    j["fitting_configurations"] = o;
    a.push_back(j);
  }
  return a.dump(2) + "\n";
}

std::string plans_to_table(const std::vector<PlanResult>& plans) {
  std::ostringstream os;
  os << "| model | device | config | fits | memory | decode tok/s | prefill tok/s | first token s | tokens/J |\n";
  os << "|---|---|---|---|---|---|---|---|---|\n";
  for (const PlanResult& r : plans) {
    os << "| " << r.model << " | " << r.device << " | " << r.weight_type << ", KV " << r.kv << ", ctx " << r.n_ctx << " | " << (r.fits ? "yes" : "no")
       << " | " << mib((double)r.total) << " / " << gb((double)r.usable) << " | " << fmt("%.1f", r.decode_tps) << " | " << fmt("%.0f", r.prefill_tps)
       << " | " << fmt("%.2f", r.ttft_s) << " | " << (r.tokens_per_j > 0 ? fmt("%.1f", r.tokens_per_j) : std::string("n/a")) << " |\n";
  }
  return os.str();
}

// Horizontal bars: decode tokens/s per device, green where it fits, grey where it does not.
std::string plans_to_svg(const std::vector<PlanResult>& plans, const std::string& title) {
  const int row_h = 26, left = 190, width = 720, top = 40;
  const int height = top + row_h * (int)plans.size() + 40;
  double vmax = 1;
  for (const PlanResult& r : plans) vmax = std::max(vmax, r.decode_tps);
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
     << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  os << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"10\" y=\"22\" font-size=\"14\" font-weight=\"bold\">" << xml_escape(title) << "</text>\n";
  const double span = width - left - 120;
  for (size_t i = 0; i < plans.size(); ++i) {
    const PlanResult& r = plans[i];
    const int y = top + (int)i * row_h;
    const double w = std::max(1.0, span * r.decode_tps / vmax);
    os << "<text x=\"" << left - 8 << "\" y=\"" << y + 16 << "\" text-anchor=\"end\">" << xml_escape(r.device) << "</text>\n";
    os << "<rect x=\"" << left << "\" y=\"" << y + 4 << "\" width=\"" << fmt("%.1f", w) << "\" height=\"" << row_h - 8 << "\" fill=\""
       << (r.fits ? "#3a9a5b" : "#b0b0b0") << "\"/>\n";
    os << "<text x=\"" << left + (int)w + 6 << "\" y=\"" << y + 16 << "\">" << fmt("%.1f", r.decode_tps) << " tok/s"
       << (r.fits ? "" : " (does not fit)") << "</text>\n";
  }
  os << "<text x=\"" << left << "\" y=\"" << height - 12
     << "\" fill=\"#555\">predicted decode tokens/s (pocket plan); grey: does not fit the usable RAM</text>\n";
  os << "</svg>\n";
  return os.str();
}

}  // namespace pocket
