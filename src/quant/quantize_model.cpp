#include "quant/quantize_model.h"

#include <sstream>

#include "format/gguf_reader.h"
#include "format/gguf_writer.h"

namespace pocket {
namespace {

bool quantizable(TensorType t) {
  return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16 || t == TensorType::Q8_0 ||
         t == TensorType::Q4_0 || t == TensorType::Q4_1;
}

// llama.cpp's general.file_type for the main type.
uint32_t file_type_of(TensorType t) {
  switch (t) {
    case TensorType::F16: return 1;
    case TensorType::Q4_0: return 2;
    case TensorType::Q4_1: return 3;
    case TensorType::Q8_0: return 7;
    case TensorType::BF16: return 32;
    default: return 0;
  }
}

}  // namespace

Result<std::vector<std::pair<std::string, TensorType>>> parse_tensor_types(const std::string& spec) {
  std::vector<std::pair<std::string, TensorType>> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      return error(ErrorCode::kInvalidArgument, "--tensor-type: '" + item + "' is not NAME=TYPE");
    auto t = type_from_name(item.substr(eq + 1));
    if (!t || !quantizable(*t)) return error(ErrorCode::kInvalidArgument, "--tensor-type: unknown or unsupported type in '" + item + "'");
    out.emplace_back(item.substr(0, eq), *t);
  }
  return out;
}

Result<QuantizeReport> quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeOptions& opts) {
  if (!quantizable(opts.type)) return error(ErrorCode::kInvalidArgument, std::string("--type: cannot quantize to ") + traits(opts.type).name);
  POCKET_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> in, GgufFile::open(in_path));
  GgufWriter w(in->alignment());
  for (const auto& [k, v] : in->metadata()) {
    if (k != "general.alignment") w.set(k, v);
  }
  w.set("general.file_type", GgufValue::make_u32(file_type_of(opts.type)));
  w.set("general.quantization_version", GgufValue::make_u32(2));
  QuantizeReport rep;
  const size_t total = in->tensors().size();
  size_t index = 0;
  for (const TensorView& t : in->tensors()) {
    const TypeTraits& src = traits(t.type);
    rep.bytes_in += t.nbytes;
    rep.params += t.n_elements();
    TensorType target = opts.type;
    for (const auto& [pattern, type] : opts.overrides) {
      if (t.name.find(pattern) != std::string::npos) {
        target = type;
        break;
      }
    }
    // Vectors (norms, biases) stay F32; rows that do not fill whole blocks stay as they are.
    if (t.n_dims < 2) target = TensorType::F32;
    const TypeTraits& dst = traits(target);
    std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
    if (t.ne[0] % dst.block_size != 0 || src.to_float == nullptr) target = t.type;
    if (target == t.type) {
      POCKET_RETURN_IF_ERROR(w.add_tensor_view(t.name, t.type, ne, t.data, t.nbytes));
      rep.bytes_out += t.nbytes;
    } else {
      const TypeTraits& tt = traits(target);
      const int64_t cols = t.ne[0];
      const size_t out_bytes = (size_t)(t.n_elements() / tt.block_size) * tt.block_bytes;
      rep.bytes_out += out_bytes;
      const TensorView* view = &t;
      const size_t position = index;
      POCKET_RETURN_IF_ERROR(w.add_tensor_lazy(t.name, target, ne, [view, &src, &tt, cols, position, total, &opts](uint8_t* dst_bytes) {
        if (opts.progress) opts.progress(position + 1, total, view->name);  // reported as the file is written
        std::vector<float> row((size_t)cols);
        const size_t in_rb = row_bytes(src, cols), out_rb = row_bytes(tt, cols);
        for (int64_t r = 0; r < view->n_rows(); ++r) {
          src.to_float(view->data + (size_t)r * in_rb, row.data(), cols);
          tt.from_float(row.data(), dst_bytes + (size_t)r * out_rb, cols);
        }
      }));
    }
    ++index;
  }
  POCKET_RETURN_IF_ERROR(w.write(out_path, opts.force));
  return rep;
}

}  // namespace pocket
