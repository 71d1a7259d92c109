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
  return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16 || t == TensorType::Q8_0 || t == TensorType::Q4_0 ||
         t == TensorType::Q4_1 || t == TensorType::Q5_0 || t == TensorType::Q5_1 || t == TensorType::Q4_K || t == TensorType::Q5_K ||
         t == TensorType::Q6_K || t == TensorType::Q2_K || t == TensorType::Q3_K || t == TensorType::IQ4_NL || t == TensorType::IQ4_XS;
}

// Types whose files follow llama-quantize's per-tensor choices (head at Q6_K or Q8_0, K-quant fallbacks).
bool llama_mix(const QuantizeOptions& o) {
  return o.preset != QuantPreset::kNone || o.type == TensorType::Q5_0 || o.type == TensorType::Q5_1 || o.type == TensorType::Q4_K ||
         o.type == TensorType::Q5_K || o.type == TensorType::Q6_K || o.type == TensorType::Q2_K || o.type == TensorType::Q3_K ||
         o.type == TensorType::IQ4_NL || o.type == TensorType::IQ4_XS;
}

bool integer_group_type(TensorType t) { return t == TensorType::Q8_0 || t == TensorType::Q4_0 || t == TensorType::Q4_1; }

Status validate(const QuantizeOptions& o) {
  if (!quantizable(o.type)) return Status(ErrorCode::kInvalidArgument, std::string("type: cannot quantize to ") + traits(o.type).name, "type");
  if (o.group < 0 || o.group % 32 != 0)
    return Status(ErrorCode::kInvalidArgument, "group: " + std::to_string(o.group) + " is not a multiple of 32 (or 0 for per-channel)", "group");
  if (o.method != QuantMethod::kRtn && !integer_group_type(o.type))
    return field_error("method", std::string("gptq/awq needs an integer type (q4_0, q4_1, q8_0), not ") + traits(o.type).name);
  if ((o.method == QuantMethod::kGptq || o.method == QuantMethod::kAwqGptq) && o.prune.method != PruneMethod::kNone)
    return field_error("prune.method", "cannot be combined with method gptq (GPTQ's updates would refill the pruned weights)");
  if (o.target_bpw > 0 && o.preset != QuantPreset::kNone)
    return field_error("target_bpw", std::string("cannot be combined with the preset ") + preset_name(o.preset) + " (it fixes every tensor's type)");
  if (o.target_bpw > 0 && (!integer_group_type(o.type) || !quantizable(o.high_type)))
    return field_error("target_bpw", "needs an integer type as the low type");
  const bool needs_calib = o.method != QuantMethod::kRtn || o.prune.method == PruneMethod::kWanda || o.target_bpw > 0;
  if (needs_calib && o.calib_text.empty())
    return Status(ErrorCode::kInvalidArgument, "GPTQ, AWQ, Wanda pruning and target_bpw need a calibration text (calib_text)", "calib_text");
  return Status::ok();
}

// Target type of a tensor: automatic choice (`chosen`), then overrides, then --type. Vectors (norms,
// biases) stay F32; tensors whose rows do not fill whole blocks, or that we cannot read, stay as they are.
TensorType target_type(const TensorView& t, const QuantizeOptions& o, const std::map<std::string, TensorType>& chosen) {
  TensorType target = o.type;
  auto c = chosen.find(t.name);
  if (c != chosen.end()) target = c->second;
  for (const auto& [pattern, type] : o.overrides) {
    if (t.name.find(pattern) != std::string::npos) {
      target = type;
      break;
    }
  }
  if (t.n_dims < 2) target = TensorType::F32;
  if (t.ne[0] % traits(target).block_size != 0 || traits(t.type).to_float == nullptr) target = t.type;
  return target;
}

// Whether a tensor that nothing edits keeps its bytes: already in the target encoding (re-quantizing a
// block format at g32 round to nearest would change nothing).
bool kept_as_is(const TensorView& t, TensorType target, const GroupCodec* codec, const QuantizeOptions& o) {
  return target == t.type && (codec == nullptr || (o.group == 32 && o.method == QuantMethod::kRtn));
}

// Round to nearest of one row (through the codec for the integer types; clip: one ratio per group or nullptr).
void quantize_row_rtn(const TypeTraits& tt, const GroupCodec* codec, const float* x, int64_t cols, uint8_t* dst, const float* clip) {
  if (codec)
    codec->quantize_row(x, dst, clip);
  else
    tt.from_float(x, dst, cols);
}

// Round to nearest of a tensor read from its own type, one row at a time (the same bytes as converting
// the whole tensor first, without its float copy).
void quantize_tensor_rtn(const TensorView& t, const TypeTraits& tt, const GroupCodec* codec, const float* clip, uint8_t* dst) {
  const TypeTraits& src = traits(t.type);
  const int64_t cols = t.ne[0], rows = t.n_rows();
  const size_t in_rb = row_bytes(src, cols), out_rb = row_bytes(tt, cols);
  std::vector<float> row((size_t)cols);  // [cols]
  for (int64_t r = 0; r < rows; ++r) {
    src.to_float(t.data + (size_t)r * in_rb, row.data(), cols);
    quantize_row_rtn(tt, codec, row.data(), cols, dst + (size_t)r * out_rb, clip ? clip + r * codec->n_groups() : nullptr);
  }
}

}  // namespace

Result<std::vector<std::pair<std::string, TensorType>>> parse_tensor_types(const std::string& spec) {
  std::vector<std::pair<std::string, TensorType>> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      return Status(ErrorCode::kInvalidArgument, "overrides: '" + item + "' is not NAME=TYPE", "overrides");
    auto t = type_from_name(item.substr(eq + 1));
    if (!t || !quantizable(*t)) return Status(ErrorCode::kInvalidArgument, "overrides: unknown or unsupported type in '" + item + "'", "overrides");
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

  const std::map<std::string, TensorType> mix =
      llama_mix(opts) ? preset_tensor_types(*in, opts.type, opts.preset) : std::map<std::string, TensorType>();
  auto target_of = [&](const TensorView& t) { return target_type(t, opts, rep.chosen.empty() ? mix : rep.chosen); };

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
      } else
        base_bytes += (size_t)(t.n_elements() / traits(target).block_size) * traits(target).block_bytes;
    }
    const size_t budget = (size_t)(opts.target_bpw * (double)params / 8.0);
    smallest += base_bytes;
    if (smallest > budget)
      return field_error("target_bpw", std::to_string(opts.target_bpw).substr(0, 5) + ": the smallest choice (every candidate in " +
                                           traits(opts.type).name + ") already takes " +
                                           std::to_string(8.0 * (double)smallest / (double)params).substr(0, 5) + " bits per weight");
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
  w.set("general.file_type", GgufValue::make_u32(preset_file_type(opts.type, opts.preset)));
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
    if (!edited && kept_as_is(t, target, codec, opts)) {
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
      auto c = edits.clips.find(view->name);
      const float* clip = codec && c != edits.clips.end() ? c->second.data() : nullptr;
      const bool gptq = st != nullptr && st->cols == cols;
      auto e = edits.floats.find(view->name);
      if (e == edits.floats.end() && !gptq) {  // round to nearest of the file's values
        quantize_tensor_rtn(*view, tt, codec, clip, dst);
        return Status::ok();
      }
      std::vector<float> all;  // [rows, cols]
      const std::vector<float>* floats = nullptr;
      if (e != edits.floats.end()) {
        floats = &e->second;
      } else {
        all.resize((size_t)(rows * cols));
        const size_t in_rb = row_bytes(src, cols);
        for (int64_t r = 0; r < rows; ++r) src.to_float(view->data + (size_t)r * in_rb, all.data() + r * cols, cols);
        floats = &all;
      }
      const size_t out_rb = row_bytes(tt, cols);
      if (gptq) {
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
      } else {
        for (int64_t r = 0; r < rows; ++r)
          quantize_row_rtn(tt, codec, floats->data() + r * cols, cols, dst + (size_t)r * out_rb, clip ? clip + r * codec->n_groups() : nullptr);
      }
      return Status::ok();
    }));
  }
  POCKET_RETURN_IF_ERROR(w.write(out_path, opts.force));
  return rep;
}

Result<std::vector<ReplacementTensor>> quantize_tensors(const GgufFile& in, const QuantizeOptions& opts) {
  POCKET_RETURN_IF_ERROR(validate(opts));
  if (opts.method != QuantMethod::kRtn || opts.prune.method != PruneMethod::kNone || opts.target_bpw > 0)
    return error(ErrorCode::kUnsupported,
                 "in-memory quantization is round to nearest only (GPTQ, AWQ, pruning and a bits-per-weight target write a file)");
  const std::map<std::string, TensorType> mix =
      llama_mix(opts) ? preset_tensor_types(in, opts.type, opts.preset) : std::map<std::string, TensorType>();
  std::vector<ReplacementTensor> out;
  for (const TensorView& t : in.tensors()) {
    const TensorType target = target_type(t, opts, mix);
    std::optional<GroupCodec> codec;
    if (t.n_dims == 2 && integer_group_type(target)) {
      POCKET_ASSIGN_OR_RETURN(GroupCodec c, GroupCodec::make(target, opts.group, t.ne[0]));
      codec = c;
    }
    const GroupCodec* cp = codec ? &*codec : nullptr;
    if (kept_as_is(t, target, cp, opts)) continue;
    const TypeTraits& tt = traits(target);
    ReplacementTensor r;
    r.name = t.name;
    r.type = target;
    r.bytes.resize((size_t)(t.n_elements() / tt.block_size) * tt.block_bytes);
    quantize_tensor_rtn(t, tt, cp, nullptr, r.bytes.data());
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace pocket
