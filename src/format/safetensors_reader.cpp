#include "format/safetensors_reader.h"

#include <cstring>
#include <nlohmann/json.hpp>

namespace pocket {

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::open(const std::string& path) {
  auto bad = [&](const std::string& field, const std::string& why) { return error(ErrorCode::kFormatError, path + ": " + field + ": " + why); };
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = path;
  POCKET_ASSIGN_OR_RETURN(f->file_, MappedFile::open(path));
  const uint8_t* p = f->file_->data();
  const size_t size = f->file_->size();
  if (size < 8) return bad("header length", "file truncated (fewer than 8 bytes)");
  uint64_t hlen = 0;
  std::memcpy(&hlen, p, 8);
  if (hlen > 100u * 1024 * 1024 || hlen > size - 8) return bad("header length", "value " + std::to_string(hlen) + " exceeds the file or 100 MiB");
  nlohmann::json header = nlohmann::json::parse(p + 8, p + 8 + hlen, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) return bad("header", "not a JSON object");
  const uint8_t* data = p + 8 + hlen;
  const size_t data_size = size - 8 - (size_t)hlen;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::string field = "tensor '" + it.key() + "'";
    const nlohmann::json& t = it.value();
    if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets"))
      return bad(field, "needs dtype, shape and data_offsets");
    if (!t["dtype"].is_string()) return bad(field + ".dtype", "not a string");
    const std::string dtype = t["dtype"].get<std::string>();
    SafeTensor st;
    st.name = it.key();
    size_t esize = 0;
    if (dtype == "F32") {
      st.type = TensorType::F32;
      esize = 4;
    } else if (dtype == "F16") {
      st.type = TensorType::F16;
      esize = 2;
    } else if (dtype == "BF16") {
      st.type = TensorType::BF16;
      esize = 2;
    } else
      return bad(field + ".dtype", "unsupported dtype '" + dtype + "' (F32, F16, BF16)");
    if (!t["shape"].is_array() || t["shape"].size() > 4) return bad(field + ".shape", "must be an array of at most 4 dimensions");
    uint64_t n = 1;
    for (const auto& d : t["shape"]) {
      if (!d.is_number_unsigned()) return bad(field + ".shape", "dimensions must be non-negative integers");
      const uint64_t v = d.get<uint64_t>();
      if (v > (uint64_t(1) << 40) || __builtin_mul_overflow(n, v, &n)) return bad(field + ".shape", "absurd dimension");
      st.shape.push_back((int64_t)v);
    }
    const auto& off = t["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return bad(field + ".data_offsets", "must be two non-negative integers");
    const uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e || e > data_size)
      return bad(field + ".data_offsets",
                 "[" + std::to_string(b) + ", " + std::to_string(e) + ") outside the data section of " + std::to_string(data_size) + " bytes");
    if (e - b != n * esize)
      return bad(field + ".data_offsets",
                 "span of " + std::to_string(e - b) + " bytes does not match shape and dtype (" + std::to_string(n * esize) + ")");
    if ((8 + hlen + b) % esize != 0) return bad(field + ".data_offsets", "misaligned for its dtype");
    st.data = data + b;
    st.nbytes = (size_t)(e - b);
    f->tensors_.emplace(st.name, std::move(st));
  }
  return f;
}

const SafeTensor* SafetensorsFile::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace pocket
