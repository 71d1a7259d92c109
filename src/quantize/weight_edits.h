// Float weights changed before encoding (AWQ scaling folded into norms and linears, pruning masks)
// and per-group clipping ratios, keyed by GGUF tensor name. The quantizer encodes an edited tensor
// from these floats instead of the file's data.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "format/gguf_reader.h"
#include "pocket/status.h"

namespace pocket {

struct WeightEdits {
  std::map<std::string, std::vector<float>> floats;      // name -> all elements, row-major
  std::map<std::string, std::vector<float>> clips;       // name -> [rows, groups] clipping ratio per group
  std::map<std::string, std::vector<float>> col_scales;  // name -> [cols] factor its input channels were multiplied by (AWQ)

  // The tensor's current float values: the edited ones, or the file's converted to float.
  Result<std::vector<float>*> get(const GgufFile& file, const std::string& name);
  bool has(const std::string& name) const { return floats.count(name) != 0; }
};

}  // namespace pocket
