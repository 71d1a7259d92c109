// Hugging Face Llama-style directory -> GGUF: config.json hyperparameters, model.safetensors weights
// (Q/K rows permuted from HF's rotate-half RoPE to llama.cpp's adjacent pairs), tokenizer.json vocabulary.
// Every JSON value is type-checked before it is read (a wrong type is an error naming the file and key,
// never an exception; found by fuzz_hf_config).
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "convert/convert.h"
#include "format/safetensors_reader.h"

namespace pocket {
namespace {

using nlohmann::json;

Result<json> load_json(const std::string& path) {
  POCKET_ASSIGN_OR_RETURN(std::string text, read_text_file(path, 512u << 20));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return error(ErrorCode::kFormatError, path + ": not valid JSON");
  return j;
}

Status bad(const std::string& path, const std::string& field, const std::string& why) {
  return error(ErrorCode::kFormatError, path + ": " + field + ": " + why);
}

Status get_int(const json& j, const std::string& path, const std::string& key, bool required, int64_t def, int64_t* out) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) return bad(path, key, "required key is missing");
    *out = def;
    return Status::ok();
  }
  if (!j[key].is_number_integer() || j[key].get<int64_t>() <= 0 || j[key].get<int64_t>() > (1 << 22))
    return bad(path, key, "must be a positive integer");
  *out = j[key].get<int64_t>();
  return Status::ok();
}

// Optional key of one JSON type: absent or null (or j not an object) gives `def`; any other type is an
// error naming `field` (the key's full name in the file).
Status get_bool(const json& j, const std::string& path, const std::string& key, bool def, bool* out, const std::string& field = "") {
  *out = def;
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return Status::ok();
  if (!j[key].is_boolean()) return bad(path, field.empty() ? key : field, "must be true or false");
  *out = j[key].get<bool>();
  return Status::ok();
}

Status get_string(const json& j, const std::string& path, const std::string& key, const std::string& def, std::string* out,
                  const std::string& field = "") {
  *out = def;
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return Status::ok();
  if (!j[key].is_string()) return bad(path, field.empty() ? key : field, "must be a string");
  *out = j[key].get<std::string>();
  return Status::ok();
}

// A finite number in (lo, hi).
Status get_float(const json& j, const std::string& path, const std::string& key, double lo, double hi, float def, float* out) {
  *out = def;
  if (!j.contains(key) || j[key].is_null()) return Status::ok();
  if (!j[key].is_number()) return bad(path, key, "must be a number");
  const double v = j[key].get<double>();
  if (!std::isfinite(v) || v <= lo || v >= hi) return bad(path, key, "must be in (" + std::to_string(lo) + ", " + std::to_string(hi) + ")");
  *out = (float)v;
  return Status::ok();
}

// The word-splitting regex of a byte-level BPE tokenizer.json, mapped to a llama.cpp pre-tokenizer name.
Result<std::string> detect_pre(const json& pre, const std::string& path) {
  std::vector<std::string> patterns;
  bool byte_level = false;
  std::vector<json> items;
  std::string type;
  POCKET_RETURN_IF_ERROR(get_string(pre, path, "type", "", &type, "pre_tokenizer.type"));
  if (type == "Sequence" && pre.contains("pretokenizers")) {
    if (!pre["pretokenizers"].is_array()) return bad(path, "pre_tokenizer.pretokenizers", "must be an array");
    for (const json& x : pre["pretokenizers"]) items.push_back(x);
  } else if (pre.is_object()) {
    items.push_back(pre);
  }
  for (const json& x : items) {
    std::string t;
    POCKET_RETURN_IF_ERROR(get_string(x, path, "type", "", &t, "pre_tokenizer step type"));
    if (t == "ByteLevel") {
      byte_level = true;
      bool use_regex = true;
      POCKET_RETURN_IF_ERROR(get_bool(x, path, "use_regex", true, &use_regex, "pre_tokenizer ByteLevel use_regex"));
      if (use_regex) patterns.push_back("gpt2");
    } else if (t == "Split" && x.contains("pattern") && x["pattern"].is_object() && x["pattern"].contains("Regex")) {
      if (!x["pattern"]["Regex"].is_string()) return bad(path, "pre_tokenizer Split pattern.Regex", "must be a string");
      patterns.push_back(x["pattern"]["Regex"].get<std::string>());
    } else if (t == "Digits") {
      bool individual = false;
      POCKET_RETURN_IF_ERROR(get_bool(x, path, "individual_digits", false, &individual, "pre_tokenizer Digits individual_digits"));
      patterns.push_back(individual ? "digits1" : "digits");
    }
  }
  if (!byte_level) return error(ErrorCode::kUnsupported, path + ": pre_tokenizer: no ByteLevel step (unsupported tokenizer layout)");
  const std::string llama3 =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  const std::string qwen2 =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  if (patterns.size() == 1 && patterns[0] == llama3) return std::string("llama-bpe");
  if (patterns.size() == 1 && patterns[0] == qwen2) return std::string("qwen2");
  if (patterns.size() == 1 && patterns[0] == "gpt2") return std::string("gpt-2");
  if (patterns.size() == 2 && patterns[0] == "digits1" && patterns[1] == "gpt2") return std::string("smollm");
  return error(ErrorCode::kUnsupported, path + ": pre_tokenizer: unrecognised word-splitting rules (known: gpt-2, llama-bpe, qwen2, smollm)");
}

Result<VocabData> read_hf_vocab(const std::string& dir, const json& config) {
  const std::string path = dir + "/tokenizer.json";
  POCKET_ASSIGN_OR_RETURN(json tok, load_json(path));
  if (!tok.contains("model") || !tok["model"].is_object()) return bad(path, "model", "missing");
  const json& model = tok["model"];
  std::string model_type;
  POCKET_RETURN_IF_ERROR(get_string(model, path, "type", "", &model_type, "model.type"));
  if (model_type != "BPE") return error(ErrorCode::kUnsupported, path + ": model.type: only BPE tokenizers are supported");
  if (!model.contains("vocab") || !model["vocab"].is_object()) return bad(path, "model.vocab", "missing");
  VocabData v;
  int64_t n = 0;
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 || it.value().get<int64_t>() >= (1 << 22))
      return bad(path, "model.vocab[" + it.key() + "]", "id must be a non-negative integer");
    n = std::max<int64_t>(n, it.value().get<int64_t>() + 1);
  }
  if (tok.contains("added_tokens") && tok["added_tokens"].is_array()) {
    for (const json& a : tok["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || a["id"].get<int64_t>() < 0 || a["id"].get<int64_t>() >= (1 << 22) ||
          !a.contains("content") || !a["content"].is_string())
        return bad(path, "added_tokens", "entry without a valid id (0 .. 2^22) and content string");
      n = std::max<int64_t>(n, a["id"].get<int64_t>() + 1);
    }
  }
  int64_t cfg_vocab = 0;
  POCKET_RETURN_IF_ERROR(get_int(config, dir + "/config.json", "vocab_size", false, n, &cfg_vocab));
  n = std::max(n, cfg_vocab);
  v.tokens.assign((size_t)n, "");
  v.types.assign((size_t)n, 1);
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) v.tokens[(size_t)it.value().get<int64_t>()] = it.key();
  for (int64_t i = 0; i < n; ++i) {
    if (v.tokens[(size_t)i].empty()) {
      v.tokens[(size_t)i] = "[PAD" + std::to_string(i) + "]";
      v.types[(size_t)i] = 5;
    }  // UNUSED
  }
  const std::string unk = model.contains("unk_token") && model["unk_token"].is_string() ? model["unk_token"].get<std::string>() : "";
  if (tok.contains("added_tokens") && tok["added_tokens"].is_array()) {
    for (const json& a : tok["added_tokens"]) {
      const int64_t id = a["id"].get<int64_t>();  // checked above
      bool special = false;
      POCKET_RETURN_IF_ERROR(get_bool(a, path, "special", false, &special, "added_tokens[].special"));
      v.tokens[(size_t)id] = a["content"].get<std::string>();
      v.types[(size_t)id] = special ? 3 : 4;  // CONTROL : USER_DEFINED
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    const std::string& t = v.tokens[(size_t)i];
    if (!unk.empty() && t == unk) {
      v.types[(size_t)i] = 2;
      v.unk = i;
    }
    if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') v.types[(size_t)i] = 6;
  }
  // Merges: "a b" strings or [a, b] pairs.
  if (model.contains("merges") && model["merges"].is_array()) {
    for (const json& m : model["merges"]) {
      if (m.is_string())
        v.merges.push_back(m.get<std::string>());
      else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
        v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      else
        return bad(path, "model.merges", "entries must be strings or pairs of strings");
    }
  }
  const json pre = tok.contains("pre_tokenizer") ? tok["pre_tokenizer"] : json();
  const bool byte_level = pre.dump().find("ByteLevel") != std::string::npos;
  if (byte_level) {
    v.model = "gpt2";
    POCKET_ASSIGN_OR_RETURN(v.pre, detect_pre(pre, path));
  } else {
    // SentencePiece-style BPE (U+2581 for spaces, byte fallback): written as a "llama" vocabulary whose
    // scores rank merges (-rank), so llama.cpp's SentencePiece tokenizer reproduces the merge order; the
    // merges are kept too so PocketLLM applies them exactly.
    v.model = "llama";
    v.scores.assign((size_t)n, 0.0);
    std::unordered_map<std::string, int64_t> id_of;
    for (int64_t i = 0; i < n; ++i) id_of.emplace(v.tokens[(size_t)i], i);
    for (size_t r = 0; r < v.merges.size(); ++r) {
      const std::string& m = v.merges[r];
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) return bad(path, "model.merges", "entry " + std::to_string(r) + " has no space separator");
      auto it = id_of.find(m.substr(0, sp) + m.substr(sp + 1));
      if (it != id_of.end() && v.scores[(size_t)it->second] == 0.0) v.scores[(size_t)it->second] = -(double)(r + 1);
    }
    const std::string norm = tok.contains("normalizer") ? tok["normalizer"].dump() : "";
    v.add_space_prefix = norm.find("\"Prepend\"") != std::string::npos ? 1 : 0;
  }
  // Special ids and BOS/EOS policy from tokenizer_config.json / config.json.
  json tcfg;
  if (auto r = load_json(dir + "/tokenizer_config.json"); r.is_ok()) tcfg = r.value();
  auto id_of_content = [&](const json& j, const char* key) -> int64_t {
    if (!j.is_object() || !j.contains(key)) return -1;
    const json& x = j[key];
    const std::string s = x.is_string() ? x.get<std::string>()
                                        : (x.is_object() && x.contains("content") && x["content"].is_string() ? x["content"].get<std::string>() : "");
    for (int64_t i = 0; i < n; ++i)
      if (!s.empty() && v.tokens[(size_t)i] == s) return i;
    return -1;
  };
  v.bos = id_of_content(tcfg, "bos_token");
  v.eos = id_of_content(tcfg, "eos_token");
  if (v.bos < 0 && config.contains("bos_token_id") && config["bos_token_id"].is_number_integer()) v.bos = config["bos_token_id"].get<int64_t>();
  if (v.eos < 0 && config.contains("eos_token_id") && config["eos_token_id"].is_number_integer()) v.eos = config["eos_token_id"].get<int64_t>();
  if (v.bos >= n || v.eos >= n) return bad(dir + "/config.json", "bos_token_id/eos_token_id", "outside the vocabulary");
  if (tcfg.is_object() && tcfg.contains("add_bos_token") && tcfg["add_bos_token"].is_boolean()) v.add_bos = tcfg["add_bos_token"].get<bool>();
  if (tcfg.is_object() && tcfg.contains("add_eos_token") && tcfg["add_eos_token"].is_boolean()) v.add_eos = tcfg["add_eos_token"].get<bool>();
  return v;
}

Status convert_hf_checked(const std::string& dir, const std::string& out_path, const ConvertOptions& opts) {
  const std::string cfg_path = dir + "/config.json";
  POCKET_ASSIGN_OR_RETURN(json cfg, load_json(cfg_path));
  if (!cfg.is_object()) return bad(cfg_path, "(root)", "not a JSON object");
  std::string mt;
  POCKET_RETURN_IF_ERROR(get_string(cfg, cfg_path, "model_type", "", &mt));
  if (mt != "llama" && mt != "mistral")
    return error(ErrorCode::kUnsupported, cfg_path + ": model_type: '" + mt + "' is not supported (llama, mistral)");
  if (cfg.contains("rope_scaling") && !cfg["rope_scaling"].is_null())
    return error(ErrorCode::kUnsupported, cfg_path + ": rope_scaling: scaled RoPE is not supported yet");
  bool attention_bias = false, mlp_bias = false, tied = false;
  POCKET_RETURN_IF_ERROR(get_bool(cfg, cfg_path, "attention_bias", false, &attention_bias));
  POCKET_RETURN_IF_ERROR(get_bool(cfg, cfg_path, "mlp_bias", false, &mlp_bias));
  POCKET_RETURN_IF_ERROR(get_bool(cfg, cfg_path, "tie_word_embeddings", false, &tied));
  if (attention_bias || mlp_bias) return error(ErrorCode::kUnsupported, cfg_path + ": attention_bias/mlp_bias: biases are not supported for llama");
  LlamaHParams hp;
  hp.name = dir.substr(dir.find_last_of('/') + 1);
  POCKET_RETURN_IF_ERROR(get_int(cfg, cfg_path, "hidden_size", true, 0, &hp.n_embd));
  POCKET_RETURN_IF_ERROR(get_int(cfg, cfg_path, "intermediate_size", true, 0, &hp.n_ff));
  POCKET_RETURN_IF_ERROR(get_int(cfg, cfg_path, "num_hidden_layers", true, 0, &hp.n_layer));
  POCKET_RETURN_IF_ERROR(get_int(cfg, cfg_path, "num_attention_heads", true, 0, &hp.n_head));
  POCKET_RETURN_IF_ERROR(get_int(cfg, cfg_path, "num_key_value_heads", false, hp.n_head, &hp.n_head_kv));
  POCKET_RETURN_IF_ERROR(get_int(cfg, cfg_path, "max_position_embeddings", false, 2048, &hp.n_ctx));
  if (hp.n_embd % hp.n_head != 0 || hp.n_head % hp.n_head_kv != 0)
    return bad(cfg_path, "num_attention_heads", "heads must divide hidden_size and be a multiple of num_key_value_heads");
  if (cfg.contains("head_dim") && cfg["head_dim"].is_number_integer() && cfg["head_dim"].get<int64_t>() != hp.n_embd / hp.n_head)
    return error(ErrorCode::kUnsupported, cfg_path + ": head_dim: differs from hidden_size / num_attention_heads (unsupported)");
  POCKET_RETURN_IF_ERROR(get_float(cfg, cfg_path, "rms_norm_eps", 0.0, 1.0, 1e-6f, &hp.rms_eps));
  POCKET_RETURN_IF_ERROR(get_float(cfg, cfg_path, "rope_theta", 0.0, 1e12, 10000.0f, &hp.rope_freq_base));

  POCKET_ASSIGN_OR_RETURN(VocabData vocab, read_hf_vocab(dir, cfg));
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> st, SafetensorsFile::open(dir + "/model.safetensors"));

  const int64_t D = hp.n_embd, F = hp.n_ff, V = (int64_t)vocab.tokens.size(), hd = D / hp.n_head, KV = hp.n_head_kv * hd;
  auto tensor = [&](const std::string& name, std::vector<int64_t> shape, const SafeTensor** out) -> Status {
    const SafeTensor* t = st->find(name);
    if (t == nullptr) return bad(st->path(), "tensor '" + name + "'", "required tensor is missing");
    if (t->shape != shape) {
      std::string s;
      for (int64_t d : t->shape) s += (s.empty() ? "" : ", ") + std::to_string(d);
      return bad(st->path(), "tensor '" + name + "'", "shape [" + s + "] does not match config.json");
    }
    *out = t;
    return Status::ok();
  };
  // Tied checkpoints may store the shared matrix only once, under either name.
  const std::string emb_name = st->find("model.embed_tokens.weight") == nullptr && tied ? "lm_head.weight" : "model.embed_tokens.weight";
  const SafeTensor* emb = nullptr;
  POCKET_RETURN_IF_ERROR(tensor(emb_name, {V, D}, &emb));
  POCKET_ASSIGN_OR_RETURN(TensorType out, resolve_outtype(opts.outtype, emb->type));
  GgufWriter w;
  write_llama_metadata(w, hp, vocab, out);

  // Each weight: PyTorch shape (rows, cols) -> GGUF ne {cols, rows}.
  auto add = [&](const std::string& hf_name, const std::string& gguf_name, std::vector<int64_t> shape, int64_t permute_heads) -> Status {
    const SafeTensor* t = nullptr;
    POCKET_RETURN_IF_ERROR(tensor(hf_name, shape, &t));
    std::vector<int64_t> ne(shape.rbegin(), shape.rend());
    return add_converted_weight(w, gguf_name, ne, t->type, t->data, out, permute_heads);
  };
  POCKET_RETURN_IF_ERROR(add(emb_name, "token_embd.weight", {V, D}, 0));
  POCKET_RETURN_IF_ERROR(add("model.norm.weight", "output_norm.weight", {D}, 0));
  if (!tied && st->find("lm_head.weight") != nullptr)
    POCKET_RETURN_IF_ERROR(add("lm_head.weight", "output.weight", {V, D}, 0));
  else if (!tied)
    return bad(st->path(), "tensor 'lm_head.weight'", "required when tie_word_embeddings is false");
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string h = "model.layers." + std::to_string(l) + ".";
    const std::string g = "blk." + std::to_string(l) + ".";
    POCKET_RETURN_IF_ERROR(add(h + "input_layernorm.weight", g + "attn_norm.weight", {D}, 0));
    POCKET_RETURN_IF_ERROR(add(h + "self_attn.q_proj.weight", g + "attn_q.weight", {D, D}, hp.n_head));
    POCKET_RETURN_IF_ERROR(add(h + "self_attn.k_proj.weight", g + "attn_k.weight", {KV, D}, hp.n_head_kv));
    POCKET_RETURN_IF_ERROR(add(h + "self_attn.v_proj.weight", g + "attn_v.weight", {KV, D}, 0));
    POCKET_RETURN_IF_ERROR(add(h + "self_attn.o_proj.weight", g + "attn_output.weight", {D, D}, 0));
    POCKET_RETURN_IF_ERROR(add(h + "post_attention_layernorm.weight", g + "ffn_norm.weight", {D}, 0));
    POCKET_RETURN_IF_ERROR(add(h + "mlp.gate_proj.weight", g + "ffn_gate.weight", {F, D}, 0));
    POCKET_RETURN_IF_ERROR(add(h + "mlp.up_proj.weight", g + "ffn_up.weight", {F, D}, 0));
    POCKET_RETURN_IF_ERROR(add(h + "mlp.down_proj.weight", g + "ffn_down.weight", {D, F}, 0));
  }
  return w.write(out_path, opts.force);
}

}  // namespace

Status convert_hf(const std::string& dir, const std::string& out_path, const ConvertOptions& opts) {
  // Every read above is type-checked; this is the backstop that turns a JSON access we missed into an
  // error instead of std::terminate.
  try {
    return convert_hf_checked(dir, out_path, opts);
  } catch (const nlohmann::json::exception& e) { return error(ErrorCode::kFormatError, dir + ": unexpected JSON value: " + e.what()); }
}

}  // namespace pocket
