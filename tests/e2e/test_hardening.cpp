// Nothing lost and bounded resources: a quantize killed with SIGKILL mid-write leaves the target
// untouched; huge requests are refused before any large allocation, under a hard address-space limit.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <dirent.h>
#include <thread>
#include <unistd.h>

#include "test_support.h"

namespace pocket {
namespace {

using test::run_command;

// Temp files a writer of `target` has open (target.tmp.<pid>), with their sizes.
size_t temp_file_bytes(const std::string& dir, const std::string& base) {
  size_t most = 0;
  DIR* d = opendir(dir.c_str());
  if (!d) return 0;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n.rfind(base + ".tmp.", 0) != 0) continue;
    struct stat st {};
    if (::stat((dir + "/" + n).c_str(), &st) == 0) most = std::max(most, (size_t)st.st_size);
  }
  closedir(d);
  return most;
}

TEST(Hardening, QuantizeKilledMidWriteLeavesTheTargetUntouched) {
  const std::string dir = test::temp_path("killdir");
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  const std::string target = dir + "/out.gguf";
  { std::ofstream(target) << "the previous model, which must survive"; }
  // F32 -> F16 of stories15M writes ~30 MB: kill as soon as the temp file holds some of it.
  bool killed_mid_write = false;
  for (int attempt = 0; attempt < 5 && !killed_mid_write; ++attempt) {
    const pid_t pid = fork();
    if (pid == 0) {
      const std::string cmd = "exec " + test::cli() + " quantize " + test::shared("golden/stories15M-f32.llamacpp.gguf") + " " + target +
                              " --type f16 --force >/dev/null 2>&1";
      execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
      _exit(127);
    }
    int status = 0;
    for (int i = 0; i < 20000; ++i) {
      if (temp_file_bytes(dir, "out.gguf") > 4096) {
        kill(pid, SIGKILL);
        killed_mid_write = true;
        break;
      }
      if (waitpid(pid, &status, WNOHANG) == pid) break;  // finished before we caught it writing
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (killed_mid_write) waitpid(pid, &status, 0);
    if (killed_mid_write) { EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL); }
    if (!killed_mid_write) {  // it completed: put the old content back and try again
      std::ofstream(target) << "the previous model, which must survive";
    }
  }
  ASSERT_TRUE(killed_mid_write) << "quantize always finished before the kill; cannot test";
  EXPECT_EQ(test::read_file(target), "the previous model, which must survive");
  // A later run writes the file completely and replaces it.
  const auto again =
      run_command(test::cli() + " quantize " + test::shared("golden/stories15M-f32.llamacpp.gguf") + " " + target + " --type q8_0 --force");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(test::read_file(target).substr(0, 4), "GGUF");
  // Without --force an existing output is never overwritten.
  const auto refuse = run_command(test::cli() + " quantize " + test::shared("golden/stories15M-f32.llamacpp.gguf") + " " + target + " --type q4_0");
  EXPECT_EQ(refuse.exit_code, 1);
  EXPECT_NE(refuse.err.find("--force"), std::string::npos) << refuse.err;
  run_command("rm -rf " + dir);
}

TEST(Hardening, HugeRequestsAreRefusedUnderAMemoryLimit) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of shadow address space, which ulimit -v forbids; "
                  "this test runs in the Release pass";
#endif
  // 1.5 GiB of address space: the refusals must come before any large allocation.
  const std::string limit = "ulimit -v 1500000; ";
  const std::string m = test::shared("golden/stories15M-f32.llamacpp.gguf");
  const auto big_ctx = run_command(limit + test::cli() + " run -m " + m + " -c 1000000 -n 1 -p hi");
  EXPECT_NE(big_ctx.exit_code, 0);
  EXPECT_EQ(big_ctx.exit_code < 128, true) << "refused, not killed: " << big_ctx.err;
  EXPECT_NE(big_ctx.err.find("of address space left (ulimit -v)"), std::string::npos) << big_ctx.err;
  // A GGUF claiming 10^12 tensors, and one whose only tensor claims 2^60 elements.
  auto header = [](uint64_t n_tensors) {
    std::string b = "GGUF";
    auto put = [&](uint64_t v, int bytes) {
      for (int i = 0; i < bytes; ++i) b.push_back((char)((v >> (8 * i)) & 0xff));
    };
    put(3, 4);
    put(n_tensors, 8);
    put(0, 8);
    return b;
  };
  const std::string many = test::temp_path("many.gguf"), huge = test::temp_path("huge.gguf");
  {
    std::ofstream(many, std::ios::binary) << header(1000000000000ull);
    std::string h = header(1);  // one tensor "t": 1 dim of 2^60 F32
    for (uint64_t v : {1ull}) h.append((const char*)&v, 8);
    h += "t";
    const uint32_t ndims = 1;
    h.append((const char*)&ndims, 4);
    const uint64_t dim = 1ull << 60, offset = 0;
    const uint32_t type = 0;
    h.append((const char*)&dim, 8);
    h.append((const char*)&type, 4);
    h.append((const char*)&offset, 8);
    std::ofstream(huge, std::ios::binary) << h;
  }
  const auto r_many = run_command(limit + test::cli() + " info " + many);
  EXPECT_EQ(r_many.exit_code, 1) << r_many.err;
  EXPECT_NE(r_many.err.find("header.n_tensors: absurd count"), std::string::npos) << r_many.err;
  const auto r_huge = run_command(limit + test::cli() + " info " + huge);
  EXPECT_EQ(r_huge.exit_code, 1) << r_huge.err;
  EXPECT_NE(r_huge.err.find("absurd dimension"), std::string::npos) << r_huge.err;
  std::remove(many.c_str());
  std::remove(huge.c_str());
  // A prompt of a million tokens: refused as longer than the context.
  const std::string prompt = test::temp_path("million.txt");
  {
    std::ofstream f(prompt);
    for (int i = 0; i < 250000; ++i) f << "one two three four ";
  }
  const auto long_prompt = run_command(limit + test::cli() + " run -m " + m + " -f " + prompt + " -n 1");
  EXPECT_EQ(long_prompt.exit_code, 1) << long_prompt.err;
  EXPECT_NE(long_prompt.err.find("but the context is 256"), std::string::npos) << long_prompt.err;
  std::remove(prompt.c_str());
  // -n 10^9 is a bad flag (at most 2^24); the largest allowed count generates until the context is full.
  const auto gen = run_command(limit + test::cli() + " run -m " + m + " -p 'Once upon a time' -n 1000000000 --temp 0");
  EXPECT_EQ(gen.exit_code, 2) << gen.err;
  EXPECT_NE(gen.err.find("--n-predict"), std::string::npos) << gen.err;
  const auto most = run_command(limit + test::cli() + " run -m " + m + " -p 'Once upon a time' -n 16777216 --temp 0 --no-bos-stop");
  EXPECT_EQ(most.exit_code, 0) << most.err;
  EXPECT_NE(most.err.find("context"), std::string::npos) << most.err;
}

}  // namespace
}  // namespace pocket
