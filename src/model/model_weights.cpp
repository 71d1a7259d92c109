#include "model/model_weights.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "kernels/kernel_table.h"

namespace pocket {
namespace {

class WeightLoader {
 public:
  explicit WeightLoader(const GgufFile& f) : f_(f) {}

  // rows [row0, row0 + rows) of the 2-D tensor `name` of shape [cols, total_rows].
  Status matrix(const std::string& name, int64_t rows, int64_t cols, Matrix* out, int64_t row0 = 0, int64_t total_rows = -1) {
    const TensorView* t = f_.find_tensor(name);
    if (t == nullptr) return missing(name);
    used_.insert(name);
    if (total_rows < 0) total_rows = rows;
    if (t->n_dims != 2 || t->ne[0] != cols || t->ne[1] != total_rows)
      return error(ErrorCode::kFormatError, f_.name() + ": tensor '" + name + "': shape " + t->shape_string() + ", expected [" +
                                                std::to_string(cols) + ", " + std::to_string(total_rows) + "]");
    const TypeTraits& tt = traits(t->type);
    if (tt.to_float == nullptr || kernels().vec_dot[(int)t->type] == nullptr)
      return error(ErrorCode::kUnsupported,
                   f_.name() + ": tensor '" + name + "': type " + tt.name +
                       " is not supported for computation (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)");
    out->type = t->type;
    out->rows = rows;
    out->cols = cols;
    out->row_bytes = row_bytes(tt, cols);
    out->data = t->data + (size_t)row0 * out->row_bytes;
    out->row0 = row0;
    out->name = name;
    return Status::ok();
  }

  Status vector(const std::string& name, int64_t n, bool required, std::vector<float>* out) {
    const TensorView* t = f_.find_tensor(name);
    if (t == nullptr) return required ? missing(name) : Status::ok();
    used_.insert(name);
    if (t->n_elements() != n || t->ne[0] != n)
      return error(ErrorCode::kFormatError,
                   f_.name() + ": tensor '" + name + "': shape " + t->shape_string() + ", expected [" + std::to_string(n) + "]");
    const TypeTraits& tt = traits(t->type);
    if (tt.to_float == nullptr) return error(ErrorCode::kUnsupported, f_.name() + ": tensor '" + name + "': type " + tt.name + " is not supported");
    out->resize((size_t)n);
    tt.to_float(t->data, out->data(), n);
    return Status::ok();
  }

  // A tensor of the file no role took changes the maths in a way this family does not know: refuse it.
  Status check_all_used(const std::string& arch) const {
    for (const TensorView& t : f_.tensors())
      if (used_.count(t.name) == 0)
        return error(ErrorCode::kUnsupported, f_.name() + ": tensor '" + t.name + "': not used by architecture '" + arch +
                                                  "' (pocket would compute without it, so it refuses the file)");
    return Status::ok();
  }

 private:
  Status missing(const std::string& name) const {
    return error(ErrorCode::kFormatError, f_.name() + ": tensor '" + name + "': required tensor is missing");
  }
  const GgufFile& f_;
  std::set<std::string> used_;
};

}  // namespace

Result<std::unique_ptr<Model>> Model::load(const std::string& path) {
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::open(path));
  return from_gguf(std::move(f));
}

Result<std::unique_ptr<Model>> Model::from_gguf(std::unique_ptr<GgufFile> file) {
  std::unique_ptr<Model> m(new Model());
  m->file_ = std::move(file);
  POCKET_ASSIGN_OR_RETURN(m->config_, read_model_config(*m->file_));
  const ModelConfig& c = m->config_;
  ModelWeights& w = m->weights_;
  WeightLoader ld(*m->file_);
  POCKET_RETURN_IF_ERROR(ld.matrix("token_embd.weight", c.n_vocab, c.n_embd, &w.tok_embd));
  POCKET_RETURN_IF_ERROR(ld.vector("output_norm.weight", c.n_embd, true, &w.output_norm));
  if (m->file_->find_tensor("output.weight") != nullptr) {
    POCKET_RETURN_IF_ERROR(ld.matrix("output.weight", c.n_vocab, c.n_embd, &w.output));
  } else {
    w.output = w.tok_embd;
    w.tied_output = true;
  }
  if (!c.rope_factors_tensor.empty()) POCKET_RETURN_IF_ERROR(ld.vector(c.rope_factors_tensor, c.rope_dim / 2, true, &m->config_.rope_freq_factors));
  if (!c.rope_factors_long_tensor.empty())
    POCKET_RETURN_IF_ERROR(ld.vector(c.rope_factors_long_tensor, c.rope_dim / 2, true, &m->config_.rope_freq_factors_long));
  for (const std::vector<float>* v : {&c.rope_freq_factors, &c.rope_freq_factors_long})
    for (float x : *v)
      if (!(x > 0.0f && std::isfinite(x)))
        return error(ErrorCode::kFormatError, m->file_->name() + ": tensor '" +
                                                  (v == &c.rope_freq_factors ? c.rope_factors_tensor : c.rope_factors_long_tensor) +
                                                  "': RoPE frequency factors must be finite and > 0");
  w.layers.resize((size_t)c.n_layer);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    LayerWeights& L = w.layers[(size_t)l];
    const std::string p = "blk." + std::to_string(l) + ".";
    POCKET_RETURN_IF_ERROR(ld.vector(p + "attn_norm.weight", c.n_embd, true, &L.attn_norm));
    if (c.fused_qkv) {
      const int64_t rows = c.q_dim() + 2 * c.kv_dim();
      POCKET_RETURN_IF_ERROR(ld.matrix(p + "attn_qkv.weight", c.q_dim(), c.n_embd, &L.wq, 0, rows));
      POCKET_RETURN_IF_ERROR(ld.matrix(p + "attn_qkv.weight", c.kv_dim(), c.n_embd, &L.wk, c.q_dim(), rows));
      POCKET_RETURN_IF_ERROR(ld.matrix(p + "attn_qkv.weight", c.kv_dim(), c.n_embd, &L.wv, c.q_dim() + c.kv_dim(), rows));
    } else {
      POCKET_RETURN_IF_ERROR(ld.matrix(p + "attn_q.weight", c.q_dim(), c.n_embd, &L.wq));
      POCKET_RETURN_IF_ERROR(ld.matrix(p + "attn_k.weight", c.kv_dim(), c.n_embd, &L.wk));
      POCKET_RETURN_IF_ERROR(ld.matrix(p + "attn_v.weight", c.kv_dim(), c.n_embd, &L.wv));
    }
    POCKET_RETURN_IF_ERROR(ld.vector(p + "attn_q.bias", c.q_dim(), false, &L.bq));
    POCKET_RETURN_IF_ERROR(ld.vector(p + "attn_k.bias", c.kv_dim(), false, &L.bk));
    POCKET_RETURN_IF_ERROR(ld.vector(p + "attn_v.bias", c.kv_dim(), false, &L.bv));
    if (c.qk_norm) {
      POCKET_RETURN_IF_ERROR(ld.vector(p + "attn_q_norm.weight", c.head_dim, true, &L.q_norm));
      POCKET_RETURN_IF_ERROR(ld.vector(p + "attn_k_norm.weight", c.head_dim, true, &L.k_norm));
    }
    POCKET_RETURN_IF_ERROR(ld.matrix(p + "attn_output.weight", c.n_embd, c.q_dim(), &L.wo));
    if (c.post_norms) {
      POCKET_RETURN_IF_ERROR(ld.vector(p + "post_attention_norm.weight", c.n_embd, true, &L.attn_post_norm));
      POCKET_RETURN_IF_ERROR(ld.vector(p + "post_ffw_norm.weight", c.n_embd, true, &L.ffn_post_norm));
    }
    POCKET_RETURN_IF_ERROR(ld.vector(p + "ffn_norm.weight", c.n_embd, true, &L.ffn_norm));
    if (c.fused_gate_up) {
      POCKET_RETURN_IF_ERROR(ld.matrix(p + "ffn_up.weight", c.n_ff, c.n_embd, &L.w_gate, 0, 2 * c.n_ff));
      POCKET_RETURN_IF_ERROR(ld.matrix(p + "ffn_up.weight", c.n_ff, c.n_embd, &L.w_up, c.n_ff, 2 * c.n_ff));
    } else {
      POCKET_RETURN_IF_ERROR(ld.matrix(p + "ffn_gate.weight", c.n_ff, c.n_embd, &L.w_gate));
      POCKET_RETURN_IF_ERROR(ld.matrix(p + "ffn_up.weight", c.n_ff, c.n_embd, &L.w_up));
    }
    POCKET_RETURN_IF_ERROR(ld.matrix(p + "ffn_down.weight", c.n_embd, c.n_ff, &L.w_down));
  }
  POCKET_RETURN_IF_ERROR(ld.check_all_used(c.arch));
  return m;
}

std::vector<Matrix*> Model::find_matrices(const std::string& name) {
  std::vector<Matrix*> out;
  ModelWeights& w = weights_;
  if (w.tok_embd.name == name) out.push_back(&w.tok_embd);
  if (!w.tied_output && w.output.name == name) out.push_back(&w.output);
  for (LayerWeights& L : w.layers)
    for (Matrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
      if (m->name == name) out.push_back(m);
  return out;
}

Matrix* Model::find_matrix(const std::string& name) {
  const std::vector<Matrix*> all = find_matrices(name);
  return all.empty() ? nullptr : all[0];
}

std::vector<float>* Model::find_vector(const std::string& name) {
  ModelWeights& w = weights_;
  if (name == "output_norm.weight") return &w.output_norm;
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    if (name.compare(0, p.size(), p) != 0) continue;
    LayerWeights& L = w.layers[l];
    const std::string role = name.substr(p.size());
    if (role == "attn_norm.weight") return &L.attn_norm;
    if (role == "ffn_norm.weight") return &L.ffn_norm;
    if (role == "attn_q.bias") return &L.bq;
    if (role == "attn_k.bias") return &L.bk;
    if (role == "attn_v.bias") return &L.bv;
    if (role == "attn_q_norm.weight") return &L.q_norm;
    if (role == "attn_k_norm.weight") return &L.k_norm;
    if (role == "post_attention_norm.weight") return &L.attn_post_norm;
    if (role == "post_ffw_norm.weight") return &L.ffn_post_norm;
    return nullptr;
  }
  return nullptr;
}

Status Model::keep_first_layers(int n) {
  if (n < 1 || n > config_.n_layer)
    return error(ErrorCode::kInvalidArgument, file_->name() + ": cannot keep " + std::to_string(n) + " layers of " + std::to_string(config_.n_layer));
  weights_.layers.resize((size_t)n);
  config_.n_layer = n;
  return Status::ok();
}

Status Model::set_matrix_data(const std::string& name, TensorType type, const uint8_t* data) {
  const std::vector<Matrix*> parts = find_matrices(name);
  if (parts.empty()) return error(ErrorCode::kInvalidArgument, "set_matrix_data: no matrix named '" + name + "'");
  Matrix* m = parts[0];
  if (data == nullptr) {
    const TensorView* t = file_->find_tensor(name);
    type = t->type;
    data = t->data;
  }
  const TypeTraits& tt = traits(type);
  if (tt.to_float == nullptr || kernels().vec_dot[(int)type] == nullptr || m->cols % tt.block_size != 0)
    return error(ErrorCode::kUnsupported, "set_matrix_data: '" + name + "' cannot use type " + tt.name);
  for (Matrix* part : parts) {  // a fused tensor's parts each start at their own row
    part->type = type;
    part->row_bytes = row_bytes(tt, part->cols);
    part->data = data + (size_t)part->row0 * part->row_bytes;
    part->packed = nullptr;
  }
  if (m == &weights_.tok_embd && weights_.tied_output) weights_.output = *m;
  return Status::ok();
}

Status Model::replace_tensors(std::vector<ReplacementTensor> tensors) {
  // Everything is checked first, so that an error leaves the model as it was.
  for (const ReplacementTensor& r : tensors) {
    const TensorView* t = file_->find_tensor(r.name);
    if (t == nullptr) return error(ErrorCode::kInvalidArgument, "replace_tensors: no tensor named '" + r.name + "'");
    const TypeTraits& tt = traits(r.type);
    const bool whole_blocks = t->ne[0] % tt.block_size == 0;
    if (tt.to_float == nullptr || !whole_blocks || r.bytes.size() != (size_t)(t->n_elements() / tt.block_size) * tt.block_bytes)
      return error(ErrorCode::kInvalidArgument, "replace_tensors: '" + r.name + "': " + std::to_string(r.bytes.size()) + " bytes are not " +
                                                    t->shape_string() + " in type " + tt.name);
    if (find_matrix(r.name) != nullptr && kernels().vec_dot[(int)r.type] == nullptr)
      return error(ErrorCode::kUnsupported, "replace_tensors: '" + r.name + "' cannot use type " + tt.name);
  }
  for (ReplacementTensor& r : tensors) {
    if (find_matrix(r.name) != nullptr) {
      POCKET_RETURN_IF_ERROR(set_matrix_data(r.name, r.type, r.bytes.data()));
    } else if (std::vector<float>* v = find_vector(r.name)) {
      traits(r.type).to_float(r.bytes.data(), v->data(), (int64_t)v->size());
    }
    // Moving the vector keeps its buffer, which the weights now point into.
    auto same = std::find_if(owned_.begin(), owned_.end(), [&](const ReplacementTensor& o) { return o.name == r.name; });
    if (same != owned_.end())
      *same = std::move(r);
    else
      owned_.push_back(std::move(r));
  }
  return Status::ok();
}

size_t Model::weight_bytes() const {
  size_t n = 0;
  for (const TensorView& t : file_->tensors()) {
    auto r = std::find_if(owned_.begin(), owned_.end(), [&](const ReplacementTensor& o) { return o.name == t.name; });
    n += r == owned_.end() ? t.nbytes : r->bytes.size();
  }
  return n;
}

}  // namespace pocket
