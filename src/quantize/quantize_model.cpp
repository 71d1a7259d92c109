#include "quantize/quantize_model.h"

#include <optional>
#include <sstream>

#include "engine/engine.h"
#include "format/gguf_reader.h"
#include "format/gguf_writer.h"
#include "model/model_config.h"
#include "dtype/group_codec.h"
#include "quantize/mixed_precision.h"
#include "quantize/weight_edits.h"

namespace pocket {
namespace {

bool quantizable(TensorType t) {
  return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16 || t == TensorType::Q8_0 ||
         t == TensorType::Q4_0 || t == TensorType::Q4_1;
}

bool integer_group_type(TensorType t) { return t == TensorType::Q8_0 || t == TensorType::Q4_0 || t == TensorType::Q4_1; }

// llama.cpp's general.file_type for the main type.
uint32_t file_type_of(TensorType t) {
  switch (t) {
    case TensorType::F16: return 1;
    case TensorType::Q4_0: return 2;
    case TensorType::Q4_1: return 3;
    case TensorType::Q8_0: return 7;
    case TensorType::BF16: return 32;
    default: return 0;
  }
}

Status validate(const QuantizeOptions& o) {
  if (!quantizable(o.type)) return error(ErrorCode::kInvalidArgument, std::string("--type: cannot quantize to ") + traits(o.type).name);
  if (o.group < 0 || o.group % 32 != 0)
    return error(ErrorCode::kInvalidArgument, "--group: " + std::to_string(o.group) + " is not a multiple of 32 (or 0 for per-channel)");
  if (o.method != QuantMethod::kRtn && !integer_group_type(o.type))
    return error(ErrorCode::kInvalidArgument, std::string("--method gptq/awq needs an integer --type (q4_0, q4_1, q8_0), not ") + traits(o.type).name);
  if ((o.method == QuantMethod::kGptq || o.method == QuantMethod::kAwqGptq) && o.prune.method != PruneMethod::kNone)
    return error(ErrorCode::kInvalidArgument, "--prune cannot be combined with --method gptq (GPTQ's updates would refill the pruned weights)");
  if (o.target_bpw > 0 && (!integer_group_type(o.type) || !quantizable(o.high_type)))
    return error(ErrorCode::kInvalidArgument, "--target-bpw needs an integer --type as the low type");
  const bool needs_calib = o.method != QuantMethod::kRtn || o.prune.method == PruneMethod::kWanda || o.target_bpw > 0;
  if (needs_calib && o.calib_text.empty())
    return error(ErrorCode::kInvalidArgument, "GPTQ, AWQ, Wanda pruning and --target-bpw need a calibration text (--calib FILE)");
  return Status::ok();
}

}  // namespace

Result<std::vector<std::pair<std::string, TensorType>>> parse_tensor_types(const std::string& spec) {
  std::vector<std::pair<std::string, TensorType>> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      return error(ErrorCode::kInvalidArgument, "--tensor-type: '" + item + "' is not NAME=TYPE");
    auto t = type_from_name(item.substr(eq + 1));
    if (!t || !quantizable(*t)) return error(ErrorCode::kInvalidArgument, "--tensor-type: unknown or unsupported type in '" + item + "'");
    out.emplace_back(item.substr(0, eq), *t);
  }
  return out;
}

Result<QuantizeReport> quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeOptions& opts) {
  POCKET_RETURN_IF_ERROR(validate(opts));
  auto log = [&](const std::string& s) {
    if (opts.log) opts.log(s);
  };
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> in, GgufFile::open(in_path));
  QuantizeReport rep;

  // Target type of every tensor: automatic choice, then overrides, then --type. Vectors (norms,
  // biases) stay F32; tensors whose rows do not fill whole blocks, or that we cannot read, stay as they are.
  auto target_of = [&](const TensorView& t) {
    TensorType target = opts.type;
    auto c = rep.chosen.find(t.name);
    if (c != rep.chosen.end()) target = c->second;
    for (const auto& [pattern, type] : opts.overrides) {
      if (t.name.find(pattern) != std::string::npos) {
        target = type;
        break;
      }
    }
    if (t.n_dims < 2) target = TensorType::F32;
    if (t.ne[0] % traits(target).block_size != 0 || traits(t.type).to_float == nullptr) target = t.type;
    return target;
  };

  const bool needs_calib = opts.method != QuantMethod::kRtn || opts.prune.method == PruneMethod::kWanda;
  std::optional<ModelConfig> cfg;
  if (needs_calib || opts.prune.method != PruneMethod::kNone) {
    POCKET_ASSIGN_OR_RETURN(ModelConfig c, read_model_config(*in));
    cfg = c;
  }
  Calibration cal;
  if (needs_calib) {
    EngineOptions eo;
    eo.n_threads = opts.n_threads;
    eo.n_ctx = opts.calib.n_ctx;
    eo.max_batch = 256;
    POCKET_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::load(in_path, eo));
    log("calibration: collecting input statistics of every linear layer");
    POCKET_ASSIGN_OR_RETURN(cal, collect_calibration(*engine, opts.calib_text, opts.calib));
    rep.calib_tokens = cal.n_tokens;
  }

  if (opts.target_bpw > 0) {
    std::vector<std::string> candidates;
    size_t base_bytes = 0, smallest = 0;
    int64_t params = 0;
    for (const TensorView& t : in->tensors()) {
      params += t.n_elements();
      const TensorType target = target_of(t);
      bool overridden = false;
      for (const auto& ov : opts.overrides) overridden |= t.name.find(ov.first) != std::string::npos;
      if (target == opts.type && !overridden && t.n_dims == 2) {
        candidates.push_back(t.name);
        smallest += (size_t)(t.n_elements() / traits(target).block_size) * traits(target).block_bytes;
      } else base_bytes += (size_t)(t.n_elements() / traits(target).block_size) * traits(target).block_bytes;
    }
    const size_t budget = (size_t)(opts.target_bpw * (double)params / 8.0);
    smallest += base_bytes;
    if (smallest > budget)
      return error(ErrorCode::kInvalidArgument, "--target-bpw " + std::to_string(opts.target_bpw).substr(0, 5) + ": the smallest choice (every candidate in " +
                                                    traits(opts.type).name + ") already takes " + std::to_string(8.0 * (double)smallest / (double)params).substr(0, 5) + " bits per weight");
    log("mixed precision: measuring the sensitivity of " + std::to_string(candidates.size()) + " tensors");
    SensitivityOptions so;
    so.low = opts.type;
    so.high = opts.high_type;
    so.group = opts.group;
    so.n_ctx = opts.calib.n_ctx;
    so.n_chunks = opts.sensitivity_chunks;
    so.n_threads = opts.n_threads;
    POCKET_ASSIGN_OR_RETURN(std::vector<TensorSensitivity> sens, measure_sensitivity(in_path, opts.calib_text, candidates, so));
    rep.chosen = allocate_mixed_precision(sens, base_bytes, budget, opts.type, opts.high_type);
  }

  // One codec per integer-typed 2-D tensor.
  std::map<std::string, GroupCodec> codecs;
  for (const TensorView& t : in->tensors()) {
    const TensorType target = target_of(t);
    if (t.n_dims != 2 || !integer_group_type(target)) continue;
    POCKET_ASSIGN_OR_RETURN(GroupCodec c, GroupCodec::make(target, opts.group, t.ne[0]));
    codecs.emplace(t.name, c);
  }
  auto codec_for = [&](const std::string& name) -> const GroupCodec* {
    auto it = codecs.find(name);
    return it == codecs.end() ? nullptr : &it->second;
  };

  WeightEdits edits;
  if (opts.prune.method != PruneMethod::kNone) {
    log("pruning");
    POCKET_RETURN_IF_ERROR(apply_pruning(*in, *cfg, needs_calib ? &cal : nullptr, opts.prune, &edits, &rep.prune));
  }
  const bool use_gptq = opts.method == QuantMethod::kGptq || opts.method == QuantMethod::kAwqGptq;
  if (opts.method == QuantMethod::kAwq || opts.method == QuantMethod::kAwqGptq) {
    AwqOptions ao = opts.awq;
    ao.clip = ao.clip && !use_gptq;  // GPTQ chooses the rounding itself
    log("AWQ: searching activation-aware scales" + std::string(ao.clip ? " and clipping ratios" : ""));
    POCKET_RETURN_IF_ERROR(apply_awq(*in, *cfg, cal, codec_for, ao, &edits, &rep.awq));
  }

  GgufWriter w(in->alignment());
  for (const auto& [k, v] : in->metadata()) {
    if (k != "general.alignment") w.set(k, v);
  }
  w.set("general.file_type", GgufValue::make_u32(file_type_of(opts.type)));
  w.set("general.quantization_version", GgufValue::make_u32(2));
  const size_t total = in->tensors().size();
  const bool tied = in->find_tensor("output.weight") == nullptr;
  size_t index = 0;
  for (const TensorView& t : in->tensors()) {
    const TypeTraits& src = traits(t.type);
    rep.bytes_in += t.nbytes;
    rep.params += t.n_elements();
    const TensorType target = target_of(t);
    const GroupCodec* codec = codec_for(t.name);
    const TypeTraits& tt = traits(target);
    const size_t out_bytes = (size_t)(t.n_elements() / tt.block_size) * tt.block_bytes;
    rep.native_bits += codec ? codec->native_bits_per_weight() * (double)t.n_elements() : 8.0 * (double)out_bytes;
    std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
    const bool edited = edits.has(t.name);
    if (target == t.type && !edited && (codec == nullptr || (opts.group == 32 && opts.method == QuantMethod::kRtn))) {
      // Already in the target encoding (re-quantizing a block format at g32 would change nothing).
      POCKET_RETURN_IF_ERROR(w.add_tensor_view(t.name, t.type, ne, t.data, t.nbytes));
      rep.bytes_out += t.nbytes;
      ++index;
      continue;
    }
    const int64_t cols = t.ne[0], rows = t.n_rows();
    rep.bytes_out += out_bytes;
    const size_t position = index++;
    const SiteStats* st = use_gptq && codec ? cal.stats_for(t.name, tied) : nullptr;
    POCKET_RETURN_IF_ERROR(w.add_tensor_lazy(t.name, target, ne, [&, view = &t, codec, st, cols, rows, position](uint8_t* dst) {
      if (opts.progress) opts.progress(position + 1, total, view->name);  // reported as the file is written
      std::vector<float> all;
      const std::vector<float>* floats = nullptr;
      auto e = edits.floats.find(view->name);
      if (e != edits.floats.end()) {
        floats = &e->second;
      } else {
        all.resize((size_t)(rows * cols));
        const size_t in_rb = row_bytes(src, cols);
        for (int64_t r = 0; r < rows; ++r) src.to_float(view->data + (size_t)r * in_rb, all.data() + r * cols, cols);
        floats = &all;
      }
      const size_t out_rb = row_bytes(tt, cols);
      if (st != nullptr && st->cols == cols) {
        GptqOptions go = opts.gptq;
        go.n_threads = opts.n_threads;
        const double* h = st->h.data();
        std::vector<double> scaled;  // inputs of AWQ-scaled weights are x / s: H'_ij = H_ij / (s_i s_j)
        auto cs = edits.col_scales.find(view->name);
        if (cs != edits.col_scales.end()) {
          scaled = st->h;
          for (int64_t i = 0; i < st->cols; ++i)
            for (int64_t j = 0; j < st->cols; ++j) scaled[(size_t)(i * st->cols + j)] /= (double)cs->second[(size_t)i] * cs->second[(size_t)j];
          h = scaled.data();
        }
        const Status s = gptq_quantize(*codec, floats->data(), rows, h, go, dst);
        if (!s.is_ok()) return error(ErrorCode::kUnsupported, view->name + ": " + s.message());
      } else if (codec) {
        auto c = edits.clips.find(view->name);
        const float* clip = c == edits.clips.end() ? nullptr : c->second.data();
        for (int64_t r = 0; r < rows; ++r)
          codec->quantize_row(floats->data() + r * cols, dst + (size_t)r * out_rb, clip ? clip + r * codec->n_groups() : nullptr);
      } else {
        for (int64_t r = 0; r < rows; ++r) tt.from_float(floats->data() + r * cols, dst + (size_t)r * out_rb, cols);
      }
      return Status::ok();
    }));
  }
  POCKET_RETURN_IF_ERROR(w.write(out_path, opts.force));
  return rep;
}

}  // namespace pocket
