#include "tokenizer/vocab.h"

#include <cstdio>

namespace pocket {
namespace {

Status bad(const GgufFile& f, const std::string& key, const std::string& why) {
  return error(ErrorCode::kFormatError, f.name() + ": " + key + ": " + why);
}

Status read_special_id(const GgufFile& f, const std::string& key, int32_t n, int32_t* out) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) return Status::ok();
  if (!gguf_type_is_integer(v->type)) return bad(f, key, "expected an integer");
  if (v->type == GgufType::UINT32 && v->u == 0xffffffffu) return Status::ok();  // "none", as llama.cpp writes it
  if (v->i == -1) return Status::ok();
  if (v->i < 0 || v->i >= n) return bad(f, key, "token id " + std::to_string(v->i) + " outside the vocabulary of " + std::to_string(n));
  *out = (int32_t)v->i;
  return Status::ok();
}

}  // namespace

Result<Vocab> read_vocab(const GgufFile& f) {
  Vocab v;
  POCKET_ASSIGN_OR_RETURN(std::string model, f.get_string("tokenizer.ggml.model"));
  if (model == "llama")
    v.kind = TokenizerKind::kSpm;
  else if (model == "gpt2")
    v.kind = TokenizerKind::kBpe;
  else
    return error(ErrorCode::kUnsupported, f.name() + ": tokenizer.ggml.model: unsupported tokenizer '" + model + "' (supported: llama, gpt2)");
  v.pre = f.get_string_or("tokenizer.ggml.pre", "default");

  POCKET_ASSIGN_OR_RETURN(const GgufValue* toks, f.get_array("tokenizer.ggml.tokens", GgufType::STRING));
  v.tokens = toks->arr_str;
  const int32_t n = (int32_t)v.tokens.size();
  if (n == 0) return bad(f, "tokenizer.ggml.tokens", "empty vocabulary");
  if (n > (1 << 24)) return bad(f, "tokenizer.ggml.tokens", "absurd vocabulary size " + std::to_string(n));

  if (f.find("tokenizer.ggml.scores")) {
    POCKET_ASSIGN_OR_RETURN(const GgufValue* sc, f.get_array("tokenizer.ggml.scores", GgufType::FLOAT32));
    if ((int32_t)sc->arr_float.size() != n)
      return bad(f, "tokenizer.ggml.scores", "has " + std::to_string(sc->arr_float.size()) + " entries for " + std::to_string(n) + " tokens");
    v.scores.assign(sc->arr_float.begin(), sc->arr_float.end());
  } else if (v.kind == TokenizerKind::kSpm) {
    v.scores.assign((size_t)n, 0.0f);
  }
  v.attrs.assign((size_t)n, TokenAttr::kNormal);
  if (f.find("tokenizer.ggml.token_type")) {
    POCKET_ASSIGN_OR_RETURN(const GgufValue* tt, f.get_array("tokenizer.ggml.token_type", GgufType::INT32));
    if ((int32_t)tt->arr_int.size() != n)
      return bad(f, "tokenizer.ggml.token_type", "has " + std::to_string(tt->arr_int.size()) + " entries for " + std::to_string(n) + " tokens");
    for (int32_t i = 0; i < n; ++i) {
      const int64_t t = tt->arr_int[(size_t)i];
      if (t < 0 || t > 6) return bad(f, "tokenizer.ggml.token_type", "token " + std::to_string(i) + " has unknown type " + std::to_string(t));
      v.attrs[(size_t)i] = (TokenAttr)t;
    }
  }
  v.token_to_id.reserve((size_t)n);
  for (int32_t i = 0; i < n; ++i) v.token_to_id.emplace(v.tokens[(size_t)i], i);  // first occurrence wins

  if (v.kind == TokenizerKind::kBpe || f.find("tokenizer.ggml.merges")) {
    POCKET_ASSIGN_OR_RETURN(const GgufValue* mg, f.get_array("tokenizer.ggml.merges", GgufType::STRING));
    v.merge_rank.reserve(mg->arr_str.size());
    for (size_t r = 0; r < mg->arr_str.size(); ++r) {
      const std::string& m = mg->arr_str[r];
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) return bad(f, "tokenizer.ggml.merges", "entry " + std::to_string(r) + " has no space separator");
      v.merge_rank.emplace(m, (int32_t)r);
    }
  }
  // Qwen2/2.5/3's tokenizer.json normalizes to NFC (GGUF carries no normalizer; llama.cpp skips it).
  v.nfc = v.kind == TokenizerKind::kBpe && (v.pre == "qwen2" || v.pre == "deepseek-r1-qwen");
  if (v.kind == TokenizerKind::kBpe) {
    v.add_bos = false;
    v.add_space_prefix = false;
  }

  for (int& b : v.byte_tokens) b = -1;
  if (v.kind == TokenizerKind::kSpm) {
    char buf[8];
    for (int b = 0; b < 256; ++b) {
      std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
      v.byte_tokens[b] = v.find(buf);
    }
    v.bos = 1;
    v.eos = 2;
    v.unk = 0;  // SentencePiece defaults, overridden by metadata
    if (v.bos >= n) v.bos = -1;
    if (v.eos >= n) v.eos = -1;
  }
  POCKET_RETURN_IF_ERROR(read_special_id(f, "tokenizer.ggml.bos_token_id", n, &v.bos));
  POCKET_RETURN_IF_ERROR(read_special_id(f, "tokenizer.ggml.eos_token_id", n, &v.eos));
  POCKET_RETURN_IF_ERROR(read_special_id(f, "tokenizer.ggml.eot_token_id", n, &v.eot));
  POCKET_RETURN_IF_ERROR(read_special_id(f, "tokenizer.ggml.unknown_token_id", n, &v.unk));
  POCKET_RETURN_IF_ERROR(read_special_id(f, "tokenizer.ggml.padding_token_id", n, &v.pad));
  v.add_bos = f.get_bool_or("tokenizer.ggml.add_bos_token", v.add_bos);
  v.add_eos = f.get_bool_or("tokenizer.ggml.add_eos_token", v.add_eos);
  v.add_space_prefix = f.get_bool_or("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
  if (v.add_bos && v.bos < 0) return bad(f, "tokenizer.ggml.bos_token_id", "add_bos_token is set but there is no BOS token");
  return v;
}

}  // namespace pocket
