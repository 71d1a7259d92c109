// Weights of a decoder (model/families) by role, as zero-copy views into the GGUF mapping
// (small vectors — norms, biases — are converted to float once at load).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/anon_buffer.h"
#include "format/gguf_reader.h"
#include "kernels/kernel_choice.h"
#include "kernels/kernel_table.h"
#include "model/model_config.h"
#include "pocket/status.h"

namespace pocket {

// A 2-D weight [rows, cols] stored row-major in its own type (GGUF ne = {cols, rows}).
struct Matrix {
  TensorType type = TensorType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const uint8_t* data = nullptr;
  size_t row_bytes = 0;
  std::string name;
  int64_t row0 = 0;  // first row of this matrix in the named tensor (a part of a fused one: Phi-3's attn_qkv)
  // The same rows packed for the kernel table (kernels/packed_rows.h), or nullptr: set once by
  // Model::pack_weights, before any forward pass reads it; matmuls give the same bits either way.
  mutable const uint8_t* packed = nullptr;
  const uint8_t* row(int64_t r) const { return data + (size_t)r * row_bytes; }
};

struct LayerWeights {
  std::vector<float> attn_norm;       // [n_embd]
  std::vector<float> q_norm;          // [head_dim] when config.qk_norm (Qwen3, Gemma 3)
  std::vector<float> k_norm;          // [head_dim] when config.qk_norm
  Matrix wq;                          // [q_dim, n_embd]
  Matrix wk;                          // [kv_dim, n_embd]
  Matrix wv;                          // [kv_dim, n_embd]
  std::vector<float> bq, bk, bv;      // optional biases (Qwen2): [q_dim], [kv_dim], [kv_dim]; empty if absent
  Matrix wo;                          // [n_embd, q_dim]
  std::vector<float> attn_post_norm;  // [n_embd] when config.post_norms (Gemma 2/3)
  std::vector<float> ffn_norm;        // [n_embd]
  Matrix w_gate;                      // [n_ff, n_embd]
  Matrix w_up;                        // [n_ff, n_embd]
  Matrix w_down;                      // [n_embd, n_ff]
  std::vector<float> ffn_post_norm;   // [n_embd] when config.post_norms
};

struct ModelWeights {
  Matrix tok_embd;                 // [n_vocab, n_embd]
  std::vector<float> output_norm;  // [n_embd]
  Matrix output;                   // [n_vocab, n_embd]; the same bytes as tok_embd when tied
  bool tied_output = false;
  std::vector<LayerWeights> layers;
};

// A tensor's bytes held by the model itself in place of the file's (an in-memory re-encoding, e.g. a
// self-draft's quantized copy of the target), used exactly as a file holding them would be.
struct ReplacementTensor {
  std::string name;
  TensorType type = TensorType::F32;
  std::vector<uint8_t> bytes;  // the tensor in `type`, rows in file order (GGUF layout)
};

// A loaded model: the mapping, its config and its weights.
class Model {
 public:
  static Result<std::unique_ptr<Model>> load(const std::string& path);
  // For tests: wraps an already parsed file.
  static Result<std::unique_ptr<Model>> from_gguf(std::unique_ptr<GgufFile> file);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const GgufFile& file() const { return *file_; }
  size_t weight_bytes() const;  // bytes of all weight tensors

  // Keeps only the first n layers (self-drafting: the target's own early layers with its final norm and
  // output head). The mapping is untouched.
  Status keep_first_layers(int n);

  // Points the named matrix at other bytes of another type (the caller keeps them alive), to measure
  // what re-encoding one tensor does without writing a file (mixed-precision sensitivity).
  // data == nullptr restores the file's tensor. Tied heads follow token_embd.weight.
  Status set_matrix_data(const std::string& name, TensorType type, const uint8_t* data);

  // Takes these tensors as the model's own in place of the file's views: matrices point at the bytes
  // (which the model now owns), vectors are converted to float again, and weight_bytes() counts them.
  // Each must name a tensor of the file and hold its element count in a type the model computes with;
  // on an error nothing is replaced. Tied heads follow token_embd.weight.
  Status replace_tensors(std::vector<ReplacementTensor> tensors);

  // Packs every matrix the table has a packed kernel for (kernels/packed_rows.h: Q4_0 / Q8_0, rows a
  // multiple of 16) where the measured choice says packing wins (kc.use_packed) into memory the model owns, and drops the mapping's pages of the rows
  // copied, so resident memory stays one copy. Once per model (later calls return at once; thread-safe), at engine creation, on n_threads threads;
  // POCKET_REPACK=off (packing_enabled) skips it. Matrices changed later (set_matrix_data, replace_tensors) run unpacked, with the same bits.
  void pack_weights(const KernelTable& kt, const KernelChoice& kc, int n_threads = 1) const;
  size_t packed_bytes() const { return packed_bytes_; }

 private:
  std::unique_ptr<GgufFile> file_;
  ModelConfig config_;
  ModelWeights weights_;
  std::vector<ReplacementTensor> owned_;  // replace_tensors(): the bytes the weights point into
  mutable std::once_flag pack_once_;
  mutable AnonBuffer packed_;  // pack_weights(): the bytes Matrix::packed points into
  mutable size_t packed_bytes_ = 0;
  Matrix* find_matrix(const std::string& name);
  std::vector<Matrix*> find_matrices(const std::string& name);  // every part of a fused tensor
  std::vector<float>* find_vector(const std::string& name);
};

}  // namespace pocket
