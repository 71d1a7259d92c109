#include "model/families/families.h"

namespace pocket {
namespace {

constexpr Family kFamilies[] = {
    {"llama", RopeLayout::kNormal, read_llama_family}, {"mistral", RopeLayout::kNormal, read_llama_family},
    {"qwen2", RopeLayout::kNeox, read_qwen2_family},   {"qwen3", RopeLayout::kNeox, read_qwen3_family},
    {"gemma2", RopeLayout::kNeox, read_gemma2_family}, {"gemma3", RopeLayout::kNeox, read_gemma3_family},
    {"phi3", RopeLayout::kNeox, read_phi3_family},     {"smollm3", RopeLayout::kNormal, read_smollm3_family},
};

}  // namespace

const Family* find_family(const std::string& arch) {
  for (const Family& fam : kFamilies)
    if (arch == fam.arch) return &fam;
  return nullptr;
}

std::string family_names() {
  std::string s;
  for (const Family& fam : kFamilies) s += (s.empty() ? "" : ", ") + std::string(fam.arch);
  return s;
}

Status bad_key(const GgufFile& f, const std::string& key, const std::string& why) {
  return error(ErrorCode::kFormatError, f.name() + ": " + key + ": " + why);
}

Result<double> optional_float(const GgufFile& f, const std::string& key, double def) {
  if (f.find(key) == nullptr) return def;
  return f.get_float(key);
}

Result<uint64_t> optional_uint(const GgufFile& f, const std::string& key, uint64_t def) {
  if (f.find(key) == nullptr) return def;
  return f.get_uint(key);
}

Status read_linear_rope_scaling(const GgufFile& f, ModelConfig* c, int set) {
  const std::string tk = arch_key(*c, "rope.scaling.type");
  std::string t = "none";
  if (f.find(tk)) { POCKET_ASSIGN_OR_RETURN(t, f.get_string(tk)); }
  if (t == "none") return Status::ok();
  if (t != "linear") return error(ErrorCode::kUnsupported, f.name() + ": " + tk + ": '" + t + "' is not supported (supported: none, linear)");
  const std::string fk = arch_key(*c, "rope.scaling.factor");
  POCKET_ASSIGN_OR_RETURN(const double factor, optional_float(f, fk, 0.0));
  if (!(factor >= 1.0 && factor <= 1024.0)) return bad_key(f, fk, "linear scaling needs a factor in [1, 1024]");
  c->rope_sets[set].freq_scale = (float)(1.0 / factor);
  return Status::ok();
}

}  // namespace pocket
