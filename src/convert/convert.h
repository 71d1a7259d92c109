// Converters to GGUF (llama.cpp-compatible names and keys).
#pragma once

#include <string>

#include "convert/llama_metadata.h"
#include "pocket/status.h"

namespace pocket {

// llama2.c checkpoint (legacy or v1) + llama2.c tokenizer.bin -> GGUF.
Status convert_llama2c(const std::string& checkpoint, const std::string& tokenizer_bin, const std::string& out_path, const ConvertOptions& opts);

// Hugging Face Llama-style directory (config.json, model.safetensors, tokenizer.json) -> GGUF.
Status convert_hf(const std::string& dir, const std::string& out_path, const ConvertOptions& opts);

}  // namespace pocket
