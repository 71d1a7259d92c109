#include "convert/llama_metadata.h"

#include <cstring>

namespace pocket {

void write_llama_metadata(GgufWriter& w, const LlamaHParams& hp, const VocabData& v, TensorType file_type) {
  const std::string a = hp.arch + ".";
  w.set("general.architecture", GgufValue::make_string(hp.arch));
  w.set("general.name", GgufValue::make_string(hp.name.empty() ? hp.arch : hp.name));
  // llama.cpp's general.file_type (LLAMA_FTYPE): 0 all F32, 1 mostly F16, 2 Q4_0, 3 Q4_1, 7 Q8_0, 32 BF16.
  uint32_t ftype = 0;
  switch (file_type) {
    case TensorType::F16: ftype = 1; break;
    case TensorType::Q4_0: ftype = 2; break;
    case TensorType::Q4_1: ftype = 3; break;
    case TensorType::Q8_0: ftype = 7; break;
    case TensorType::BF16: ftype = 32; break;
    default: ftype = 0; break;
  }
  w.set("general.file_type", GgufValue::make_u32(ftype));
  const int64_t hd = hp.head_dim > 0 ? hp.head_dim : hp.n_embd / hp.n_head;
  w.set(a + "context_length", GgufValue::make_u32((uint32_t)hp.n_ctx));
  w.set(a + "embedding_length", GgufValue::make_u32((uint32_t)hp.n_embd));
  w.set(a + "feed_forward_length", GgufValue::make_u32((uint32_t)hp.n_ff));
  w.set(a + "attention.head_count", GgufValue::make_u32((uint32_t)hp.n_head));
  w.set(a + "attention.head_count_kv", GgufValue::make_u32((uint32_t)hp.n_head_kv));
  if (hp.head_dim > 0) {
    w.set(a + "attention.key_length", GgufValue::make_u32((uint32_t)hd));
    w.set(a + "attention.value_length", GgufValue::make_u32((uint32_t)hd));
  }
  w.set(a + "block_count", GgufValue::make_u32((uint32_t)hp.n_layer));
  w.set(a + "rope.dimension_count", GgufValue::make_u32((uint32_t)(hp.rope_dim > 0 ? hp.rope_dim : hd)));
  w.set(a + "rope.freq_base", GgufValue::make_f32(hp.rope_freq_base));
  w.set(a + "attention.layer_norm_rms_epsilon", GgufValue::make_f32(hp.rms_eps));
  w.set(a + "vocab_size", GgufValue::make_u32((uint32_t)v.tokens.size()));
  write_vocab_metadata(w, v);
}

void write_vocab_metadata(GgufWriter& w, const VocabData& v) {
  w.set("tokenizer.ggml.model", GgufValue::make_string(v.model));
  if (!v.pre.empty()) w.set("tokenizer.ggml.pre", GgufValue::make_string(v.pre));
  w.set("tokenizer.ggml.tokens", GgufValue::make_str_array(v.tokens));
  if (!v.scores.empty()) w.set("tokenizer.ggml.scores", GgufValue::make_f32_array(v.scores));
  w.set("tokenizer.ggml.token_type", GgufValue::make_i32_array(v.types));
  if (!v.merges.empty()) w.set("tokenizer.ggml.merges", GgufValue::make_str_array(v.merges));
  if (v.bos >= 0) w.set("tokenizer.ggml.bos_token_id", GgufValue::make_u32((uint32_t)v.bos));
  if (v.eos >= 0) w.set("tokenizer.ggml.eos_token_id", GgufValue::make_u32((uint32_t)v.eos));
  if (v.unk >= 0) w.set("tokenizer.ggml.unknown_token_id", GgufValue::make_u32((uint32_t)v.unk));
  if (v.pad >= 0) w.set("tokenizer.ggml.padding_token_id", GgufValue::make_u32((uint32_t)v.pad));
  if (v.add_bos >= 0) w.set("tokenizer.ggml.add_bos_token", GgufValue::make_bool(v.add_bos != 0));
  if (v.add_eos >= 0) w.set("tokenizer.ggml.add_eos_token", GgufValue::make_bool(v.add_eos != 0));
  if (v.add_space_prefix >= 0) w.set("tokenizer.ggml.add_space_prefix", GgufValue::make_bool(v.add_space_prefix != 0));
}

Result<TensorType> resolve_outtype(const std::string& outtype, TensorType source_type) {
  if (outtype == "auto") return source_type;
  auto t = type_from_name(outtype);
  if (!t || traits(*t).from_float == nullptr ||
      (*t != TensorType::F32 && *t != TensorType::F16 && *t != TensorType::BF16 && *t != TensorType::Q8_0 && *t != TensorType::Q4_0 &&
       *t != TensorType::Q4_1))
    return Status(ErrorCode::kInvalidArgument, "outtype: unknown or unsupported type '" + outtype + "' (auto, f32, f16, bf16, q8_0, q4_0, q4_1)",
                  "outtype");
  return *t;
}

Status add_converted_weight(GgufWriter& w, const std::string& name, const std::vector<int64_t>& ne, TensorType src_type, const uint8_t* src,
                            TensorType out, int64_t permute_heads, float offset) {
  const TypeTraits& st = traits(src_type);
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  const int64_t cols = ne[0];
  const int64_t rows = n / cols;
  TensorType target = ne.size() == 1 ? TensorType::F32 : out;
  if (cols % traits(target).block_size != 0) target = TensorType::F32;
  if (target == src_type && permute_heads == 0 && offset == 0.0f)
    return w.add_tensor_view(name, target, ne, src, (size_t)(n / st.block_size) * st.block_bytes);

  std::vector<float> f((size_t)n);
  st.to_float(src, f.data(), n);
  if (offset != 0.0f)
    for (float& x : f) x += offset;
  if (permute_heads > 0) {
    // HF rotate-half rows (per head: first half, second half) -> interleaved pairs (i, i + hd/2).
    if (rows % permute_heads != 0 || (rows / permute_heads) % 2 != 0)
      return error(ErrorCode::kFormatError,
                   name + ": " + std::to_string(rows) + " rows cannot be split into " + std::to_string(permute_heads) + " heads of even size");
    const int64_t hd = rows / permute_heads, half = hd / 2;
    std::vector<float> p((size_t)n);
    for (int64_t h = 0; h < permute_heads; ++h)
      for (int64_t i = 0; i < half; ++i)
        for (int64_t j = 0; j < 2; ++j)
          std::memcpy(&p[(size_t)((h * hd + 2 * i + j) * cols)], &f[(size_t)((h * hd + j * half + i) * cols)], (size_t)cols * sizeof(float));
    f.swap(p);
  }
  const TypeTraits& tt = traits(target);
  std::vector<uint8_t> out_bytes((size_t)(n / tt.block_size) * tt.block_bytes);
  const size_t rb = row_bytes(tt, cols);
  for (int64_t r = 0; r < rows; ++r) tt.from_float(&f[(size_t)(r * cols)], out_bytes.data() + (size_t)r * rb, cols);
  return w.add_tensor(name, target, ne, std::move(out_bytes));
}

}  // namespace pocket
