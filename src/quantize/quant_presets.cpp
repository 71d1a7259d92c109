#include "quantize/quant_presets.h"

#include <cstdio>

namespace pocket {

namespace {

struct PresetName {
  const char* name;
  TensorType type;
  QuantPreset preset;
};

const PresetName kPresets[] = {
    {"q2_k", TensorType::Q2_K, QuantPreset::kQ2_K},       {"q3_k_s", TensorType::Q3_K, QuantPreset::kQ3_K_S},
    {"q3_k_m", TensorType::Q3_K, QuantPreset::kQ3_K_M},   {"q3_k_l", TensorType::Q3_K, QuantPreset::kQ3_K_L},
    {"iq4_nl", TensorType::IQ4_NL, QuantPreset::kIQ4_NL}, {"iq4_xs", TensorType::IQ4_XS, QuantPreset::kIQ4_XS},
    {"q4_k_s", TensorType::Q4_K, QuantPreset::kQ4_K_S},   {"q4_k_m", TensorType::Q4_K, QuantPreset::kQ4_K_M},
    {"q5_k_s", TensorType::Q5_K, QuantPreset::kQ5_K_S},   {"q5_k_m", TensorType::Q5_K, QuantPreset::kQ5_K_M},
    {"q6_k", TensorType::Q6_K, QuantPreset::kQ6_K},
};

std::string lower(std::string s) {
  for (char& c : s) c = (char)std::tolower((unsigned char)c);
  return s;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third one in between.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

int layer_of(const std::string& name) {
  int l = -1;
  return std::sscanf(name.c_str(), "blk.%d.", &l) == 1 ? l : -1;
}

TensorType fallback(TensorType t, int64_t cols) {
  if (cols % traits(t).block_size == 0) return t;
  switch (t) {
    case TensorType::Q4_K: t = TensorType::Q5_0; break;
    case TensorType::Q5_K: t = TensorType::Q5_1; break;
    case TensorType::Q6_K: t = TensorType::Q8_0; break;
    case TensorType::Q3_K:
    case TensorType::Q2_K:
    case TensorType::IQ4_XS: t = TensorType::IQ4_NL; break;
    default: return t;  // a 32-block type on rows that are not whole blocks: kept as it is by the quantizer
  }
  return cols % traits(t).block_size == 0 ? t : TensorType::F16;
}

}  // namespace

Result<QuantTypeSpec> parse_quant_type(const std::string& name) {
  const std::string n = lower(name);
  for (const PresetName& p : kPresets)
    if (n == p.name) return QuantTypeSpec{p.type, p.preset};
  auto t = type_from_name(n);
  if (t) return QuantTypeSpec{*t, QuantPreset::kNone};
  return Status(ErrorCode::kInvalidArgument,
                "type: unknown type '" + name +
                    "' (q8_0, q6_k, q5_k_m, q5_k_s, q5_1, q5_0, q4_k_m, q4_k_s, q4_1, q4_0, iq4_xs, iq4_nl, q3_k_l, q3_k_m, q3_k_s, q5_k, q4_k, "
                    "q3_k, f16, bf16, f32)",
                "type");
}

const char* preset_name(QuantPreset p) {
  for (const PresetName& n : kPresets)
    if (n.preset == p) return n.name;
  return "";
}

std::map<std::string, TensorType> preset_tensor_types(const GgufFile& in, TensorType base, QuantPreset preset) {
  const bool has_output = in.find_tensor("output.weight") != nullptr;
  // Grouped-query attention ratio (IQ4 presets give attn_v more bits at >= 4): from the {arch}.* keys.
  const std::string arch = in.get_string_or("general.architecture", "llama");
  const uint64_t n_head = in.get_uint_or(arch + ".attention.head_count", 1);
  const uint64_t n_head_kv = in.get_uint_or(arch + ".attention.head_count_kv", n_head);
  const uint64_t n_gqa = n_head_kv ? n_head / n_head_kv : 1;
  int n_v = 0, n_down = 0;
  for (const TensorView& t : in.tensors()) {
    n_v += t.name.find("attn_v.weight") != std::string::npos;
    n_down += t.name.find("ffn_down") != std::string::npos;
  }
  std::map<std::string, TensorType> out;
  for (const TensorView& t : in.tensors()) {
    if (t.n_dims != 2) continue;
    const std::string& name = t.name;
    const int64_t cols = t.ne[0];
    TensorType type = base;
    const int layer = layer_of(name);
    if (name == "output.weight" || (!has_output && name == "token_embd.weight")) {
      if (cols % traits(type).block_size != 0)
        type = TensorType::Q8_0;
      else if (type != TensorType::Q8_0 && type != TensorType::F16 && type != TensorType::BF16 && type != TensorType::F32)
        type = TensorType::Q6_K;
    } else if (name.find("attn_v.weight") != std::string::npos) {
      const bool iq4 = preset == QuantPreset::kIQ4_NL || preset == QuantPreset::kIQ4_XS;
      if (preset == QuantPreset::kQ2_K)
        type = n_gqa >= 4 ? TensorType::Q4_K : TensorType::Q3_K;
      else if (preset == QuantPreset::kQ3_K_M)
        type = layer < 2 ? TensorType::Q5_K : TensorType::Q4_K;
      else if (preset == QuantPreset::kQ3_K_L)
        type = TensorType::Q5_K;
      else if (iq4 && n_gqa >= 4)
        type = TensorType::Q5_K;
      else if ((preset == QuantPreset::kQ4_K_M || preset == QuantPreset::kQ5_K_M) && use_more_bits(layer, n_v))
        type = TensorType::Q6_K;
      else if (preset == QuantPreset::kQ4_K_S && layer < 4)
        type = TensorType::Q5_K;
    } else if (name.find("ffn_down") != std::string::npos) {
      const bool iq4 = preset == QuantPreset::kIQ4_NL || preset == QuantPreset::kIQ4_XS;
      if (preset == QuantPreset::kQ2_K)
        type = TensorType::Q3_K;
      else if (preset == QuantPreset::kQ3_K_M)
        type = layer < n_down / 16 ? TensorType::Q5_K : TensorType::Q4_K;
      else if (preset == QuantPreset::kQ3_K_L)
        type = TensorType::Q5_K;
      else if (preset == QuantPreset::kQ4_K_M && use_more_bits(layer, n_down))
        type = TensorType::Q6_K;
      else if (iq4 && layer < n_down / 8)
        type = TensorType::Q5_K;
      else if (preset == QuantPreset::kQ5_K_M && use_more_bits(layer, n_down))
        type = TensorType::Q6_K;
      else if (preset == QuantPreset::kQ4_K_S && layer < n_down / 8)
        type = TensorType::Q5_K;
    } else if (name.find("attn_output.weight") != std::string::npos) {
      if (preset == QuantPreset::kQ2_K) type = TensorType::Q3_K;
      if (preset == QuantPreset::kQ3_K_M) type = TensorType::Q4_K;
      if (preset == QuantPreset::kQ3_K_L) type = TensorType::Q5_K;
    } else if (name.find("attn_qkv.weight") != std::string::npos) {
      if (preset == QuantPreset::kQ4_K_M) type = TensorType::Q5_K;
      if (preset == QuantPreset::kQ5_K_M) type = TensorType::Q6_K;
    }
    out[name] = fallback(type, cols);
  }
  return out;
}

uint32_t preset_file_type(TensorType base, QuantPreset preset) {
  switch (preset) {
    case QuantPreset::kQ2_K: return 10;
    case QuantPreset::kQ3_K_S: return 11;
    case QuantPreset::kQ3_K_M: return 12;
    case QuantPreset::kQ3_K_L: return 13;
    case QuantPreset::kIQ4_NL: return 25;
    case QuantPreset::kIQ4_XS: return 30;
    case QuantPreset::kQ4_K_S: return 14;
    case QuantPreset::kQ4_K_M: return 15;
    case QuantPreset::kQ5_K_S: return 16;
    case QuantPreset::kQ5_K_M: return 17;
    case QuantPreset::kQ6_K: return 18;
    case QuantPreset::kNone: break;
  }
  switch (base) {
    case TensorType::F32: return 0;
    case TensorType::F16: return 1;
    case TensorType::Q4_0: return 2;
    case TensorType::Q4_1: return 3;
    case TensorType::Q8_0: return 7;
    case TensorType::Q5_0: return 8;
    case TensorType::Q5_1: return 9;
    case TensorType::Q2_K: return 10;
    case TensorType::Q3_K: return 12;  // as Q3_K_M: llama.cpp has no plain Q3_K file type
    case TensorType::IQ4_NL: return 25;
    case TensorType::IQ4_XS: return 30;
    case TensorType::Q4_K: return 15;  // as Q4_K_M: llama.cpp has no plain Q4_K file type
    case TensorType::Q5_K: return 17;
    case TensorType::Q6_K: return 18;
    case TensorType::BF16: return 32;
    default: return 0;
  }
}

}  // namespace pocket
