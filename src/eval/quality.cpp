#include "eval/quality.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/mapped_file.h"
#include "engine/engine.h"

namespace pocket {

std::vector<QualityVariant> standard_quality_variants(const std::string& calib_text, int n_threads) {
  std::vector<QualityVariant> v;
  auto add = [&](const std::string& name, const std::string& cmd, auto setup) {
    QualityVariant q;
    q.name = name;
    q.command = cmd;
    q.quantize.calib_text = calib_text;
    q.quantize.n_threads = n_threads;
    q.quantize.force = true;
    setup(q.quantize);
    v.push_back(q);
  };
  QualityVariant base;
  base.name = "F32 (reference)";
  base.command = "";
  base.is_base = true;
  v.push_back(base);
  add("INT8 per block of 32 (Q8_0)", "--type q8_0", [](QuantizeOptions& o) { o.type = TensorType::Q8_0; });
  add("INT8 per channel", "--type q8_0 --group channel", [](QuantizeOptions& o) {
    o.type = TensorType::Q8_0;
    o.group = 0;
  });
  auto int4 = [&](const std::string& name, const std::string& cmd, TensorType t, int64_t group, QuantMethod m, bool act_order) {
    add(name, cmd, [=](QuantizeOptions& o) {
      o.type = t;
      o.group = group;
      o.method = m;
      o.gptq.act_order = act_order;
    });
  };
  int4("INT4 RTN sym g32 (Q4_0)", "--type q4_0", TensorType::Q4_0, 32, QuantMethod::kRtn, false);
  int4("INT4 RTN sym g128", "--type q4_0 --group 128", TensorType::Q4_0, 128, QuantMethod::kRtn, false);
  int4("INT4 RTN asym g32 (Q4_1)", "--type q4_1", TensorType::Q4_1, 32, QuantMethod::kRtn, false);
  int4("INT4 RTN asym g128", "--type q4_1 --group 128", TensorType::Q4_1, 128, QuantMethod::kRtn, false);
  int4("INT4 GPTQ sym g32", "--type q4_0 --method gptq", TensorType::Q4_0, 32, QuantMethod::kGptq, false);
  int4("INT4 GPTQ sym g32 act-order", "--type q4_0 --method gptq --act-order", TensorType::Q4_0, 32, QuantMethod::kGptq, true);
  int4("INT4 AWQ sym g32", "--type q4_0 --method awq", TensorType::Q4_0, 32, QuantMethod::kAwq, false);
  int4("INT4 AWQ+GPTQ sym g32", "--type q4_0 --method awq+gptq", TensorType::Q4_0, 32, QuantMethod::kAwqGptq, false);
  int4("INT4 GPTQ sym g128", "--type q4_0 --group 128 --method gptq", TensorType::Q4_0, 128, QuantMethod::kGptq, false);
  add("mixed Q4_0/Q8_0 at 5.0 bpw (measured sensitivity)", "--type q4_0 --target-bpw 5.0", [&](QuantizeOptions& o) {
    o.type = TensorType::Q4_0;
    o.target_bpw = 5.0;
  });
  add("2:4 pruned, Wanda (F32)", "--type f32 --prune wanda --pattern 2:4", [](QuantizeOptions& o) {
    o.type = TensorType::F32;
    o.prune.method = PruneMethod::kWanda;
    o.prune.pattern = PrunePattern::k2of4;
  });
  add("2:4 pruned, magnitude (F32)", "--type f32 --prune magnitude --pattern 2:4", [](QuantizeOptions& o) {
    o.type = TensorType::F32;
    o.prune.method = PruneMethod::kMagnitude;
    o.prune.pattern = PrunePattern::k2of4;
  });
  add("50 % pruned, Wanda (F32)", "--type f32 --prune wanda --sparsity 0.5", [](QuantizeOptions& o) {
    o.type = TensorType::F32;
    o.prune.method = PruneMethod::kWanda;
    o.prune.sparsity = 0.5;
  });
  return v;
}

Status check_disjoint(const std::string& calib, const std::string& eval, const std::string& label) {
  // 32 windows of 64 bytes spread over the evaluation text: none may occur in the calibration text.
  constexpr size_t kWindow = 64;
  if (calib.empty() || eval.size() < kWindow) return Status::ok();
  for (int i = 0; i < 32; ++i) {
    const size_t at = (eval.size() - kWindow) * (size_t)i / 31;
    if (calib.find(eval.substr(at, kWindow)) != std::string::npos)
      return error(ErrorCode::kInvalidArgument, "the calibration text overlaps the evaluation text " + label + " (at byte " + std::to_string(at) +
                                                    "): calibrate and evaluate on different texts");
  }
  return Status::ok();
}

Result<std::vector<QualityRow>> run_quality(const std::vector<QualityVariant>& variants, const QualityOptions& opts) {
  auto log = [&](const std::string& s) {
    if (opts.log) opts.log(s);
  };
  std::vector<std::string> texts;
  for (const QualityEval& e : opts.evals) {
    POCKET_ASSIGN_OR_RETURN(std::string t, read_text_file(e.path));
    for (const QualityVariant& v : variants) POCKET_RETURN_IF_ERROR(check_disjoint(v.quantize.calib_text, t, e.label));
    texts.push_back(std::move(t));
  }
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Engine> base, Engine::load(opts.model, opts.engine));
  std::vector<QualityRow> rows;
  for (size_t vi = 0; vi < variants.size(); ++vi) {
    const QualityVariant& v = variants[vi];
    QualityRow row;
    row.name = v.name;
    row.command = v.command;
    std::string path = opts.model;
    std::unique_ptr<Engine> own;
    Engine* eng = base.get();
    size_t tensor_bytes = 0;
    int64_t params = 0;
    for (const TensorView& t : base->model().file().tensors()) {
      tensor_bytes += t.nbytes;
      params += t.n_elements();
    }
    if (!v.is_base) {
      path = opts.work_dir + "/quality-" + std::to_string(vi) + ".gguf";
      log("[" + std::to_string(vi + 1) + "/" + std::to_string(variants.size()) + "] quantizing: " + v.name);
      const auto t0 = std::chrono::steady_clock::now();
      POCKET_ASSIGN_OR_RETURN(QuantizeReport rep, quantize_model(opts.model, path, v.quantize));
      row.quantize_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      row.bpw_file = rep.bits_per_weight();
      row.bpw_native = rep.native_bits_per_weight();
      tensor_bytes = rep.bytes_out;
      POCKET_ASSIGN_OR_RETURN(own, Engine::load(path, opts.engine));
      eng = own.get();
    } else {
      row.bpw_file = row.bpw_native = params ? 8.0 * (double)tensor_bytes / (double)params : 0.0;
    }
    row.file_mib = (double)tensor_bytes / (1 << 20);
    for (size_t e = 0; e < opts.evals.size(); ++e) {
      log("    evaluating on " + opts.evals[e].label);
      PerplexityOptions po;
      po.n_chunks = opts.evals[e].n_chunks;
      POCKET_ASSIGN_OR_RETURN(PerplexityResult r, compute_perplexity(*eng, texts[e], po, v.is_base ? nullptr : base.get()));
      if (v.is_base) {  // the reference against itself: no difference by definition
        r.has_base = true;
        r.base_ppl = r.ppl;
        r.same_top = 1.0;
      }
      row.results.push_back(r);
    }
    own.reset();
    if (!v.is_base && !opts.keep_files) std::remove(path.c_str());
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace pocket
