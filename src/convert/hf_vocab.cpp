#include "convert/hf_vocab.h"

#include <algorithm>
#include <unordered_map>

#include "convert/hf_json.h"
#include "format/gguf_reader.h"
#include "format/gguf_writer.h"

namespace pocket {
namespace {

using namespace hf_json;

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

// The normalizer of a byte-level BPE: none, or NFC where the pre-tokenizer is Qwen2's (the tokenizer
// applies NFC for that family; docs/tokenizers.md).
Status check_bpe_normalizer(const json& tok, const std::string& path, const std::string& pre) {
  const json norm = tok.contains("normalizer") ? tok["normalizer"] : json();
  if (norm.is_null()) return Status::ok();
  std::string type;
  POCKET_RETURN_IF_ERROR(get_string(norm, path, "type", "", &type, "normalizer.type"));
  if (type == "NFC" && pre == "qwen2") return Status::ok();
  return error(ErrorCode::kUnsupported, path + ": normalizer: '" + (type.empty() ? norm.dump() : type) + "' is not supported with the " + pre +
                                            " pre-tokenizer (supported: none; NFC with qwen2)");
}

// SentencePiece-style BPE: the normalizer may only turn spaces into U+2581 and prepend one; the
// pre-tokenizer may only split on spaces (a no-op once they are U+2581). Returns whether one is prepended.
Result<bool> check_spm_layout(const json& tok, const std::string& path) {
  const std::string meta = "\xe2\x96\x81";
  const json norm = tok.contains("normalizer") ? tok["normalizer"] : json();
  std::vector<json> steps;
  if (norm.is_object() && norm.contains("normalizers") && norm["normalizers"].is_array()) {
    for (const json& s : norm["normalizers"]) steps.push_back(s);
  } else if (!norm.is_null()) {
    steps.push_back(norm);
  }
  bool prepend = false, replace = false;
  for (const json& s : steps) {
    std::string t;
    POCKET_RETURN_IF_ERROR(get_string(s, path, "type", "", &t, "normalizer.type"));
    if (t == "Prepend" && s.contains("prepend") && s["prepend"] == meta) {
      prepend = true;
    } else if (t == "Replace" && s.contains("pattern") && s["pattern"].is_object() && s["pattern"].contains("String") &&
               s["pattern"]["String"] == " " && s.contains("content") && s["content"] == meta) {
      replace = true;
    } else {
      return error(ErrorCode::kUnsupported, path + ": normalizer: step '" + (t.empty() ? s.dump() : t) +
                                                "' is not supported (SentencePiece-style BPE: Prepend and Replace of spaces by U+2581)");
    }
  }
  if (!replace) return error(ErrorCode::kUnsupported, path + ": normalizer: no Replace of spaces by U+2581 (unsupported tokenizer layout)");
  const json pre = tok.contains("pre_tokenizer") ? tok["pre_tokenizer"] : json();
  const bool space_split = pre.is_object() && pre.value("type", "") == "Split" && pre.contains("pattern") && pre["pattern"].is_object() &&
                           pre["pattern"].value("String", "") == " " && pre.value("behavior", "") == "MergedWithPrevious" &&
                           !pre.value("invert", false);
  if (!pre.is_null() && !space_split)
    return error(ErrorCode::kUnsupported, path + ": pre_tokenizer: '" + pre.value("type", pre.dump()) +
                                              "' is not supported for SentencePiece-style BPE (none, or Split on spaces)");
  return prepend;
}

// Options of model (BPE) that change the result and that we do not implement.
Status check_bpe_model(const json& model, const std::string& path) {
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    std::string s;
    POCKET_RETURN_IF_ERROR(get_string(model, path, key, "", &s, std::string("model.") + key));
    if (!s.empty()) return error(ErrorCode::kUnsupported, path + ": model." + key + ": '" + s + "' is not supported (only empty)");
  }
  if (model.contains("dropout") && !model["dropout"].is_null() && !(model["dropout"].is_number() && model["dropout"].get<double>() == 0.0))
    return error(ErrorCode::kUnsupported, path + ": model.dropout: BPE dropout is not supported (null or 0)");
  return Status::ok();
}

// Leading / trailing special tokens of a TemplateProcessing post-processor ("single").
void template_bos_eos(const json& tok, const std::string& bos, const std::string& eos, int* add_bos, int* add_eos) {
  const json pp = tok.contains("post_processor") ? tok["post_processor"] : json();
  if (!pp.is_object() || pp.value("type", "") != "TemplateProcessing" || !pp.contains("single") || !pp["single"].is_array()) return;
  const json& single = pp["single"];
  auto special = [](const json& item) -> std::string {
    if (item.is_object() && item.contains("SpecialToken") && item["SpecialToken"].is_object() && item["SpecialToken"].contains("id") &&
        item["SpecialToken"]["id"].is_string())
      return item["SpecialToken"]["id"].get<std::string>();
    return {};
  };
  if (single.empty()) return;
  *add_bos = !bos.empty() && special(single.front()) == bos ? 1 : 0;
  *add_eos = !eos.empty() && special(single.back()) == eos ? 1 : 0;
}

}  // namespace

Result<VocabData> read_hf_vocab(const std::string& dir, const json& config) {
  const std::string path = dir + "/tokenizer.json";
  const json no_config = json::object();
  const json& cfg = config.is_object() ? config : no_config;
  POCKET_ASSIGN_OR_RETURN(json tok, load_json(path));
  if (!tok.contains("model") || !tok["model"].is_object()) return bad(path, "model", "missing");
  const json& model = tok["model"];
  std::string model_type;
  POCKET_RETURN_IF_ERROR(get_string(model, path, "type", "", &model_type, "model.type"));
  if (model_type != "BPE") return error(ErrorCode::kUnsupported, path + ": model.type: only BPE tokenizers are supported");
  if (!model.contains("vocab") || !model["vocab"].is_object()) return bad(path, "model.vocab", "missing");
  POCKET_RETURN_IF_ERROR(check_bpe_model(model, path));
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
  POCKET_RETURN_IF_ERROR(get_int(cfg, dir + "/config.json", "vocab_size", false, n, &cfg_vocab));
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
      // Matched as written, anywhere in the text (leftmost, longest): the flags that change that are refused.
      for (const char* flag : {"lstrip", "rstrip", "single_word"}) {
        bool on = false;
        POCKET_RETURN_IF_ERROR(get_bool(a, path, flag, false, &on, std::string("added_tokens[].") + flag));
        if (on)
          return error(ErrorCode::kUnsupported, path + ": added_tokens[" + std::to_string(id) + "]." + flag + ": true is not supported (token '" +
                                                    a["content"].get<std::string>() + "')");
      }
      bool normalized = false;
      POCKET_RETURN_IF_ERROR(get_bool(a, path, "normalized", false, &normalized, "added_tokens[].normalized"));
      const std::string& content = a["content"].get_ref<const std::string&>();
      if (normalized && std::any_of(content.begin(), content.end(), [](char c) { return c == ' ' || (unsigned char)c >= 0x80; }))
        return error(ErrorCode::kUnsupported, path + ": added_tokens[" + std::to_string(id) +
                                                  "].normalized: true for a token with spaces or non-ASCII text is not supported (token '" + content +
                                                  "')");
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
    POCKET_RETURN_IF_ERROR(check_bpe_normalizer(tok, path, v.pre));
    bool ignore_merges = false;
    POCKET_RETURN_IF_ERROR(get_bool(model, path, "ignore_merges", false, &ignore_merges, "model.ignore_merges"));
    if (ignore_merges != (v.pre == "llama-bpe"))
      return error(ErrorCode::kUnsupported, path + ": model.ignore_merges: " + (ignore_merges ? "true" : "false") + " with the " + v.pre +
                                                " pre-tokenizer is not supported (true only with llama-bpe)");
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
    POCKET_ASSIGN_OR_RETURN(bool prepend, check_spm_layout(tok, path));
    v.add_space_prefix = prepend ? 1 : 0;
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
  if (v.bos < 0 && cfg.contains("bos_token_id") && cfg["bos_token_id"].is_number_integer()) v.bos = cfg["bos_token_id"].get<int64_t>();
  if (v.eos < 0 && cfg.contains("eos_token_id") && cfg["eos_token_id"].is_number_integer()) v.eos = cfg["eos_token_id"].get<int64_t>();
  if (v.bos >= n || v.eos >= n) return bad(dir + "/config.json", "bos_token_id/eos_token_id", "outside the vocabulary");
  // BOS/EOS policy: tokenizer_config.json's add_*_token where given (what transformers applies), else
  // the post-processor's template (what tokenizer.json alone does), else none.
  v.add_bos = 0;
  v.add_eos = 0;
  template_bos_eos(tok, v.bos >= 0 ? v.tokens[(size_t)v.bos] : "", v.eos >= 0 ? v.tokens[(size_t)v.eos] : "", &v.add_bos, &v.add_eos);
  if (tcfg.is_object() && tcfg.contains("add_bos_token") && tcfg["add_bos_token"].is_boolean()) v.add_bos = tcfg["add_bos_token"].get<bool>();
  if (tcfg.is_object() && tcfg.contains("add_eos_token") && tcfg["add_eos_token"].is_boolean()) v.add_eos = tcfg["add_eos_token"].get<bool>();
  return v;
}

Result<Vocab> load_hf_vocab(const std::string& path) {
  std::string dir = path;
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    const size_t slash = path.find_last_of('/');
    if (path.compare(slash == std::string::npos ? 0 : slash + 1, std::string::npos, "tokenizer.json") != 0)
      return error(ErrorCode::kInvalidArgument, path + ": a Hugging Face tokenizer file must be named tokenizer.json");
    dir = slash == std::string::npos ? "." : path.substr(0, slash);
  }
  json config;
  if (auto c = read_text_file(dir + "/config.json", 64u << 20); c.is_ok()) { POCKET_ASSIGN_OR_RETURN(config, load_json(dir + "/config.json")); }
  POCKET_ASSIGN_OR_RETURN(VocabData data, read_hf_vocab(dir, config));
  // Through the GGUF keys `pocket convert` writes, read back as from any file.
  GgufWriter w;
  write_vocab_metadata(w, data);
  const std::vector<uint8_t> bytes = w.to_bytes();
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::parse(bytes.data(), bytes.size(), dir + "/tokenizer.json"));
  return read_vocab(*f);
}

}  // namespace pocket
