#include "format/gguf_reader.h"

#include <cstring>
#include <limits>
#include <sstream>

namespace pocket {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kMaxStringBytes = uint64_t(1) << 30;
constexpr int kMaxArrayNesting = 4;

// Bounds-checked little-endian cursor over the file bytes.
class Cursor {
 public:
  Cursor(const uint8_t* p, size_t n, const std::string& file) : p_(p), n_(n), file_(file) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return n_ - pos_; }

  Status header_error(const std::string& field, const std::string& reason) const {
    return error(ErrorCode::kFormatError, file_ + ": " + field + ": " + reason + " (at byte " + std::to_string(pos_) + ")");
  }

  template <typename T>
  Status read(T* out, const std::string& field) {
    if (remaining() < sizeof(T))
      return header_error(field, "file truncated: need " + std::to_string(sizeof(T)) + " bytes, " + std::to_string(remaining()) + " left");
    std::memcpy(out, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::ok();
  }

  Status read_string(std::string* out, const std::string& field) {
    uint64_t len = 0;
    POCKET_RETURN_IF_ERROR(read(&len, field + " (string length)"));
    if (len > kMaxStringBytes) return header_error(field, "absurd string length " + std::to_string(len));
    if (len > remaining())
      return header_error(field, "file truncated: string of " + std::to_string(len) + " bytes, " + std::to_string(remaining()) + " left");
    out->assign(reinterpret_cast<const char*>(p_ + pos_), (size_t)len);
    pos_ += (size_t)len;
    return Status::ok();
  }

  // Rejects counts that could not possibly fit in the rest of the file.
  Status check_count(uint64_t count, uint64_t min_bytes_each, const std::string& field) const {
    if (min_bytes_each > 0 && count > remaining() / min_bytes_each)
      return header_error(field, "absurd count " + std::to_string(count) + " (file has " + std::to_string(remaining()) + " bytes left)");
    return Status::ok();
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  const std::string& file_;
};

uint64_t min_value_bytes(GgufType t) {
  switch (t) {
    case GgufType::UINT8:
    case GgufType::INT8:
    case GgufType::BOOL: return 1;
    case GgufType::UINT16:
    case GgufType::INT16: return 2;
    case GgufType::UINT32:
    case GgufType::INT32:
    case GgufType::FLOAT32: return 4;
    case GgufType::UINT64:
    case GgufType::INT64:
    case GgufType::FLOAT64: return 8;
    case GgufType::STRING: return 8;
    case GgufType::ARRAY: return 12;
  }
  return 1;
}

template <typename T>
Status read_int_scalar(Cursor& c, const std::string& field, GgufValue* v) {
  T x{};
  POCKET_RETURN_IF_ERROR(c.read(&x, field));
  if constexpr (std::is_signed_v<T>) {
    v->i = (int64_t)x;
    v->u = (uint64_t)x;
  } else {
    v->u = (uint64_t)x;
    v->i = (int64_t)x;
  }
  return Status::ok();
}

Status read_value(Cursor& c, GgufType type, const std::string& field, GgufValue* v, int depth);

Status read_array(Cursor& c, const std::string& field, GgufValue* v, int depth) {
  if (depth > kMaxArrayNesting) return c.header_error(field, "arrays nested too deeply");
  uint32_t et = 0;
  POCKET_RETURN_IF_ERROR(c.read(&et, field + " (array element type)"));
  if (et >= kGgufTypeCount) return c.header_error(field, "unknown array element type " + std::to_string(et));
  v->elem_type = (GgufType)et;
  uint64_t n = 0;
  POCKET_RETURN_IF_ERROR(c.read(&n, field + " (array length)"));
  POCKET_RETURN_IF_ERROR(c.check_count(n, min_value_bytes(v->elem_type), field + " (array length)"));
  GgufValue tmp;
  if (v->elem_type == GgufType::STRING) {
    v->arr_str.resize((size_t)n);
    for (uint64_t k = 0; k < n; ++k) POCKET_RETURN_IF_ERROR(c.read_string(&v->arr_str[k], field + "[" + std::to_string(k) + "]"));
  } else if (v->elem_type == GgufType::ARRAY) {
    v->arr_nested.resize((size_t)n);
    for (uint64_t k = 0; k < n; ++k) {
      v->arr_nested[k].type = GgufType::ARRAY;
      POCKET_RETURN_IF_ERROR(read_array(c, field + "[" + std::to_string(k) + "]", &v->arr_nested[k], depth + 1));
    }
  } else if (gguf_type_is_float(v->elem_type)) {
    v->arr_float.resize((size_t)n);
    for (uint64_t k = 0; k < n; ++k) {
      POCKET_RETURN_IF_ERROR(read_value(c, v->elem_type, field, &tmp, depth + 1));
      v->arr_float[k] = tmp.f;
    }
  } else {
    v->arr_int.resize((size_t)n);
    for (uint64_t k = 0; k < n; ++k) {
      POCKET_RETURN_IF_ERROR(read_value(c, v->elem_type, field, &tmp, depth + 1));
      if (v->elem_type == GgufType::UINT64 && tmp.u > (uint64_t)std::numeric_limits<int64_t>::max())
        return c.header_error(field, "uint64 array element too large");
      v->arr_int[k] = tmp.i;
    }
  }
  return Status::ok();
}

Status read_value(Cursor& c, GgufType type, const std::string& field, GgufValue* v, int depth) {
  v->type = type;
  switch (type) {
    case GgufType::UINT8: return read_int_scalar<uint8_t>(c, field, v);
    case GgufType::INT8: return read_int_scalar<int8_t>(c, field, v);
    case GgufType::UINT16: return read_int_scalar<uint16_t>(c, field, v);
    case GgufType::INT16: return read_int_scalar<int16_t>(c, field, v);
    case GgufType::UINT32: return read_int_scalar<uint32_t>(c, field, v);
    case GgufType::INT32: return read_int_scalar<int32_t>(c, field, v);
    case GgufType::UINT64: return read_int_scalar<uint64_t>(c, field, v);
    case GgufType::INT64: return read_int_scalar<int64_t>(c, field, v);
    case GgufType::FLOAT32: {
      float x = 0;
      POCKET_RETURN_IF_ERROR(c.read(&x, field));
      v->f = x;
      return Status::ok();
    }
    case GgufType::FLOAT64: return c.read(&v->f, field);
    case GgufType::BOOL: {
      uint8_t b = 0;
      POCKET_RETURN_IF_ERROR(c.read(&b, field));
      if (b > 1) return c.header_error(field, "bool value " + std::to_string(b) + " is neither 0 nor 1");
      v->u = b;
      v->i = b;
      return Status::ok();
    }
    case GgufType::STRING: return c.read_string(&v->str, field);
    case GgufType::ARRAY: return read_array(c, field, v, depth);
  }
  return c.header_error(field, "unknown value type");
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }

}  // namespace

std::string TensorView::shape_string() const {
  std::ostringstream os;
  os << "[";
  for (int d = 0; d < n_dims; ++d) os << (d ? ", " : "") << ne[d];
  os << "]";
  return os.str();
}

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> map, MappedFile::open(path));
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->bytes_ = map->data();
  f->size_ = map->size();
  f->name_ = path;
  f->map_ = std::move(map);
  POCKET_RETURN_IF_ERROR(f->parse_all());
  return f;
}

Result<std::unique_ptr<GgufFile>> GgufFile::parse(const uint8_t* data, size_t size, const std::string& name) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->bytes_ = data;
  f->size_ = size;
  f->name_ = name;
  POCKET_RETURN_IF_ERROR(f->parse_all());
  return f;
}

Status GgufFile::parse_all() {
  Cursor c(bytes_, size_, name_);
  uint32_t magic = 0;
  POCKET_RETURN_IF_ERROR(c.read(&magic, "header.magic"));
  if (magic != kGgufMagic) return c.header_error("header.magic", "bad magic (not a GGUF file)");
  POCKET_RETURN_IF_ERROR(c.read(&version_, "header.version"));
  if (version_ == 1) return c.header_error("header.version", "GGUF version 1 is not supported (convert it to v3)");
  if (version_ != 2 && version_ != 3) {
    if ((version_ & 0xffff) == 0 && version_ != 0) return c.header_error("header.version", "big-endian GGUF is not supported");
    return c.header_error("header.version", "unsupported version " + std::to_string(version_));
  }
  uint64_t n_tensors = 0, n_kv = 0;
  POCKET_RETURN_IF_ERROR(c.read(&n_tensors, "header.n_tensors"));
  POCKET_RETURN_IF_ERROR(c.read(&n_kv, "header.n_kv"));
  // Each key-value pair takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least 8+4+8+4+8.
  POCKET_RETURN_IF_ERROR(c.check_count(n_kv, 13, "header.n_kv"));
  POCKET_RETURN_IF_ERROR(c.check_count(n_tensors, 32, "header.n_tensors"));

  kv_.reserve((size_t)n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    const std::string where = "metadata[" + std::to_string(k) + "]";
    std::string key;
    POCKET_RETURN_IF_ERROR(c.read_string(&key, where + ".key"));
    if (key.empty()) return c.header_error(where + ".key", "empty key");
    if (kv_index_.count(key)) return c.header_error(key, "duplicate metadata key");
    uint32_t t = 0;
    POCKET_RETURN_IF_ERROR(c.read(&t, key + " (value type)"));
    if (t >= kGgufTypeCount) return c.header_error(key, "unknown value type " + std::to_string(t));
    GgufValue v;
    POCKET_RETURN_IF_ERROR(read_value(c, (GgufType)t, key, &v, 0));
    kv_index_[key] = kv_.size();
    kv_.emplace_back(std::move(key), std::move(v));
  }

  if (const GgufValue* a = find("general.alignment")) {
    if (!gguf_type_is_integer(a->type)) return c.header_error("general.alignment", "must be an integer");
    if (a->u == 0 || (a->u & (a->u - 1)) != 0 || a->u > 65536)
      return c.header_error("general.alignment", "must be a power of two <= 65536, got " + std::to_string(a->i));
    alignment_ = (size_t)a->u;
  }

  tensors_.reserve((size_t)n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorView tv;
    std::string where = "tensor[" + std::to_string(k) + "]";
    POCKET_RETURN_IF_ERROR(c.read_string(&tv.name, where + ".name"));
    if (tv.name.empty()) return c.header_error(where + ".name", "empty tensor name");
    where = "tensor '" + tv.name + "'";
    if (tensor_index_.count(tv.name)) return c.header_error(where, "duplicate tensor name");
    uint32_t n_dims = 0;
    POCKET_RETURN_IF_ERROR(c.read(&n_dims, where + ".n_dims"));
    if (n_dims == 0 || n_dims > (uint32_t)kMaxDims) return c.header_error(where + ".n_dims", "must be 1..4, got " + std::to_string(n_dims));
    tv.n_dims = (int)n_dims;
    uint64_t n_el = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = 0;
      POCKET_RETURN_IF_ERROR(c.read(&ne, where + ".shape[" + std::to_string(d) + "]"));
      if (ne > (uint64_t)std::numeric_limits<int64_t>::max() || mul_overflows(n_el, ne, &n_el) || n_el > (uint64_t(1) << 50))
        return c.header_error(where + ".shape", "absurd dimension " + std::to_string(ne));
      tv.ne[d] = (int64_t)ne;
    }
    uint32_t raw_type = 0;
    POCKET_RETURN_IF_ERROR(c.read(&raw_type, where + ".type"));
    const TypeTraits* tt = type_traits(raw_type);
    if (tt == nullptr) return c.header_error(where + ".type", "unknown tensor type " + std::to_string(raw_type));
    tv.type = tt->type;
    if (tv.ne[0] % tt->block_size != 0)
      return c.header_error(where + ".shape[0]",
                            std::to_string(tv.ne[0]) + " is not a multiple of the " + tt->name + " block size " + std::to_string(tt->block_size));
    uint64_t nbytes = 0;
    if (mul_overflows(n_el / (uint64_t)tt->block_size, (uint64_t)tt->block_bytes, &nbytes))
      return c.header_error(where + ".shape", "tensor size overflows");
    tv.nbytes = (size_t)nbytes;
    POCKET_RETURN_IF_ERROR(c.read(&tv.offset, where + ".offset"));
    if (tv.offset % alignment_ != 0)
      return c.header_error(where + ".offset", std::to_string(tv.offset) + " is not a multiple of the alignment " + std::to_string(alignment_));
    tensor_index_[tv.name] = tensors_.size();
    tensors_.push_back(std::move(tv));
  }

  // Data section starts at the next multiple of the alignment.
  const size_t pos = c.pos();
  data_offset_ = (pos + alignment_ - 1) / alignment_ * alignment_;
  if (n_tensors > 0 && data_offset_ > size_) return c.header_error("data section", "file truncated before the tensor data");
  const size_t data_size = size_ >= data_offset_ ? size_ - data_offset_ : 0;
  for (TensorView& tv : tensors_) {
    uint64_t end = 0;
    if (__builtin_add_overflow(tv.offset, (uint64_t)tv.nbytes, &end) || end > data_size)
      return c.header_error("tensor '" + tv.name + "'", "data [" + std::to_string(tv.offset) + ", +" + std::to_string(tv.nbytes) +
                                                            ") extends past the end of the file (data section is " + std::to_string(data_size) +
                                                            " bytes)");
    tv.data = bytes_ + data_offset_ + tv.offset;
  }
  return Status::ok();
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const TensorView* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<uint64_t> GgufFile::get_uint(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return error(ErrorCode::kFormatError, name_ + ": " + key + ": required key is missing");
  if (!gguf_type_is_integer(v->type))
    return error(ErrorCode::kFormatError, name_ + ": " + key + ": expected an integer, found " + gguf_type_name(v->type));
  if (v->i < 0 && v->type != GgufType::UINT64) return error(ErrorCode::kFormatError, name_ + ": " + key + ": negative value " + std::to_string(v->i));
  return v->u;
}

Result<double> GgufFile::get_float(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return error(ErrorCode::kFormatError, name_ + ": " + key + ": required key is missing");
  if (gguf_type_is_float(v->type)) return v->f;
  if (gguf_type_is_integer(v->type)) return (double)v->i;
  return error(ErrorCode::kFormatError, name_ + ": " + key + ": expected a number, found " + gguf_type_name(v->type));
}

Result<std::string> GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return error(ErrorCode::kFormatError, name_ + ": " + key + ": required key is missing");
  if (v->type != GgufType::STRING)
    return error(ErrorCode::kFormatError, name_ + ": " + key + ": expected a string, found " + gguf_type_name(v->type));
  return v->str;
}

Result<bool> GgufFile::get_bool(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return error(ErrorCode::kFormatError, name_ + ": " + key + ": required key is missing");
  if (v->type != GgufType::BOOL) return error(ErrorCode::kFormatError, name_ + ": " + key + ": expected a bool, found " + gguf_type_name(v->type));
  return v->u != 0;
}

Result<const GgufValue*> GgufFile::get_array(const std::string& key, GgufType elem) const {
  const GgufValue* v = find(key);
  if (!v) return error(ErrorCode::kFormatError, name_ + ": " + key + ": required key is missing");
  if (v->type != GgufType::ARRAY) return error(ErrorCode::kFormatError, name_ + ": " + key + ": expected an array, found " + gguf_type_name(v->type));
  const bool ok = (elem == GgufType::STRING && v->elem_type == GgufType::STRING) || (gguf_type_is_float(elem) && gguf_type_is_float(v->elem_type)) ||
                  (gguf_type_is_integer(elem) && (gguf_type_is_integer(v->elem_type) || v->elem_type == GgufType::BOOL));
  if (!ok)
    return error(ErrorCode::kFormatError,
                 name_ + ": " + key + ": expected an array of " + gguf_type_name(elem) + ", found array of " + gguf_type_name(v->elem_type));
  return v;
}

uint64_t GgufFile::get_uint_or(const std::string& key, uint64_t def) const {
  const GgufValue* v = find(key);
  return v && gguf_type_is_integer(v->type) && v->i >= 0 ? v->u : def;
}
double GgufFile::get_float_or(const std::string& key, double def) const {
  const GgufValue* v = find(key);
  if (!v) return def;
  if (gguf_type_is_float(v->type)) return v->f;
  if (gguf_type_is_integer(v->type)) return (double)v->i;
  return def;
}
bool GgufFile::get_bool_or(const std::string& key, bool def) const {
  const GgufValue* v = find(key);
  return v && v->type == GgufType::BOOL ? v->u != 0 : def;
}
std::string GgufFile::get_string_or(const std::string& key, const std::string& def) const {
  const GgufValue* v = find(key);
  return v && v->type == GgufType::STRING ? v->str : def;
}

}  // namespace pocket
