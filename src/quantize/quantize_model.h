// `pocket quantize`: re-encode a GGUF model's weights. Round-to-nearest block formats with any group
// size (32 = GGUF's own; 64/128/per-channel share one scale across blocks), GPTQ and AWQ from a
// calibration text, magnitude/Wanda pruning (unstructured or 2:4), per-tensor overrides and an
// automatic mixed-precision mode that meets a bits-per-weight target by measured sensitivity.
// Metadata is copied; the output is written atomically (temp file + rename).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "format/gguf_reader.h"
#include "model/model_weights.h"
#include "pocket/status.h"
#include "quantize/quant_presets.h"
#include "quantize/awq.h"
#include "quantize/calibration.h"
#include "quantize/gptq.h"
#include "quantize/prune.h"
#include "dtype/tensor_type.h"

namespace pocket {

// kAwqGptq: AWQ's scales first, then GPTQ on the scaled weights (the two are complementary).
enum class QuantMethod { kRtn, kGptq, kAwq, kAwqGptq };

struct QuantizeOptions {
  TensorType type = TensorType::Q8_0;
  // llama-quantize's file types (q4_k_m, ...): per-tensor types as llama.cpp chooses them (quant_presets.h).
  // Files of the types llama.cpp added after Q8_0/Q4_0/Q4_1 (Q5_0, Q5_1, the K-quants) follow its choices
  // for the output head and its fallbacks even without a preset.
  QuantPreset preset = QuantPreset::kNone;
  // (substring of a tensor name, type): the first matching rule wins over `type`, e.g. {"output", Q8_0}.
  std::vector<std::pair<std::string, TensorType>> overrides;
  int64_t group = 32;  // elements per scale for Q8_0/Q4_0/Q4_1: 32 (GGUF), 64, 128, ...; 0 = per output channel
  QuantMethod method = QuantMethod::kRtn;
  GptqOptions gptq;
  AwqOptions awq;
  PruneOptions prune;
  // Automatic mixed precision: > 0 gives more bits (high_type) to the tensors whose low-bit version
  // hurts most (KL divergence measured on the calibration text, per byte) until this bits per weight.
  double target_bpw = 0.0;
  TensorType high_type = TensorType::Q8_0;
  int sensitivity_chunks = 2;  // calibration chunks used to measure each tensor's sensitivity
  std::string calib_text;      // calibration text (GPTQ, AWQ, Wanda, automatic mixed precision)
  CalibrationOptions calib;
  int n_threads = 1;
  bool force = false;
  std::function<void(size_t done, size_t total, const std::string& name)> progress;
  std::function<void(const std::string& stage)> log;  // one line per pipeline stage (calibration, search, ...)
};

struct QuantizeReport {
  size_t bytes_in = 0, bytes_out = 0;
  int64_t params = 0;
  double native_bits = 0;  // sum over tensors of elements * bits per weight of a native layout of the group size
  int64_t calib_tokens = 0;
  AwqReport awq;
  PruneReport prune;
  std::map<std::string, TensorType> chosen;  // automatic mixed precision: the type given to each tensor
  double bits_per_weight() const { return params ? 8.0 * (double)bytes_out / (double)params : 0.0; }
  double native_bits_per_weight() const { return params ? native_bits / (double)params : 0.0; }
};

// Parses "name=type[,name=type...]" (e.g. "output=q8_0,ffn_down=q4_1").
Result<std::vector<std::pair<std::string, TensorType>>> parse_tensor_types(const std::string& spec);

Result<QuantizeReport> quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeOptions& opts);

// The same re-encoding in memory, without a file: every tensor of `in` that quantize_model() would
// re-encode (the same target types: --type, overrides, vectors F32), with the bytes it would write;
// the tensors it would copy are left out. Round to nearest only (method kRtn, no pruning, no
// target_bpw: those need calibration; an error says so). For Model::replace_tensors (self-drafts).
Result<std::vector<ReplacementTensor>> quantize_tensors(const GgufFile& in, const QuantizeOptions& opts);

}  // namespace pocket
