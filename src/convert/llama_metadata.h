// What every converter writes: llama.cpp-compatible `llama.*` hyperparameters, `tokenizer.ggml.*`
// vocabulary keys, and weights converted to the requested output type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/gguf_writer.h"
#include "pocket/status.h"
#include "dtype/tensor_type.h"

namespace pocket {

struct LlamaHParams {
  std::string arch = "llama";  // general.architecture and the prefix of the hyperparameter keys
  std::string name;
  int64_t n_embd = 0, n_ff = 0, n_layer = 0, n_head = 0, n_head_kv = 0, n_ctx = 0;
  int64_t head_dim = 0;  // 0: n_embd / n_head; else written as attention.key_length / value_length
  int64_t rope_dim = 0;  // 0: the head width
  float rms_eps = 1e-5f;
  float rope_freq_base = 10000.0f;
};

struct VocabData {
  std::string model = "llama";  // tokenizer.ggml.model: "llama" (SentencePiece) or "gpt2" (byte-level BPE)
  std::string pre;              // tokenizer.ggml.pre (BPE only)
  std::vector<std::string> tokens;
  std::vector<double> scores;       // may be empty for BPE
  std::vector<int64_t> types;       // GGUF token types
  std::vector<std::string> merges;  // "left right", by rank
  int64_t bos = -1, eos = -1, unk = -1, pad = -1;
  int add_bos = -1, add_eos = -1, add_space_prefix = -1;  // -1: leave the key out (llama.cpp defaults)
};

// Output weight type of a conversion; "auto" keeps the source precision.
struct ConvertOptions {
  std::string outtype = "auto";  // auto|f32|f16|bf16|q8_0|q4_0|q4_1
  bool force = false;
};

void write_llama_metadata(GgufWriter& w, const LlamaHParams& hp, const VocabData& vocab, TensorType file_type);
// The tokenizer.ggml.* keys alone (write_llama_metadata writes them too).
void write_vocab_metadata(GgufWriter& w, const VocabData& vocab);

// Converts one weight (rows of ne[0] values in src_type) to its output type and adds it.
// 1-D tensors are always F32. 2-D tensors use `out` (falling back to F32 when ne[0] does not fit
// the block size). permute_heads > 0 reorders rows from HF's rotate-half RoPE layout to
// adjacent pairs, for that many heads. `offset` is added to every value first (Gemma's norms: HF
// stores w of (1 + w), GGUF the 1 + w).
Status add_converted_weight(GgufWriter& w, const std::string& name, const std::vector<int64_t>& ne, TensorType src_type, const uint8_t* src,
                            TensorType out, int64_t permute_heads = 0, float offset = 0.0f);

// Resolves an --outtype string against the source type.
Result<TensorType> resolve_outtype(const std::string& outtype, TensorType source_type);

}  // namespace pocket
