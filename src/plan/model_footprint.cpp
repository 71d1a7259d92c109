#include "plan/model_footprint.h"

#include <map>

#include "format/gguf_reader.h"
#include "model/model_shapes.h"

namespace pocket {

size_t ModelFootprint::weight_bytes() const {
  size_t n = 0;
  for (const TensorInfo& t : tensors) n += t.bytes;
  return n;
}

size_t ModelFootprint::embedding_bytes() const {
  for (const TensorInfo& t : tensors)
    if (t.name == "token_embd.weight") return t.bytes;
  return 0;
}

size_t ModelFootprint::decode_bytes() const {
  size_t n = 0;
  for (const TensorInfo& t : tensors) {
    if (t.rows <= 1) continue;  // norms and biases: a few KiB
    if (t.name == "token_embd.weight" && !tied_output) continue;
    n += t.bytes;
  }
  return n;
}

double ModelFootprint::matmul_macs() const {
  double n = 0;
  for (const TensorInfo& t : tensors) {
    if (t.rows <= 1) continue;
    if (t.name == "token_embd.weight" && !tied_output) continue;
    n += (double)t.ne0 * (double)t.rows;
  }
  return n;
}

// An untied embedding is only indexed, but the kernel's read-ahead around each touched row pages most of
// it in (measured: stories15M Q4_0, TinyLlama Q4_0/Q8_0 peak RSS); counted in full, an upper bound.
size_t ModelFootprint::resident_weight_bytes() const { return weight_bytes(); }

TensorType ModelFootprint::main_type() const {
  std::map<TensorType, size_t> by;
  for (const TensorInfo& t : tensors)
    if (t.rows > 1) by[t.type] += t.bytes;
  TensorType best = TensorType::F32;
  size_t most = 0;
  for (const auto& [type, bytes] : by)
    if (bytes > most) most = bytes, best = type;
  return best;
}

ModelFootprint ModelFootprint::with_weight_type(TensorType type) const {
  ModelFootprint f = *this;
  const TypeTraits& tr = traits(type);
  for (TensorInfo& t : f.tensors) {
    if (t.rows <= 1 || t.ne0 % tr.block_size != 0) continue;
    t.type = type;
    t.bytes = (size_t)t.rows * row_bytes(tr, t.ne0);
  }
  return f;
}

Result<ModelFootprint> footprint_of_file(const std::string& path) {
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::open(path));
  ModelFootprint f;
  f.name = path.substr(path.find_last_of('/') + 1);
  POCKET_ASSIGN_OR_RETURN(f.config, read_model_config(*file));
  f.tied_output = file->find_tensor("output.weight") == nullptr;
  for (const TensorView& v : file->tensors()) f.tensors.push_back({v.name, v.ne[0], v.n_rows(), v.type, v.nbytes});
  return f;
}

Result<ModelFootprint> footprint_of_shape(const std::string& shape_name, TensorType type) {
  const ModelShape* s = find_shape(shape_name);
  if (s == nullptr) {
    std::string names;
    for (const ModelShape& k : known_shapes()) names += (names.empty() ? "" : ", ") + std::string(k.name);
    return Status(ErrorCode::kInvalidArgument, "shape_name: unknown shape '" + shape_name + "'; known: " + names, "shape_name");
  }
  ModelFootprint f;
  f.name = s->name;
  ModelConfig& c = f.config;
  c.n_vocab = s->n_vocab;
  c.n_embd = s->n_embd;
  c.n_layer = s->n_layer;
  c.n_head = s->n_head;
  c.n_head_kv = s->n_head_kv;
  c.head_dim = s->head_dim > 0 ? s->head_dim : s->n_embd / s->n_head;
  c.n_ff = s->n_ff;
  c.n_ctx_train = s->n_ctx;
  c.rope_dim = c.head_dim;
  c.rope_freq_base = s->rope_freq_base;
  c.rms_eps = s->rms_eps;
  f.tied_output = s->tied_output;
  const int64_t D = c.n_embd, Q = c.q_dim(), KV = c.kv_dim(), F = c.n_ff;
  auto add = [&](const std::string& name, int64_t ne0, int64_t rows) {
    f.tensors.push_back({name, ne0, rows, TensorType::F32, (size_t)(ne0 * rows) * sizeof(float)});
  };
  add("token_embd.weight", D, c.n_vocab);
  if (!s->tied_output) add("output.weight", D, c.n_vocab);
  add("output_norm.weight", D, 1);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", D, 1);
    add(p + "attn_q.weight", D, Q);
    add(p + "attn_k.weight", D, KV);
    add(p + "attn_v.weight", D, KV);
    if (s->qkv_bias) {
      add(p + "attn_q.bias", Q, 1);
      add(p + "attn_k.bias", KV, 1);
      add(p + "attn_v.bias", KV, 1);
    }
    add(p + "attn_output.weight", Q, D);
    add(p + "ffn_norm.weight", D, 1);
    add(p + "ffn_gate.weight", D, F);
    add(p + "ffn_up.weight", D, F);
    add(p + "ffn_down.weight", F, D);
  }
  return f.with_weight_type(type);
}

double kv_formula_bytes(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, int64_t n_ctx, double bytes_per_value) {
  return 2.0 * (double)n_layer * (double)n_head_kv * (double)head_dim * (double)n_ctx * bytes_per_value;
}

}  // namespace pocket
