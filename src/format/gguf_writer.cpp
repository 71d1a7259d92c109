#include "format/gguf_writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/check.h"

namespace pocket {
namespace {

struct VectorSink {
  std::vector<uint8_t>* out;
  bool write(const void* p, size_t n) {
    if (n == 0) return true;
    const size_t at = out->size();
    out->resize(at + n);
    std::memcpy(out->data() + at, p, n);
    return true;
  }
  size_t pos() const { return out->size(); }
};

struct FileSink {
  FILE* f;
  size_t written = 0;
  bool ok = true;
  bool write(const void* p, size_t n) {
    if (ok && n > 0 && std::fwrite(p, 1, n, f) != n) ok = false;
    written += n;
    return ok;
  }
  size_t pos() const { return written; }
};

template <typename Sink, typename T>
void put(Sink& s, T v) {
  s.write(&v, sizeof(T));
}

template <typename Sink>
void put_string(Sink& s, const std::string& str) {
  put<Sink, uint64_t>(s, str.size());
  s.write(str.data(), str.size());
}

template <typename Sink>
void put_scalar(Sink& s, GgufType t, const GgufValue& v) {
  switch (t) {
    case GgufType::UINT8: put<Sink, uint8_t>(s, (uint8_t)v.u); break;
    case GgufType::INT8: put<Sink, int8_t>(s, (int8_t)v.i); break;
    case GgufType::UINT16: put<Sink, uint16_t>(s, (uint16_t)v.u); break;
    case GgufType::INT16: put<Sink, int16_t>(s, (int16_t)v.i); break;
    case GgufType::UINT32: put<Sink, uint32_t>(s, (uint32_t)v.u); break;
    case GgufType::INT32: put<Sink, int32_t>(s, (int32_t)v.i); break;
    case GgufType::UINT64: put<Sink, uint64_t>(s, v.u); break;
    case GgufType::INT64: put<Sink, int64_t>(s, v.i); break;
    case GgufType::FLOAT32: put<Sink, float>(s, (float)v.f); break;
    case GgufType::FLOAT64: put<Sink, double>(s, v.f); break;
    case GgufType::BOOL: put<Sink, uint8_t>(s, v.u ? 1 : 0); break;
    case GgufType::STRING: put_string(s, v.str); break;
    case GgufType::ARRAY: POCKET_CHECK(false); break;
  }
}

template <typename Sink>
void put_value(Sink& s, const GgufValue& v) {
  if (v.type != GgufType::ARRAY) {
    put_scalar(s, v.type, v);
    return;
  }
  put<Sink, uint32_t>(s, (uint32_t)v.elem_type);
  put<Sink, uint64_t>(s, v.array_size());
  GgufValue tmp;
  if (v.elem_type == GgufType::STRING) {
    for (const std::string& str : v.arr_str) put_string(s, str);
  } else if (v.elem_type == GgufType::ARRAY) {
    for (const GgufValue& sub : v.arr_nested) put_value(s, sub);
  } else if (gguf_type_is_float(v.elem_type)) {
    for (double x : v.arr_float) {
      tmp.f = x;
      put_scalar(s, v.elem_type, tmp);
    }
  } else {
    for (int64_t x : v.arr_int) {
      tmp.i = x;
      tmp.u = (uint64_t)x;
      put_scalar(s, v.elem_type, tmp);
    }
  }
}

template <typename Sink>
void pad_to(Sink& s, size_t alignment) {
  static const uint8_t zeros[64] = {};
  size_t pad = (alignment - s.pos() % alignment) % alignment;
  while (pad > 0) {
    const size_t n = pad < sizeof(zeros) ? pad : sizeof(zeros);
    s.write(zeros, n);
    pad -= n;
  }
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue v) {
  for (auto& kv : kv_) {
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  }
  kv_.emplace_back(key, std::move(v));
}

Status GgufWriter::add_tensor(const std::string& name, TensorType type, std::vector<int64_t> ne, std::vector<uint8_t> data) {
  const size_t n = data.size();
  POCKET_RETURN_IF_ERROR(add_tensor_view(name, type, std::move(ne), nullptr, n));
  tensors_.back().owned = std::move(data);
  tensors_.back().data = tensors_.back().owned.data();
  return Status::ok();
}

Status GgufWriter::add_tensor_view(const std::string& name, TensorType type, std::vector<int64_t> ne, const uint8_t* data, size_t nbytes) {
  if (ne.empty() || ne.size() > 4) return error(ErrorCode::kInvalidArgument, name + ": tensor must have 1..4 dimensions");
  const TypeTraits& t = traits(type);
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  if (ne[0] % t.block_size != 0) return error(ErrorCode::kInvalidArgument, name + ": first dimension not a multiple of the block size");
  if ((size_t)(n / t.block_size) * t.block_bytes != nbytes)
    return error(ErrorCode::kInvalidArgument, name + ": data size " + std::to_string(nbytes) + " does not match its shape and type");
  for (const Tensor& x : tensors_) {
    if (x.name == name) return error(ErrorCode::kInvalidArgument, name + ": duplicate tensor name");
  }
  tensors_.push_back(Tensor{name, type, std::move(ne), {}, data, nbytes, nullptr});
  return Status::ok();
}

Status GgufWriter::add_tensor_lazy(const std::string& name, TensorType type, std::vector<int64_t> ne, FillFn fill) {
  const TypeTraits& t = traits(type);
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  POCKET_RETURN_IF_ERROR(add_tensor_view(name, type, std::move(ne), nullptr, (size_t)(n / t.block_size) * t.block_bytes));
  tensors_.back().fill = std::move(fill);
  return Status::ok();
}

template <typename Sink>
Status GgufWriter::serialize(Sink& s) const {
  put<Sink, uint32_t>(s, 0x46554747);
  put<Sink, uint32_t>(s, 3);
  put<Sink, uint64_t>(s, tensors_.size());
  const bool has_alignment = [&] {
    for (auto& kv : kv_)
      if (kv.first == "general.alignment") return true;
    return false;
  }();
  put<Sink, uint64_t>(s, kv_.size() + ((alignment_ != 32 && !has_alignment) ? 1 : 0));
  for (const auto& kv : kv_) {
    put_string(s, kv.first);
    put<Sink, uint32_t>(s, (uint32_t)kv.second.type);
    put_value(s, kv.second);
  }
  if (alignment_ != 32 && !has_alignment) {
    put_string(s, std::string("general.alignment"));
    put<Sink, uint32_t>(s, (uint32_t)GgufType::UINT32);
    put<Sink, uint32_t>(s, (uint32_t)alignment_);
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    put_string(s, t.name);
    put<Sink, uint32_t>(s, (uint32_t)t.ne.size());
    for (int64_t d : t.ne) put<Sink, uint64_t>(s, (uint64_t)d);
    put<Sink, uint32_t>(s, (uint32_t)t.type);
    put<Sink, uint64_t>(s, offset);
    offset += (t.nbytes + alignment_ - 1) / alignment_ * alignment_;
  }
  pad_to(s, alignment_);
  std::vector<uint8_t> buf;
  for (const Tensor& t : tensors_) {
    if (t.fill) {
      buf.resize(t.nbytes);
      POCKET_RETURN_IF_ERROR(t.fill(buf.data()));
      s.write(buf.data(), t.nbytes);
    } else {
      s.write(t.data, t.nbytes);
    }
    pad_to(s, alignment_);
  }
  return Status::ok();
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<uint8_t> out;
  VectorSink sink{&out};
  const Status st = serialize(sink);
  POCKET_CHECK(st.is_ok());  // in-memory serialization of tensors that fill without failing (tests, fuzz seeds)
  return out;
}

Status GgufWriter::write(const std::string& path, bool overwrite) const {
  struct stat st {};
  if (!overwrite && ::stat(path.c_str(), &st) == 0)
    return Status(ErrorCode::kInvalidArgument, path + ": output exists (use force to overwrite)", "force");
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return error(ErrorCode::kIoError, tmp + ": cannot create: " + std::strerror(errno));
  FileSink sink{f};
  const Status filled = serialize(sink);
  if (!filled.is_ok()) {
    std::fclose(f);
    std::remove(tmp.c_str());
    return filled;
  }
  bool ok = sink.ok && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return error(ErrorCode::kIoError, tmp + ": write failed: " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    return error(ErrorCode::kIoError, path + ": cannot rename into place: " + std::strerror(e));
  }
  return Status::ok();
}

}  // namespace pocket
