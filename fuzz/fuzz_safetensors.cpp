// safetensors reader (header JSON, dtypes, shapes, offsets) on arbitrary bytes.
#include "format/safetensors_reader.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pocket::fuzz::MemFile f(data, size);
  if (!f.ok()) return 0;
  (void)pocket::SafetensorsFile::open(f.path());
  return 0;
}
