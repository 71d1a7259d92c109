// The architectures pocket runs and how each one sets the block's variations (ModelConfig) from its
// own keys, after the keys every family shares (model_config.cpp). One file per family:
// family_llama.cpp (llama, mistral), family_qwen.cpp (qwen2, qwen3), family_gemma.cpp (gemma2,
// gemma3), family_phi3.cpp (phi3).
#pragma once

#include <string>

#include "format/gguf_reader.h"
#include "model/model_config.h"
#include "pocket/status.h"

namespace pocket {

struct Family {
  const char* arch;  // general.architecture
  RopeLayout rope;
  Status (*read)(const GgufFile& f, ModelConfig* c);  // the family's keys; c holds the shared ones
};

// nullptr for an architecture pocket does not run.
const Family* find_family(const std::string& arch);
std::string family_names();  // "llama, mistral, ...", for errors

Status read_llama_family(const GgufFile& f, ModelConfig* c);
Status read_smollm3_family(const GgufFile& f, ModelConfig* c);
Status read_qwen2_family(const GgufFile& f, ModelConfig* c);
Status read_qwen3_family(const GgufFile& f, ModelConfig* c);
Status read_gemma2_family(const GgufFile& f, ModelConfig* c);
Status read_gemma3_family(const GgufFile& f, ModelConfig* c);
Status read_phi3_family(const GgufFile& f, ModelConfig* c);

// Shared by the family readers: an error naming the file and key; the `<arch>.` key prefix.
Status bad_key(const GgufFile& f, const std::string& key, const std::string& why);
inline std::string arch_key(const ModelConfig& c, const char* key) { return c.arch + "." + key; }
// An optional key: its value, def when absent, an error when present with the wrong type.
Result<double> optional_float(const GgufFile& f, const std::string& key, double def);
Result<uint64_t> optional_uint(const GgufFile& f, const std::string& key, uint64_t def);
// rope.scaling.type / .factor for every layer using rope set `set`: none or linear; yarn and the
// rest are refused by name (longrope is Phi-3's, read there).
Status read_linear_rope_scaling(const GgufFile& f, ModelConfig* c, int set);

}  // namespace pocket
