// llama-quantize's file types as `pocket quantize --type` presets (q3_k_s/m/l, q4_k_s/m, q5_k_s/m, q6_k,
// iq4_nl, iq4_xs, and the single types q5_0, q5_1, q3_k, q4_k, q5_k): the type of every tensor, chosen as llama.cpp c392e5094's
// llama_tensor_get_type does for a Llama-family model without an importance matrix, including its
// fallbacks for rows that do not fill a 256-element super-block (Q4_K -> Q5_0, Q5_K -> Q5_1,
// Q6_K -> Q8_0, Q3_K and IQ4_XS -> IQ4_NL, then F16). With round to nearest the tensors are byte-identical to llama-quantize's.
#pragma once

#include <map>
#include <string>

#include "dtype/tensor_type.h"
#include "format/gguf_reader.h"
#include "pocket/status.h"

namespace pocket {

enum class QuantPreset { kNone, kQ2_K, kQ3_K_S, kQ3_K_M, kQ3_K_L, kQ4_K_S, kQ4_K_M, kQ5_K_S, kQ5_K_M, kQ6_K, kIQ4_NL, kIQ4_XS };

struct QuantTypeSpec {
  TensorType type = TensorType::Q8_0;  // the preset's base type
  QuantPreset preset = QuantPreset::kNone;
};

// "q4_k_m", "Q5_0", "f16", ...: a preset or a single tensor type; an error lists the names.
Result<QuantTypeSpec> parse_quant_type(const std::string& name);
const char* preset_name(QuantPreset p);

// The per-tensor types of the preset (every 2-D tensor of the file). kNone: llama.cpp's choices for a
// single-type file of `base` (the tied or separate output head at Q6_K unless base is Q8_0, fallbacks).
std::map<std::string, TensorType> preset_tensor_types(const GgufFile& in, TensorType base, QuantPreset preset);

// general.file_type llama.cpp writes for the preset (or for a single-type file of base).
uint32_t preset_file_type(TensorType base, QuantPreset preset);

}  // namespace pocket
