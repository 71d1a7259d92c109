// The session state file: a session's history, the logits after it and its KV rows, bound to the model
// file and the cache configuration it was made with.
//
// Layout (little-endian): "POCKETST" | u32 version (1) | u64 model fingerprint | u32 n_layer | u32 kv_dim
// | u8 k_type | u8 v_type | u16 0 | i32 window | i32 sinks | u32 n_tokens | u32 n_logits | tokens (i32 each)
// | logits (f32 each) | u64 kv bytes | KV rows (ContiguousKvCache::save_rows) | u64 FNV-1a of all before.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model_weights.h"
#include "pocket/status.h"

namespace pocket {

struct SessionState {
  uint64_t fingerprint = 0;
  uint32_t n_layer = 0, kv_dim = 0;
  uint8_t k_type = 0, v_type = 0;
  int32_t window = 0, sinks = 0;
  std::vector<int32_t> tokens;
  std::vector<float> logits;
  std::vector<uint8_t> kv;
};

// FNV-1a over the GGUF header and tensor table (everything before the tensor data) and the file size:
// a state made for another file, or the same file re-quantized, is refused.
uint64_t model_fingerprint(const Model& model);

std::vector<uint8_t> serialize_state(const SessionState& s);
// Errors name the file (name), the field and the reason: truncated, bad magic, version, checksum.
Result<SessionState> parse_state(const uint8_t* data, size_t size, const std::string& name);

}  // namespace pocket
