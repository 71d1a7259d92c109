// Hugging Face tokenizer.json (+ tokenizer_config.json) -> the GGUF vocabulary `pocket convert` writes,
// and -> a Vocab to tokenize with directly (the same keys, read back), so `pocket tokenize` on a
// tokenizer.json and on the converted file agree by construction.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "convert/llama_metadata.h"
#include "pocket/status.h"
#include "tokenizer/vocab.h"

namespace pocket {

// dir holds tokenizer.json and optionally tokenizer_config.json; config is config.json's object (or null:
// no config.json) for vocab_size and the BOS/EOS ids. Every field that changes tokenization and is not
// understood (normalizer, pre-tokenizer, added-token flags, BPE options) is an error naming it.
Result<VocabData> read_hf_vocab(const std::string& dir, const nlohmann::json& config);

// path: a tokenizer.json file or a directory holding one (config.json beside it is read if present).
Result<Vocab> load_hf_vocab(const std::string& path);

}  // namespace pocket
