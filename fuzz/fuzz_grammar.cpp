// Grammars from requests and files: the first byte picks GBNF text (0) or a JSON Schema (1); the rest
// is compiled against a small vocabulary and walked for a few tokens chosen by the input's bytes.
#include "sampling/grammar.h"
#include "sampling/json_schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const auto vocab = [] {
    std::vector<std::string> t;
    for (int c = 1; c < 128; ++c) t.push_back(std::string(1, (char)c));
    for (const char* p : {"\xC3", "\xA9", "\xE2\x82\xAC", "true", "null", "\"a\"", "{\"", "</s>"}) t.push_back(p);
    return pocket::GrammarVocab::build(t, std::vector<bool>(t.size(), false), {(int32_t)t.size() - 1});
  }();
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string gbnf = text;
  if (data[0] & 1) {
    const auto schema = nlohmann::ordered_json::parse(text, nullptr, false);
    if (schema.is_discarded()) return 0;
    auto g = pocket::json_schema_to_gbnf(schema);
    if (!g) return 0;
    gbnf = g.value();
  }
  auto g = pocket::Grammar::compile(gbnf, vocab);
  if (!g) return 0;
  int32_t s = g.value()->initial_state();
  for (size_t i = 0; i < std::min<size_t>(size, 64) && s != pocket::Grammar::kDead; ++i) {
    const auto mask = g.value()->mask(s);
    const int32_t t = (int32_t)(data[i] % vocab->bytes.size());
    if ((*mask)[(size_t)t]) s = g.value()->advance(s, t);
  }
  return 0;
}
