#include "quantize/weight_edits.h"

namespace pocket {

Result<std::vector<float>*> WeightEdits::get(const GgufFile& file, const std::string& name) {
  auto it = floats.find(name);
  if (it != floats.end()) return &it->second;
  const TensorView* t = file.find_tensor(name);
  if (t == nullptr) return error(ErrorCode::kFormatError, file.name() + ": tensor '" + name + "' not found");
  const TypeTraits& tt = traits(t->type);
  if (tt.to_float == nullptr)
    return error(ErrorCode::kUnsupported, file.name() + ": tensor '" + name + "' has type " + tt.name + ", which we cannot convert to float");
  std::vector<float>& v = floats[name];
  v.resize((size_t)t->n_elements());
  tt.to_float(t->data, v.data(), t->n_elements());
  return &v;
}

}  // namespace pocket
