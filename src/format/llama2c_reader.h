// llama2.c checkpoints (legacy "v0" header and the "v1" export with the ak42 magic) and the
// llama2.c tokenizer.bin, read with every size checked against the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "pocket/status.h"

namespace pocket {

struct Llama2cCheckpoint {
  int version = 0;  // 0: legacy, 1: ak42 v1
  int32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0, seq_len = 0;
  bool shared_classifier = true;
  // Float32 arrays inside the mapping, shapes in llama2.c's row-major order.
  const float* tok_embeddings = nullptr;  // (vocab, dim)
  const float* rms_att = nullptr;         // (layer, dim)
  const float* wq = nullptr;              // (layer, dim, dim)
  const float* wk = nullptr;              // (layer, kv_dim, dim)
  const float* wv = nullptr;              // (layer, kv_dim, dim)
  const float* wo = nullptr;              // (layer, dim, dim)
  const float* rms_ffn = nullptr;         // (layer, dim)
  const float* w1 = nullptr;              // (layer, hidden, dim)   gate
  const float* w2 = nullptr;              // (layer, dim, hidden)   down
  const float* w3 = nullptr;              // (layer, hidden, dim)   up
  const float* rms_final = nullptr;       // (dim)
  const float* wcls = nullptr;            // (vocab, dim); == tok_embeddings when shared
  std::unique_ptr<MappedFile> file;

  int64_t head_size() const { return dim / n_heads; }
  int64_t kv_dim() const { return (int64_t)n_kv_heads * head_size(); }
};

Result<Llama2cCheckpoint> read_llama2c_checkpoint(const std::string& path);

struct Llama2cVocab {
  std::vector<std::string> pieces;  // as stored (llama2.c writes spaces, not U+2581)
  std::vector<float> scores;
};

Result<Llama2cVocab> read_llama2c_tokenizer(const std::string& path, int32_t vocab_size);

}  // namespace pocket
