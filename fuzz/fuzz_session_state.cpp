// Session state files (pocket_session_load): arbitrary bytes (first byte 0), or a valid state with the
// input XORed over it from a chosen offset (first byte 1: reaches the checks behind the checksum too,
// since the checksum is recomputed over the damaged bytes when the second byte is odd).
#include <cstring>

#include "api/session_state.h"

namespace {

std::vector<uint8_t> valid_state() {
  pocket::SessionState s;
  s.fingerprint = 0x1234;
  s.n_layer = 2;
  s.kv_dim = 8;
  s.window = 0;
  s.tokens = {1, 2, 3};
  s.logits.assign(5, 0.5f);
  s.kv.assign(2 * 3 * 8 * 4 * 2, 7);
  return pocket::serialize_state(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] == 0) {
    std::vector<uint8_t> bytes(data + 1, data + size);  // an exact-size heap copy: ASan sees any over-read
    (void)pocket::parse_state(bytes.data(), bytes.size(), "fuzz.state");
    return 0;
  }
  static const std::vector<uint8_t> base = valid_state();
  std::vector<uint8_t> bytes = base;
  const size_t at = size > 2 ? data[2] % bytes.size() : 0;
  for (size_t i = 3; i < size && at + i - 3 < bytes.size(); ++i) bytes[at + i - 3] ^= data[i];
  if (size > 1 && data[1] % 3 == 1) bytes.resize(bytes.size() - data[1] % bytes.size());  // and truncated
  if (size > 1 && data[1] % 2 == 1 && bytes.size() >= 8) {
    // Re-seal: the checksum matches the damaged body, so the field checks are what refuses it.
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i + 8 < bytes.size(); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
    std::memcpy(bytes.data() + bytes.size() - 8, &h, 8);
  }
  (void)pocket::parse_state(bytes.data(), bytes.size(), "fuzz.state");
  return 0;
}
