// `pocket run` reproduces karpathy's run.c byte for byte. run.c's `-n` counts positions including BOS
// and prompt, prints the prompt's pieces, and stops when the model samples BOS; `pocket run -n` counts
// new tokens, so run.c's n steps are n - n_prompt + 1 of ours (the last step's token is still printed).
#include "model/model_support.h"

namespace pocket {
namespace {

std::string strip_final_newline(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void expect_reference(const std::string& model, const std::string& prompt, int n_prompt_tokens, int runc_steps, const std::string& reference) {
  const int n = runc_steps - n_prompt_tokens + 1;
  const std::string cmd = test::cli() + " run -m '" + model + "' -p '" + prompt + "' -n " + std::to_string(n) + " --temp 0";
  const test::CommandResult r = test::run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(strip_final_newline(r.out), strip_final_newline(test::read_file(reference))) << cmd;
}

TEST(ReferenceText, Stories260KFromLlamaCppGguf) {
  expect_reference(test::shared("golden/stories260K-f32.llamacpp.gguf"), "", 1, 200,
                   test::shared("models/stories260K/REFERENCE_greedy_n200_runc.txt"));
}

TEST(ReferenceText, Stories260KConvertedByUs) {
  const std::string out = test::temp_path("s260k.gguf");
  const test::CommandResult c = test::run_command(test::cli() + " convert '" + test::shared("models/stories260K/stories260K.bin") +
                                                  "' --tokenizer '" + test::shared("models/stories260K/tok512.bin") + "' -o " + out + " --force");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  expect_reference(out, "", 1, 200, test::shared("models/stories260K/REFERENCE_greedy_n200_runc.txt"));
  std::remove(out.c_str());
}

TEST(ReferenceText, Stories15MFromLlamaCppGguf) {
  expect_reference(test::shared("golden/stories15M-f32.llamacpp.gguf"), "Once upon a time", 5, 256,
                   test::shared("models/stories15M/REFERENCE_greedy_n256_once_upon_a_time_runc.txt"));
}

TEST(ReferenceText, Stories15MFromNpmConvertedByUs) {
  const std::string bin = test::source_dir() + "/models/stories15M.bin";
  if (!test::file_exists(bin)) {
    if (std::getenv("POCKET_REQUIRE_NPM_MODEL")) FAIL() << bin << " missing: run scripts/get_model.sh";
    GTEST_SKIP() << bin << " not downloaded (scripts/get_model.sh); CI requires it";
  }
  const std::string out = test::temp_path("s15m.gguf");
  const test::CommandResult c = test::run_command(test::cli() + " convert '" + bin + "' --tokenizer '" +
                                                  test::shared("models/stories15M/tokenizer.bin") + "' -o " + out + " --force");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  expect_reference(out, "Once upon a time", 5, 256, test::shared("models/stories15M/REFERENCE_greedy_n256_once_upon_a_time_runc.txt"));
  std::remove(out.c_str());
}

}  // namespace
}  // namespace pocket
