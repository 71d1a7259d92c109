// Tokenizer test vectors from llama.cpp's suite (../shared/vocab): token ids must match exactly.
#include <gtest/gtest.h>

#include <sstream>

#include "format/gguf_reader.h"
#include "test_support.h"
#include "tokenizer/tokenizer.h"

namespace pocket {
namespace {

struct Case {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<Case> load_cases(const std::string& name) {
  const std::string inp = test::read_file(test::shared("vocab/ggml-vocab-" + name + ".gguf.inp"));
  const std::string out = test::read_file(test::shared("vocab/ggml-vocab-" + name + ".gguf.out"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0;;) {
    const size_t at = inp.find(sep, pos);
    if (at == std::string::npos) break;
    texts.push_back(inp.substr(pos, at - pos));
    pos = at + sep.size();
  }
  std::vector<Case> cases;
  std::istringstream lines(out);
  std::string line;
  for (const std::string& t : texts) {
    std::getline(lines, line);
    Case c{t, {}};
    std::istringstream ids(line);
    int32_t id;
    while (ids >> id) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  return cases;
}

class VocabVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabVectors, IdsMatchReference) {
  const std::string name = GetParam();
  auto f = GgufFile::open(test::shared("vocab/ggml-vocab-" + name + ".gguf"));
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  auto v = read_vocab(*f.value());
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  auto tok = Tokenizer::create(std::move(v.value()));
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  const auto cases = load_cases(name);
  ASSERT_GE(cases.size(), 40u);
  int failures = 0;
  for (const Case& c : cases) {
    const std::vector<int32_t> got = tok.value()->encode(c.text, false, false);
    if (got != c.ids) {
      ++failures;
      std::ostringstream g, e;
      for (int32_t x : got) g << x << ' ';
      for (int32_t x : c.ids) e << x << ' ';
      ADD_FAILURE() << name << ": '" << c.text << "'\n  got:      " << g.str() << "\n  expected: " << e.str();
    }
  }
  EXPECT_EQ(failures, 0);
}

INSTANTIATE_TEST_SUITE_P(Shared, VocabVectors, ::testing::Values("llama-spm", "phi-3", "gpt-2", "falcon", "starcoder", "deepseek-coder"));

}  // namespace
}  // namespace pocket
