#include "format/llama2c_reader.h"

#include <cmath>
#include <cstring>

namespace pocket {
namespace {

constexpr uint32_t kV1Magic = 0x616b3432;  // "ak42"
constexpr int32_t kMaxDim = 1 << 16;

Status bad(const std::string& path, const std::string& field, const std::string& why) {
  return error(ErrorCode::kFormatError, path + ": " + field + ": " + why);
}

}  // namespace

Result<Llama2cCheckpoint> read_llama2c_checkpoint(const std::string& path) {
  Llama2cCheckpoint c;
  POCKET_ASSIGN_OR_RETURN(c.file, MappedFile::open(path));
  const uint8_t* p = c.file->data();
  const size_t size = c.file->size();
  size_t header = 0;
  int32_t h[7];
  uint32_t magic = 0;
  if (size >= 4) std::memcpy(&magic, p, 4);
  if (magic == kV1Magic) {
    if (size < 256) return bad(path, "header", "file truncated: v1 header needs 256 bytes");
    int32_t version = 0;
    std::memcpy(&version, p + 4, 4);
    if (version != 1)
      return bad(path, "header.version", "llama2.c export version " + std::to_string(version) + " is not supported (only 1: float32)");
    std::memcpy(h, p + 8, sizeof(h));
    c.version = 1;
    c.shared_classifier = p[36] != 0;
    header = 256;
  } else {
    if (size < sizeof(h)) return bad(path, "header", "file truncated: legacy header needs 28 bytes");
    std::memcpy(h, p, sizeof(h));
    c.version = 0;
    header = sizeof(h);
  }
  c.dim = h[0];
  c.hidden_dim = h[1];
  c.n_layers = h[2];
  c.n_heads = h[3];
  c.n_kv_heads = h[4];
  c.vocab_size = h[5];
  c.seq_len = h[6];
  if (c.version == 0) {
    c.shared_classifier = c.vocab_size > 0;  // legacy: a negative vocab size flags a separate classifier
    // INT32_MIN has no positive counterpart (found by fuzz_llama2c): left at 0, refused below.
    c.vocab_size = c.vocab_size == INT32_MIN ? 0 : c.vocab_size < 0 ? -c.vocab_size : c.vocab_size;
  }
  const char* names[7] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
  const int32_t vals[7] = {c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len};
  for (int i = 0; i < 7; ++i) {
    const int32_t limit = i == 5 ? (1 << 22) : i == 6 ? (1 << 22) : kMaxDim;
    if (vals[i] <= 0 || vals[i] > limit)
      return bad(path, std::string("header.") + names[i], "value " + std::to_string(vals[i]) + " out of range (not a llama2.c checkpoint?)");
  }
  if (c.dim % c.n_heads != 0) return bad(path, "header.n_heads", "does not divide dim");
  if (c.n_heads % c.n_kv_heads != 0) return bad(path, "header.n_kv_heads", "does not divide n_heads");
  if (c.head_size() % 2 != 0) return bad(path, "header.n_heads", "head size must be even for RoPE");

  const uint64_t L = (uint64_t)c.n_layers, D = (uint64_t)c.dim, H = (uint64_t)c.hidden_dim, V = (uint64_t)c.vocab_size, KV = (uint64_t)c.kv_dim(),
                 T = (uint64_t)c.seq_len, HS = (uint64_t)c.head_size();
  uint64_t need = header;
  // Sizes in floats of each array, in file order.
  auto take = [&](uint64_t n_floats, const float** out) {
    *out = reinterpret_cast<const float*>(p + need);
    need += n_floats * 4;
  };
  if (c.version == 0) {
    take(V * D, &c.tok_embeddings);
    take(L * D, &c.rms_att);
    take(L * D * D, &c.wq);
    take(L * KV * D, &c.wk);
    take(L * KV * D, &c.wv);
    take(L * D * D, &c.wo);
    take(L * D, &c.rms_ffn);
    take(L * H * D, &c.w1);
    take(L * D * H, &c.w2);
    take(L * H * D, &c.w3);
    take(D, &c.rms_final);
    const float* freqs = nullptr;
    take(T * HS, &freqs);  // freq_cis_real and freq_cis_imag, (seq_len, head_size/2) each: unused, RoPE is recomputed
  } else {
    take(L * D, &c.rms_att);
    take(L * D, &c.rms_ffn);
    take(D, &c.rms_final);
    take(V * D, &c.tok_embeddings);
    take(L * D * D, &c.wq);
    take(L * KV * D, &c.wk);
    take(L * KV * D, &c.wv);
    take(L * D * D, &c.wo);
    take(L * H * D, &c.w1);
    take(L * D * H, &c.w2);
    take(L * H * D, &c.w3);
  }
  if (c.shared_classifier)
    c.wcls = c.tok_embeddings;
  else
    take(V * D, &c.wcls);
  if (need > size)
    return bad(path, "weights", "file truncated: the header implies " + std::to_string(need) + " bytes, the file has " + std::to_string(size));
  if (need < size)
    return bad(path, "weights",
               std::to_string(size - need) + " trailing bytes after the weights the header implies (" + std::to_string(need) +
                   "): wrong header or not a llama2.c checkpoint");
  if (reinterpret_cast<uintptr_t>(p + header) % alignof(float) != 0) return bad(path, "weights", "misaligned");
  return c;
}

Result<Llama2cVocab> read_llama2c_tokenizer(const std::string& path, int32_t vocab_size) {
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> f, MappedFile::open(path));
  const uint8_t* p = f->data();
  const size_t size = f->size();
  size_t pos = 0;
  auto read = [&](void* dst, size_t n, const std::string& field) -> Status {
    if (size - pos < n) return bad(path, field, "file truncated at byte " + std::to_string(pos));
    std::memcpy(dst, p + pos, n);
    pos += n;
    return Status::ok();
  };
  int32_t max_len = 0;
  POCKET_RETURN_IF_ERROR(read(&max_len, 4, "max_token_length"));
  if (max_len <= 0 || max_len > 4096) return bad(path, "max_token_length", "value " + std::to_string(max_len) + " out of range");
  Llama2cVocab v;
  v.pieces.resize((size_t)vocab_size);
  v.scores.resize((size_t)vocab_size);
  for (int32_t i = 0; i < vocab_size; ++i) {
    const std::string field = "token[" + std::to_string(i) + "]";
    POCKET_RETURN_IF_ERROR(read(&v.scores[(size_t)i], 4, field + ".score"));
    if (!std::isfinite(v.scores[(size_t)i])) return bad(path, field + ".score", "not a finite number");
    int32_t len = 0;
    POCKET_RETURN_IF_ERROR(read(&len, 4, field + ".length"));
    if (len < 0 || len > max_len)
      return bad(path, field + ".length", std::to_string(len) + " outside 0..max_token_length " + std::to_string(max_len));
    v.pieces[(size_t)i].resize((size_t)len);
    POCKET_RETURN_IF_ERROR(read(v.pieces[(size_t)i].data(), (size_t)len, field + ".text"));
  }
  if (pos != size)
    return bad(path, "tokens",
               std::to_string(size - pos) + " trailing bytes: the tokenizer has more than " + std::to_string(vocab_size) +
                   " tokens (vocabulary mismatch with the model?)");
  return v;
}

}  // namespace pocket
