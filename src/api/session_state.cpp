#include "api/session_state.h"

#include <cstring>

namespace pocket {

namespace {

constexpr char kMagic[8] = {'P', 'O', 'C', 'K', 'E', 'T', 'S', 'T'};
constexpr uint32_t kVersion = 1;

uint64_t fnv1a(const uint8_t* p, size_t n, uint64_t h = 1469598103934665603ull) {
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

struct Writer {
  std::vector<uint8_t> out;
  void bytes(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  }
  template <typename T>
  void pod(T v) {
    bytes(&v, sizeof v);
  }
};

struct Reader {
  const uint8_t* p;
  size_t left;
  const std::string& name;
  Status fail;
  bool bytes(void* dst, size_t n, const char* field) {
    if (!fail.is_ok()) return false;
    if (n > left) {
      fail = error(ErrorCode::kFormatError,
                   name + ": " + field + ": truncated (" + std::to_string(n) + " bytes needed, " + std::to_string(left) + " left)");
      return false;
    }
    if (n == 0) return true;  // an empty state: dst may be null (memcpy's arguments must not be)
    std::memcpy(dst, p, n);
    p += n;
    left -= n;
    return true;
  }
  template <typename T>
  bool pod(T* v, const char* field) {
    return bytes(v, sizeof *v, field);
  }
};

}  // namespace

uint64_t model_fingerprint(const Model& model) {
  const GgufFile& f = model.file();
  const uint64_t size = f.file_size();
  uint64_t h = fnv1a(f.bytes(), f.data_offset());
  return fnv1a(reinterpret_cast<const uint8_t*>(&size), sizeof size, h);
}

std::vector<uint8_t> serialize_state(const SessionState& s) {
  Writer w;
  w.bytes(kMagic, sizeof kMagic);
  w.pod(kVersion);
  w.pod(s.fingerprint);
  w.pod(s.n_layer);
  w.pod(s.kv_dim);
  w.pod(s.k_type);
  w.pod(s.v_type);
  w.pod(uint16_t{0});
  w.pod(s.window);
  w.pod(s.sinks);
  w.pod((uint32_t)s.tokens.size());
  w.pod((uint32_t)s.logits.size());
  w.bytes(s.tokens.data(), s.tokens.size() * sizeof(int32_t));
  w.bytes(s.logits.data(), s.logits.size() * sizeof(float));
  w.pod((uint64_t)s.kv.size());
  w.bytes(s.kv.data(), s.kv.size());
  w.pod(fnv1a(w.out.data(), w.out.size()));
  return std::move(w.out);
}

Result<SessionState> parse_state(const uint8_t* data, size_t size, const std::string& name) {
  if (size < sizeof kMagic + sizeof(uint64_t) || std::memcmp(data, kMagic, sizeof kMagic) != 0)
    return error(ErrorCode::kFormatError, name + ": not a pocket session state (magic \"POCKETST\" missing)");
  uint64_t stored = 0;
  std::memcpy(&stored, data + size - sizeof stored, sizeof stored);
  Reader r{data + sizeof kMagic, size - sizeof kMagic - sizeof stored, name, Status::ok()};
  SessionState s;
  uint32_t version = 0, n_tokens = 0, n_logits = 0;
  uint16_t pad = 0;
  uint64_t kv_bytes = 0;
  r.pod(&version, "version");
  if (r.fail.is_ok() && version != kVersion)
    return error(ErrorCode::kUnsupported,
                 name + ": version: " + std::to_string(version) + " (this library reads version " + std::to_string(kVersion) + ")");
  r.pod(&s.fingerprint, "model fingerprint");
  r.pod(&s.n_layer, "n_layer");
  r.pod(&s.kv_dim, "kv_dim");
  r.pod(&s.k_type, "k_type");
  r.pod(&s.v_type, "v_type");
  r.pod(&pad, "padding");
  r.pod(&s.window, "window");
  r.pod(&s.sinks, "sinks");
  r.pod(&n_tokens, "n_tokens");
  r.pod(&n_logits, "n_logits");
  if (!r.fail.is_ok()) return r.fail;
  // Sizes are checked against what is left before anything is allocated (a hostile count costs nothing).
  if ((uint64_t)n_tokens * 4 + (uint64_t)n_logits * 4 > r.left)
    return error(ErrorCode::kFormatError, name + ": n_tokens/n_logits: " + std::to_string(n_tokens) + " tokens and " + std::to_string(n_logits) +
                                              " logits do not fit in the " + std::to_string(r.left) + " bytes left");
  s.tokens.resize(n_tokens);
  s.logits.resize(n_logits);
  r.bytes(s.tokens.data(), (size_t)n_tokens * 4, "tokens");
  r.bytes(s.logits.data(), (size_t)n_logits * 4, "logits");
  r.pod(&kv_bytes, "kv bytes");
  if (!r.fail.is_ok()) return r.fail;
  if (kv_bytes != r.left)
    return error(ErrorCode::kFormatError,
                 name + ": kv bytes: " + std::to_string(kv_bytes) + " but " + std::to_string(r.left) + " bytes left before the checksum");
  s.kv.resize((size_t)kv_bytes);
  r.bytes(s.kv.data(), (size_t)kv_bytes, "kv rows");
  if (!r.fail.is_ok()) return r.fail;
  if (fnv1a(data, size - sizeof stored) != stored) return error(ErrorCode::kFormatError, name + ": checksum mismatch (the file is corrupt)");
  return s;
}

}  // namespace pocket
