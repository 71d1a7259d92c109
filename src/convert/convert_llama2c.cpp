// llama2.c -> GGUF, the tensor names and vocabulary labelling llama.cpp's own converter uses.
#include <cstdio>

#include "convert/convert.h"
#include "format/llama2c_reader.h"

namespace pocket {
namespace {

VocabData vocab_from_llama2c(const Llama2cVocab& tv) {
  VocabData v;
  v.model = "llama";
  const size_t n = tv.pieces.size();
  v.tokens.resize(n);
  v.scores.resize(n);
  v.types.resize(n);
  for (size_t i = 0; i < n; ++i) {
    std::string piece;
    for (char ch : tv.pieces[i]) {
      if (ch == ' ')
        piece += "\xe2\x96\x81";  // back to SentencePiece's U+2581
      else
        piece += ch;
    }
    int64_t type = 1;  // NORMAL
    if (i == 0) {
      piece = "<unk>";
      type = 2;
    } else if (i == 1) {
      piece = "<s>";
      type = 3;
    } else if (i == 2) {
      piece = "</s>";
      type = 3;
    } else if (piece.size() == 6 && piece.compare(0, 3, "<0x") == 0 && piece[5] == '>')
      type = 6;  // BYTE
    v.tokens[i] = piece;
    v.scores[i] = tv.scores[i];
    v.types[i] = type;
  }
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  return v;
}

}  // namespace

Status convert_llama2c(const std::string& checkpoint, const std::string& tokenizer_bin, const std::string& out_path, const ConvertOptions& opts) {
  POCKET_ASSIGN_OR_RETURN(Llama2cCheckpoint c, read_llama2c_checkpoint(checkpoint));
  POCKET_ASSIGN_OR_RETURN(Llama2cVocab tv, read_llama2c_tokenizer(tokenizer_bin, c.vocab_size));
  POCKET_ASSIGN_OR_RETURN(TensorType out, resolve_outtype(opts.outtype, TensorType::F32));

  LlamaHParams hp;
  std::string stem = checkpoint.substr(checkpoint.find_last_of('/') + 1);
  hp.name = stem.substr(0, stem.find_last_of('.'));
  hp.n_embd = c.dim;
  hp.n_ff = c.hidden_dim;
  hp.n_layer = c.n_layers;
  hp.n_head = c.n_heads;
  hp.n_head_kv = c.n_kv_heads;
  hp.n_ctx = c.seq_len;
  hp.rms_eps = 1e-5f;  // llama2.c's rmsnorm epsilon
  GgufWriter w;
  write_llama_metadata(w, hp, vocab_from_llama2c(tv), out);

  const int64_t D = c.dim, H = c.hidden_dim, KV = c.kv_dim(), V = c.vocab_size;
  auto f32 = [](const float* p) { return reinterpret_cast<const uint8_t*>(p); };
  POCKET_RETURN_IF_ERROR(add_converted_weight(w, "token_embd.weight", {D, V}, TensorType::F32, f32(c.tok_embeddings), out));
  POCKET_RETURN_IF_ERROR(add_converted_weight(w, "output_norm.weight", {D}, TensorType::F32, f32(c.rms_final), out));
  if (!c.shared_classifier) POCKET_RETURN_IF_ERROR(add_converted_weight(w, "output.weight", {D, V}, TensorType::F32, f32(c.wcls), out));
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    // llama2.c's RoPE rotates adjacent pairs, llama.cpp's "normal" layout: no permutation needed.
    POCKET_RETURN_IF_ERROR(add_converted_weight(w, p + "attn_norm.weight", {D}, TensorType::F32, f32(c.rms_att + l * D), out));
    POCKET_RETURN_IF_ERROR(add_converted_weight(w, p + "attn_q.weight", {D, D}, TensorType::F32, f32(c.wq + l * D * D), out));
    POCKET_RETURN_IF_ERROR(add_converted_weight(w, p + "attn_k.weight", {D, KV}, TensorType::F32, f32(c.wk + l * KV * D), out));
    POCKET_RETURN_IF_ERROR(add_converted_weight(w, p + "attn_v.weight", {D, KV}, TensorType::F32, f32(c.wv + l * KV * D), out));
    POCKET_RETURN_IF_ERROR(add_converted_weight(w, p + "attn_output.weight", {D, D}, TensorType::F32, f32(c.wo + l * D * D), out));
    POCKET_RETURN_IF_ERROR(add_converted_weight(w, p + "ffn_norm.weight", {D}, TensorType::F32, f32(c.rms_ffn + l * D), out));
    POCKET_RETURN_IF_ERROR(add_converted_weight(w, p + "ffn_gate.weight", {D, H}, TensorType::F32, f32(c.w1 + l * H * D), out));
    POCKET_RETURN_IF_ERROR(add_converted_weight(w, p + "ffn_down.weight", {H, D}, TensorType::F32, f32(c.w2 + l * D * H), out));
    POCKET_RETURN_IF_ERROR(add_converted_weight(w, p + "ffn_up.weight", {D, H}, TensorType::F32, f32(c.w3 + l * H * D), out));
  }
  return w.write(out_path, opts.force);
}

}  // namespace pocket
