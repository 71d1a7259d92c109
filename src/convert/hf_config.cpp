#include "convert/hf_config.h"

#include <cmath>

namespace pocket {
namespace {

using namespace hf_json;

constexpr HfFamily kHfFamilies[] = {
    // model_type     arch       permute qkv_bias qk_norm gemma  fused
    {"llama", "llama", true, false, false, false, false},   {"mistral", "llama", true, false, false, false, false},
    {"qwen2", "qwen2", false, true, false, false, false},   {"qwen3", "qwen3", false, false, true, false, false},
    {"gemma2", "gemma2", false, false, false, true, false}, {"gemma3_text", "gemma3", false, false, true, true, false},
    {"phi3", "phi3", false, false, false, false, true},     {"smollm3", "smollm3", true, false, false, false, false},
};

std::string family_list() {
  std::string s;
  for (const HfFamily& f : kHfFamilies) s += (s.empty() ? "" : ", ") + std::string(f.model_type);
  return s;
}

// A list of finite numbers, or an error naming `field`.
Status get_numbers(const json& j, const std::string& path, const std::string& field, std::vector<double>* out) {
  if (!j.is_array()) return bad(path, field, "must be an array of numbers");
  for (const json& v : j) {
    if (!v.is_number() || !std::isfinite(v.get<double>())) return bad(path, field, "must be an array of finite numbers");
    out->push_back(v.get<double>());
  }
  return Status::ok();
}

Status get_double(const json& j, const std::string& path, const std::string& key, double def, double* out, const std::string& field) {
  *out = def;
  if (!j.contains(key) || j[key].is_null()) return Status::ok();
  if (!j[key].is_number() || !std::isfinite(j[key].get<double>())) return bad(path, field, "must be a finite number");
  *out = j[key].get<double>();
  return Status::ok();
}

void set_u32(HfModelPlan& p, const std::string& key, int64_t v) { p.keys.emplace_back(p.hp.arch + "." + key, GgufValue::make_u32((uint32_t)v)); }
void set_f32(HfModelPlan& p, const std::string& key, double v) { p.keys.emplace_back(p.hp.arch + "." + key, GgufValue::make_f32((float)v)); }

// rope_scaling: null, "linear" (any family), "llama3" (Llama-style families), "longrope"/"su" (Phi-3).
Status plan_rope_scaling(const json& cfg, const std::string& path, HfModelPlan& p, int64_t rope_dim) {
  if (!cfg.contains("rope_scaling") || cfg["rope_scaling"].is_null()) return Status::ok();
  const json& rs = cfg["rope_scaling"];
  if (!rs.is_object()) return bad(path, "rope_scaling", "must be an object or null");
  std::string type;
  POCKET_RETURN_IF_ERROR(get_string(rs, path, "type", "", &type, "rope_scaling.type"));
  POCKET_RETURN_IF_ERROR(get_string(rs, path, "rope_type", type, &type, "rope_scaling.rope_type"));
  const std::string fam = p.family->model_type;
  if (type == "linear") {
    double factor = 0;
    POCKET_RETURN_IF_ERROR(get_double(rs, path, "factor", 0, &factor, "rope_scaling.factor"));
    if (!(factor >= 1.0 && factor <= 1024.0)) return bad(path, "rope_scaling.factor", "linear scaling needs a factor in [1, 1024]");
    p.keys.emplace_back(p.hp.arch + ".rope.scaling.type", GgufValue::make_string("linear"));
    set_f32(p, "rope.scaling.factor", factor);
    return Status::ok();
  }
  if (type == "llama3" && p.family->permute_qk) {
    double factor = 8, lo = 1, hi = 4, old = 8192;  // convert_hf_to_gguf's defaults
    POCKET_RETURN_IF_ERROR(get_double(rs, path, "factor", factor, &factor, "rope_scaling.factor"));
    POCKET_RETURN_IF_ERROR(get_double(rs, path, "low_freq_factor", lo, &lo, "rope_scaling.low_freq_factor"));
    POCKET_RETURN_IF_ERROR(get_double(rs, path, "high_freq_factor", hi, &hi, "rope_scaling.high_freq_factor"));
    POCKET_RETURN_IF_ERROR(get_double(rs, path, "original_max_position_embeddings", old, &old, "rope_scaling.original_max_position_embeddings"));
    if (!(factor >= 1 && lo > 0 && hi > lo && old >= 1))
      return bad(path, "rope_scaling",
                 "llama3 scaling needs factor >= 1, 0 < low_freq_factor < high_freq_factor, original_max_position_embeddings >= 1");
    p.tensors.emplace_back("rope_freqs.weight", llama3_rope_factors(p.hp.rope_freq_base, rope_dim, factor, lo, hi, old));
    return Status::ok();
  }
  if ((type == "longrope" || type == "su") && p.family->fused) {
    int64_t orig = 0;
    POCKET_RETURN_IF_ERROR(get_int(cfg, path, "original_max_position_embeddings", true, 0, &orig));
    const double scale = (double)p.hp.n_ctx / (double)orig;
    set_f32(p, "rope.scaling.attn_factor", scale <= 1.0 ? 1.0 : std::sqrt(1.0 + std::log(scale) / std::log((double)orig)));
    for (const char* which : {"long", "short"}) {
      const std::string key = std::string(which) + "_factor", field = "rope_scaling." + key;
      if (!rs.contains(key)) return bad(path, field, "required key is missing");
      std::vector<double> v;
      POCKET_RETURN_IF_ERROR(get_numbers(rs[key], path, field, &v));
      if ((int64_t)v.size() != rope_dim / 2) return bad(path, field, "needs " + std::to_string(rope_dim / 2) + " values (rotated dimensions / 2)");
      p.tensors.emplace_back("rope_factors_" + std::string(which) + ".weight", std::vector<float>(v.begin(), v.end()));
    }
    return Status::ok();
  }
  return error(ErrorCode::kUnsupported, path + ": rope_scaling: type '" + type + "' is not supported for " + fam +
                                            (p.family->fused        ? " (linear, longrope)"
                                             : p.family->permute_qk ? " (linear, llama3)"
                                                                    : " (linear)"));
}

Status check_activation(const json& cfg, const std::string& path, const HfFamily& fam) {
  const char* want = fam.gemma ? "gelu_pytorch_tanh" : "silu";
  for (const char* key : {"hidden_act", "hidden_activation"}) {
    std::string act;
    POCKET_RETURN_IF_ERROR(get_string(cfg, path, key, want, &act));
    if (act != want && !(fam.gemma && act == "gelu_tanh"))
      return error(ErrorCode::kUnsupported, path + ": " + key + ": '" + act + "' is not supported for " + fam.model_type + " (" + want + ")");
  }
  return Status::ok();
}

// Gemma: the q scale pocket and llama.cpp apply is 1/sqrt(head_dim), or 1/sqrt(n_embd / n_head) for the
// 27B layer counts (families/family_gemma.cpp); a query_pre_attn_scalar that differs is refused.
Status plan_gemma(const json& cfg, const std::string& path, HfModelPlan& p, int64_t hd) {
  const bool g3 = std::string(p.family->model_type) == "gemma3_text";
  const int64_t n27 = g3 ? 62 : 46;
  const double expect = p.hp.n_layer == n27 ? (double)(p.hp.n_embd / p.hp.n_head) : (double)hd;
  double qpas = expect;
  POCKET_RETURN_IF_ERROR(get_double(cfg, path, "query_pre_attn_scalar", expect, &qpas, "query_pre_attn_scalar"));
  if (qpas != expect)
    return error(ErrorCode::kUnsupported, path + ": query_pre_attn_scalar: " + std::to_string((int64_t)qpas) + " differs from the " +
                                              std::to_string((int64_t)expect) + " that llama.cpp's " + p.hp.arch +
                                              " applies (1/sqrt of it scales q)");
  int64_t window = 0;
  POCKET_RETURN_IF_ERROR(get_int(cfg, path, "sliding_window", true, 0, &window));
  set_u32(p, "attention.sliding_window", window);
  for (const char* key : {"attn_logit_softcapping", "final_logit_softcapping"}) {
    double cap = 0;
    POCKET_RETURN_IF_ERROR(get_double(cfg, path, key, 0, &cap, key));
    if (cap < 0) return bad(path, key, "must be >= 0");
    if (g3 && cap != 0) return error(ErrorCode::kUnsupported, path + ": " + key + ": soft-capping is not part of Gemma 3 (null expected)");
    if (!g3) {
      if (cap == 0) return bad(path, key, "Gemma 2 needs a soft-capping value");
      set_f32(p, key, cap);
    }
  }
  if (g3) {
    int64_t pattern = 6;
    POCKET_RETURN_IF_ERROR(get_int(cfg, path, "sliding_window_pattern", false, 6, &pattern));
    if (pattern != 6)
      return error(ErrorCode::kUnsupported, path + ": sliding_window_pattern: " + std::to_string(pattern) + " (llama.cpp's gemma3 fixes 6)");
    if (cfg.contains("layer_types") && !cfg["layer_types"].is_null()) {
      const json& lt = cfg["layer_types"];
      if (!lt.is_array() || (int64_t)lt.size() != p.hp.n_layer) return bad(path, "layer_types", "must list every layer");
      for (int64_t l = 0; l < p.hp.n_layer; ++l)
        if (lt[(size_t)l] != (l % 6 < 5 ? "sliding_attention" : "full_attention"))
          return error(ErrorCode::kUnsupported, path + ": layer_types[" + std::to_string(l) + "]: not the 5 sliding + 1 full pattern");
    }
    double local_base = 10000;
    POCKET_RETURN_IF_ERROR(get_double(cfg, path, "rope_local_base_freq", local_base, &local_base, "rope_local_base_freq"));
    if (!(local_base > 1)) return bad(path, "rope_local_base_freq", "must be > 1");
    set_f32(p, "rope.freq_base_swa", local_base);
  }
  return Status::ok();
}

}  // namespace

std::vector<float> llama3_rope_factors(double base, int64_t rope_dim, double factor, double low, double high, double old_ctx) {
  const double kPi = 3.14159265358979323846;
  std::vector<float> f;
  for (int64_t i = 0; i < rope_dim; i += 2) {
    const double freq = 1.0 / std::pow(base, (double)i / (double)rope_dim), wavelen = 2 * kPi / freq;
    if (wavelen < old_ctx / high)
      f.push_back(1.0f);
    else if (wavelen > old_ctx / low)
      f.push_back((float)factor);
    else {
      const double smooth = (old_ctx / wavelen - low) / (high - low);
      f.push_back((float)(1.0 / ((1 - smooth) / factor + smooth)));
    }
  }
  return f;
}

Result<HfModelPlan> plan_hf_model(const json& cfg, const std::string& path, const std::string& name) {
  if (!cfg.is_object()) return bad(path, "(root)", "not a JSON object");
  std::string mt;
  POCKET_RETURN_IF_ERROR(get_string(cfg, path, "model_type", "", &mt));
  HfModelPlan p;
  for (const HfFamily& f : kHfFamilies)
    if (mt == f.model_type) p.family = &f;
  if (mt == "gemma3")
    return error(ErrorCode::kUnsupported, path + ": model_type: 'gemma3' is the multimodal checkpoint; its text model (gemma3_text) is supported");
  if (p.family == nullptr) return error(ErrorCode::kUnsupported, path + ": model_type: '" + mt + "' is not supported (" + family_list() + ")");
  const HfFamily& fam = *p.family;
  LlamaHParams& hp = p.hp;
  hp.arch = fam.arch;
  hp.name = name;
  POCKET_RETURN_IF_ERROR(get_int(cfg, path, "hidden_size", true, 0, &hp.n_embd));
  POCKET_RETURN_IF_ERROR(get_int(cfg, path, "intermediate_size", true, 0, &hp.n_ff));
  POCKET_RETURN_IF_ERROR(get_int(cfg, path, "num_hidden_layers", true, 0, &hp.n_layer));
  POCKET_RETURN_IF_ERROR(get_int(cfg, path, "num_attention_heads", true, 0, &hp.n_head));
  POCKET_RETURN_IF_ERROR(get_int(cfg, path, "num_key_value_heads", false, hp.n_head, &hp.n_head_kv));
  POCKET_RETURN_IF_ERROR(get_int(cfg, path, "max_position_embeddings", false, 2048, &hp.n_ctx));
  if (hp.n_head % hp.n_head_kv != 0) return bad(path, "num_key_value_heads", "must divide num_attention_heads");
  int64_t hd = hp.n_embd % hp.n_head == 0 ? hp.n_embd / hp.n_head : 0;
  POCKET_RETURN_IF_ERROR(get_int(cfg, path, "head_dim", hd == 0, hd, &hd));
  if (hd % 2 != 0) return bad(path, "head_dim", "must be even");
  if (hd != hp.n_embd / hp.n_head || hp.n_embd % hp.n_head != 0) hp.head_dim = hd;
  POCKET_RETURN_IF_ERROR(get_float(cfg, path, "rms_norm_eps", 0.0, 1.0, 1e-6f, &hp.rms_eps));
  const float default_base = mt == "gemma3_text" ? 1e6f : 10000.0f;
  POCKET_RETURN_IF_ERROR(get_float(cfg, path, "rope_theta", 0.0, 1e12, default_base, &hp.rope_freq_base));
  POCKET_RETURN_IF_ERROR(get_bool(cfg, path, "tie_word_embeddings", fam.gemma, &p.tied));
  POCKET_RETURN_IF_ERROR(check_activation(cfg, path, fam));

  bool attention_bias = false, mlp_bias = false;
  POCKET_RETURN_IF_ERROR(get_bool(cfg, path, "attention_bias", false, &attention_bias));
  POCKET_RETURN_IF_ERROR(get_bool(cfg, path, "mlp_bias", false, &mlp_bias));
  if (attention_bias || mlp_bias)
    return error(ErrorCode::kUnsupported, path + ": attention_bias/mlp_bias: biases are not supported for " + mt + " (only Qwen2's q/k/v biases)");

  double rot = 1.0;
  POCKET_RETURN_IF_ERROR(get_double(cfg, path, "partial_rotary_factor", 1.0, &rot, "partial_rotary_factor"));
  if (!(rot > 0 && rot <= 1)) return bad(path, "partial_rotary_factor", "must be in (0, 1]");
  if (rot != 1 && !fam.fused) return error(ErrorCode::kUnsupported, path + ": partial_rotary_factor: partial rotation is supported for phi3 only");
  const int64_t rope_dim = fam.fused ? (int64_t)(rot * (double)hp.n_embd) / hp.n_head : hd;  // convert_hf_to_gguf's Phi-3 rule
  if (rope_dim % 2 != 0 || rope_dim > hd) return bad(path, "partial_rotary_factor", "gives an odd or too wide rotated width");
  if (rope_dim != hd) hp.rope_dim = rope_dim;
  POCKET_RETURN_IF_ERROR(plan_rope_scaling(cfg, path, p, rope_dim));

  if (fam.gemma) {
    POCKET_RETURN_IF_ERROR(plan_gemma(cfg, path, p, hd));
  } else if (cfg.contains("sliding_window") && !cfg["sliding_window"].is_null()) {
    // Mistral and Phi-3 attend within the window in every layer; Qwen's window applies only with
    // use_sliding_window; Llama and SmolLM3 have none.
    int64_t window = 0;
    POCKET_RETURN_IF_ERROR(get_int(cfg, path, "sliding_window", false, 0, &window));
    if (mt == "qwen2" || mt == "qwen3") {
      bool use = false;
      POCKET_RETURN_IF_ERROR(get_bool(cfg, path, "use_sliding_window", false, &use));
      if (use)
        return error(ErrorCode::kUnsupported, path + ": use_sliding_window: Qwen's per-layer sliding window is not supported (llama.cpp ignores it)");
    } else if (mt == "mistral" || mt == "phi3") {
      if (window < hp.n_ctx) set_u32(p, "attention.sliding_window", window);
    } else {
      return error(ErrorCode::kUnsupported, path + ": sliding_window: not part of " + mt);
    }
  }
  if (mt == "phi3") {
    int64_t orig = hp.n_ctx;
    POCKET_RETURN_IF_ERROR(get_int(cfg, path, "original_max_position_embeddings", false, hp.n_ctx, &orig));
    set_u32(p, "rope.scaling.original_context_length", orig);
  }
  if (mt == "smollm3") {
    int64_t interval = 4;
    POCKET_RETURN_IF_ERROR(get_int(cfg, path, "no_rope_layer_interval", false, 4, &interval));
    if (interval != 4) return error(ErrorCode::kUnsupported, path + ": no_rope_layer_interval: " + std::to_string(interval) + " (llama.cpp fixes 4)");
    if (cfg.contains("no_rope_layers") && !cfg["no_rope_layers"].is_null()) {
      const json& nr = cfg["no_rope_layers"];
      if (!nr.is_array() || (int64_t)nr.size() != hp.n_layer) return bad(path, "no_rope_layers", "must list every layer");
      for (int64_t l = 0; l < hp.n_layer; ++l)
        if (nr[(size_t)l] != ((l + 1) % 4 != 0 ? 1 : 0))
          return error(ErrorCode::kUnsupported, path + ": no_rope_layers[" + std::to_string(l) + "]: not every 4th layer without RoPE");
    }
  }
  return p;
}

}  // namespace pocket
