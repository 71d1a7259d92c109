// Hugging Face Llama-style directory -> GGUF: config.json hyperparameters, model.safetensors weights
// (Q/K rows permuted from HF's rotate-half RoPE to llama.cpp's adjacent pairs), tokenizer.json vocabulary.
// Every JSON value is type-checked before it is read (a wrong type is an error naming the file and key,
// never an exception; found by fuzz_hf_config).
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "convert/convert.h"
#include "convert/hf_json.h"
#include "convert/hf_vocab.h"
#include "format/safetensors_reader.h"

namespace pocket {
namespace {

using namespace hf_json;

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
