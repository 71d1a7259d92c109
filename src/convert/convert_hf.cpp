// Hugging Face directory -> GGUF: config.json through the family plan (hf_config.h), the weights of
// model.safetensors or its shards renamed as llama.cpp names them (Llama-style Q/K rows permuted from
// HF's rotate-half RoPE to adjacent pairs, Gemma's norms stored as 1 + w), tokenizer.json vocabulary.
// A checkpoint tensor that nothing reads is an error naming it.
// Every JSON value is type-checked before it is read (a wrong type is an error naming the file and key,
// never an exception; found by fuzz_hf_config).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "convert/convert.h"
#include "convert/hf_config.h"
#include "convert/hf_json.h"
#include "convert/hf_vocab.h"
#include "format/safetensors_reader.h"

namespace pocket {
namespace {

using namespace hf_json;

// The checkpoint: model.safetensors, or the shards model.safetensors.index.json names.
class Checkpoint {
 public:
  Status open(const std::string& dir) {
    const std::string single = dir + "/model.safetensors", index = dir + "/model.safetensors.index.json";
    std::error_code ec;
    if (!std::filesystem::exists(index, ec) || std::filesystem::exists(single, ec)) {
      POCKET_ASSIGN_OR_RETURN(auto f, SafetensorsFile::open(single));
      shards_.push_back(std::move(f));
      return Status::ok();
    }
    POCKET_ASSIGN_OR_RETURN(json idx, load_json(index));
    if (!idx.is_object() || !idx.contains("weight_map") || !idx["weight_map"].is_object())
      return bad(index, "weight_map", "missing or not an object");
    std::vector<std::string> files;
    for (const auto& [name, file] : idx["weight_map"].items()) {
      if (!file.is_string() || file.get<std::string>().find('/') != std::string::npos)
        return bad(index, "weight_map[" + name + "]", "must be a file name in the directory");
      if (std::find(files.begin(), files.end(), file.get<std::string>()) == files.end()) files.push_back(file.get<std::string>());
    }
    for (const std::string& f : files) {
      POCKET_ASSIGN_OR_RETURN(auto shard, SafetensorsFile::open(dir + "/" + f));
      shards_.push_back(std::move(shard));
    }
    return Status::ok();
  }
  const SafeTensor* find(const std::string& name) {
    for (const auto& s : shards_)
      if (const SafeTensor* t = s->find(name)) {
        used_.push_back(name);
        return t;
      }
    return nullptr;
  }
  bool has(const std::string& name) const {
    for (const auto& s : shards_)
      if (s->find(name) != nullptr) return true;
    return false;
  }
  const std::string& path() const { return shards_.front()->path(); }
  // A tensor nothing read is an error naming it (RoPE caches some checkpoints carry are not weights).
  Status check_all_used() const {
    for (const auto& s : shards_)
      for (const auto& [name, t] : s->tensors()) {
        if (std::find(used_.begin(), used_.end(), name) != used_.end()) continue;
        if (name.find("rotary_emb.inv_freq") != std::string::npos) continue;
        return bad(s->path(), "tensor '" + name + "'", "not used by this model_type (refusing to drop it)");
      }
    return Status::ok();
  }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::vector<std::string> used_;
};

Status convert_hf_checked(const std::string& dir, const std::string& out_path, const ConvertOptions& opts) {
  const std::string cfg_path = dir + "/config.json";
  POCKET_ASSIGN_OR_RETURN(json cfg, load_json(cfg_path));
  POCKET_ASSIGN_OR_RETURN(HfModelPlan plan, plan_hf_model(cfg, cfg_path, dir.substr(dir.find_last_of('/') + 1)));
  const HfFamily& fam = *plan.family;
  const LlamaHParams& hp = plan.hp;
  POCKET_ASSIGN_OR_RETURN(VocabData vocab, read_hf_vocab(dir, cfg));
  Checkpoint st;
  POCKET_RETURN_IF_ERROR(st.open(dir));

  const int64_t hd = hp.head_dim > 0 ? hp.head_dim : hp.n_embd / hp.n_head;
  const int64_t D = hp.n_embd, F = hp.n_ff, V = (int64_t)vocab.tokens.size(), Q = hp.n_head * hd, KV = hp.n_head_kv * hd;
  auto tensor = [&](const std::string& name, std::vector<int64_t> shape, const SafeTensor** out) -> Status {
    const SafeTensor* t = st.find(name);
    if (t == nullptr) return bad(st.path(), "tensor '" + name + "'", "required tensor is missing");
    if (t->shape != shape) {
      std::string s;
      for (int64_t d : t->shape) s += (s.empty() ? "" : ", ") + std::to_string(d);
      return bad(st.path(), "tensor '" + name + "'", "shape [" + s + "] does not match config.json");
    }
    *out = t;
    return Status::ok();
  };
  // Tied checkpoints may store the shared matrix only once, under either name.
  const std::string emb_name = !st.has("model.embed_tokens.weight") && plan.tied ? "lm_head.weight" : "model.embed_tokens.weight";
  const SafeTensor* emb = nullptr;
  POCKET_RETURN_IF_ERROR(tensor(emb_name, {V, D}, &emb));
  POCKET_ASSIGN_OR_RETURN(TensorType out, resolve_outtype(opts.outtype, emb->type));
  GgufWriter w;
  write_llama_metadata(w, hp, vocab, out);
  for (const auto& [key, value] : plan.keys) w.set(key, value);
  for (const auto& [name, values] : plan.tensors) {
    std::vector<uint8_t> bytes(values.size() * sizeof(float));
    std::memcpy(bytes.data(), values.data(), bytes.size());
    POCKET_RETURN_IF_ERROR(w.add_tensor(name, TensorType::F32, {(int64_t)values.size()}, std::move(bytes)));
  }

  // Each weight: PyTorch shape (rows, cols) -> GGUF ne {cols, rows}.
  const float norm_offset = fam.gemma ? 1.0f : 0.0f;
  auto add = [&](const std::string& hf_name, const std::string& gguf_name, std::vector<int64_t> shape, int64_t permute_heads = 0,
                 float offset = 0.0f) -> Status {
    const SafeTensor* t = nullptr;
    POCKET_RETURN_IF_ERROR(tensor(hf_name, shape, &t));
    std::vector<int64_t> ne(shape.rbegin(), shape.rend());
    return add_converted_weight(w, gguf_name, ne, t->type, t->data, out, permute_heads, offset);
  };
  POCKET_RETURN_IF_ERROR(add(emb_name, "token_embd.weight", {V, D}));
  POCKET_RETURN_IF_ERROR(add("model.norm.weight", "output_norm.weight", {D}, 0, norm_offset));
  if (!plan.tied && st.has("lm_head.weight"))
    POCKET_RETURN_IF_ERROR(add("lm_head.weight", "output.weight", {V, D}));
  else if (!plan.tied)
    return bad(st.path(), "tensor 'lm_head.weight'", "required when tie_word_embeddings is false");
  else if (emb_name != "lm_head.weight" && st.has("lm_head.weight"))
    st.find("lm_head.weight");  // a tied checkpoint's copy of the embedding
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string h = "model.layers." + std::to_string(l) + ".";
    const std::string g = "blk." + std::to_string(l) + ".";
    POCKET_RETURN_IF_ERROR(add(h + "input_layernorm.weight", g + "attn_norm.weight", {D}, 0, norm_offset));
    if (fam.fused) {
      POCKET_RETURN_IF_ERROR(add(h + "self_attn.qkv_proj.weight", g + "attn_qkv.weight", {Q + 2 * KV, D}));
    } else {
      POCKET_RETURN_IF_ERROR(add(h + "self_attn.q_proj.weight", g + "attn_q.weight", {Q, D}, fam.permute_qk ? hp.n_head : 0));
      POCKET_RETURN_IF_ERROR(add(h + "self_attn.k_proj.weight", g + "attn_k.weight", {KV, D}, fam.permute_qk ? hp.n_head_kv : 0));
      POCKET_RETURN_IF_ERROR(add(h + "self_attn.v_proj.weight", g + "attn_v.weight", {KV, D}));
    }
    if (fam.qkv_bias) {
      POCKET_RETURN_IF_ERROR(add(h + "self_attn.q_proj.bias", g + "attn_q.bias", {Q}));
      POCKET_RETURN_IF_ERROR(add(h + "self_attn.k_proj.bias", g + "attn_k.bias", {KV}));
      POCKET_RETURN_IF_ERROR(add(h + "self_attn.v_proj.bias", g + "attn_v.bias", {KV}));
    }
    if (fam.qk_norm) {
      POCKET_RETURN_IF_ERROR(add(h + "self_attn.q_norm.weight", g + "attn_q_norm.weight", {hd}, 0, norm_offset));
      POCKET_RETURN_IF_ERROR(add(h + "self_attn.k_norm.weight", g + "attn_k_norm.weight", {hd}, 0, norm_offset));
    }
    POCKET_RETURN_IF_ERROR(add(h + "self_attn.o_proj.weight", g + "attn_output.weight", {D, Q}));
    if (fam.gemma) {
      POCKET_RETURN_IF_ERROR(add(h + "post_attention_layernorm.weight", g + "post_attention_norm.weight", {D}, 0, norm_offset));
      POCKET_RETURN_IF_ERROR(add(h + "pre_feedforward_layernorm.weight", g + "ffn_norm.weight", {D}, 0, norm_offset));
      POCKET_RETURN_IF_ERROR(add(h + "post_feedforward_layernorm.weight", g + "post_ffw_norm.weight", {D}, 0, norm_offset));
    } else {
      POCKET_RETURN_IF_ERROR(add(h + "post_attention_layernorm.weight", g + "ffn_norm.weight", {D}));
    }
    if (fam.fused) {
      POCKET_RETURN_IF_ERROR(add(h + "mlp.gate_up_proj.weight", g + "ffn_up.weight", {2 * F, D}));
    } else {
      POCKET_RETURN_IF_ERROR(add(h + "mlp.gate_proj.weight", g + "ffn_gate.weight", {F, D}));
      POCKET_RETURN_IF_ERROR(add(h + "mlp.up_proj.weight", g + "ffn_up.weight", {F, D}));
    }
    POCKET_RETURN_IF_ERROR(add(h + "mlp.down_proj.weight", g + "ffn_down.weight", {D, F}));
  }
  POCKET_RETURN_IF_ERROR(st.check_all_used());
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
