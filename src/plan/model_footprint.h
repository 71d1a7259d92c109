// A model as the planner sees it: shape and the bytes of every tensor, from a GGUF file's header
// (no weights read) or from a named shape (model_shapes.h) in a weight type. Also the KV formula.
#pragma once

#include <string>
#include <vector>

#include "model/model_config.h"
#include "pocket/status.h"
#include "dtype/tensor_type.h"

namespace pocket {

struct TensorInfo {
  std::string name;
  int64_t ne0 = 0, rows = 0;  // contiguous width, rows (product of the outer dimensions)
  TensorType type = TensorType::F32;
  size_t bytes = 0;
};

struct ModelFootprint {
  std::string name;
  ModelConfig config;
  bool tied_output = false;  // no output.weight: the token embedding is the head and is read every token
  std::vector<TensorInfo> tensors;

  size_t weight_bytes() const;
  size_t embedding_bytes() const;
  // Weights read per generated token: every matrix except an untied token_embd (only indexed).
  size_t decode_bytes() const;
  // Multiply-adds per token in the matrices (2 FLOP each), without attention.
  double matmul_macs() const;
  // Weights resident in memory while generating: all of them (an untied token_embd is only indexed,
  // but read-ahead pages most of it in; see the .cpp).
  size_t resident_weight_bytes() const;
  // Type holding most of the matrix bytes (the "weight type" of the model).
  TensorType main_type() const;
  // The same model with every 2-D weight in type t (norms stay F32), as `pocket quantize --type t` writes it.
  // Tensors whose width t's blocks do not divide keep their type.
  ModelFootprint with_weight_type(TensorType t) const;
};

Result<ModelFootprint> footprint_of_file(const std::string& path);
Result<ModelFootprint> footprint_of_shape(const std::string& shape_name, TensorType type);

// KV cache bytes by the formula: 2 (K and V) x layers x KV heads x head size x positions x bytes per
// value (2 for f16, 1 for int8, 0.5 for int4), scales not included.
double kv_formula_bytes(int64_t n_layer, int64_t n_head_kv, int64_t head_dim, int64_t n_ctx, double bytes_per_value);

}  // namespace pocket
