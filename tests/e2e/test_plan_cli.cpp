// `pocket plan`, `pocket calibrate` and `pocket run --device/--auto` through the binary.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace pocket {
namespace {

using test::run_command;

std::string model15m() { return test::shared("golden/stories15M-f32.llamacpp.gguf"); }

// A profile with `usable_gb` of usable RAM (everything else like a budget phone).
std::string write_profile(const std::string& name, double usable_gb) {
  nlohmann::json j = nlohmann::json::parse(test::read_file(test::source_dir() + "/devices/budget-phone.json"));
  j["name"] = name;
  j["usable_ram_gb"] = usable_gb;
  const std::string path = test::temp_path(name + ".json");
  std::ofstream(path) << j.dump(2);
  return path;
}

TEST(PlanCli, ShapeOnEveryDeviceWithPlot) {
  const std::string svg = test::temp_path("plan.svg");
  const auto r = run_command(test::cli() + " plan --shape llama-2-7b --type q4_0 --ctx 2048 --kv-type q8 --all-devices --plot " + svg);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* k : {"budget-phone", "flagship-phone", "tablet", "edge", "snapdragon-8-gen-3", "jetson-orin-nano", "| no |", "| yes |"})
    EXPECT_NE(r.out.find(k), std::string::npos) << k;
  const std::string plot = test::read_file(svg);
  EXPECT_EQ(plot.rfind("<svg", 0), 0u);
  EXPECT_NE(plot.find("dimensity-9300"), std::string::npos);
  std::remove(svg.c_str());
}

TEST(PlanCli, FitsExitsZeroDoesNotFitExitsThreeWithAlternatives) {
  const auto ok = run_command(test::cli() + " plan -m " + model15m() + " --device budget-phone");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  for (const char* k : {"weights", "KV cache", "fits, with", "decode", "prefill", "first token", "tokens per joule", "cloud"})
    EXPECT_NE(ok.out.find(k), std::string::npos) << k;
  const auto no = run_command(test::cli() + " plan --shape llama-2-7b --type q4_0 --device flagship-phone --ctx 4096");
  EXPECT_EQ(no.exit_code, 3) << no.err;
  EXPECT_NE(no.out.find("DOES NOT FIT"), std::string::npos);
  EXPECT_NE(no.out.find("configurations that fit"), std::string::npos);
  const auto js = run_command(test::cli() + " plan --shape smollm2-135m --type q8_0 --device tablet -o json");
  ASSERT_EQ(js.exit_code, 0) << js.err;
  const nlohmann::json j = nlohmann::json::parse(js.out, nullptr, false);
  ASSERT_TRUE(j.is_array());
  EXPECT_TRUE(j[0]["fits"].get<bool>());
  EXPECT_GT(j[0]["decode_tps"].get<double>(), 0);
  EXPECT_GT(j[0]["memory"]["total"].get<double>(), j[0]["memory"]["weights_resident"].get<double>());
}

TEST(PlanCli, RunRefusesBeforeLoadingAndAutoPicksWhatFits) {
  // stories15M F32: 58 MB of weights. "tiny": 30 MB, below the F32 weights but above a Q4 copy's total.
  // "snug": halfway between the totals the planner gives with an F32 and a q8 cache.
  const std::string tiny = write_profile("tiny-test-device", 0.03);
  auto total = [&](const char* kv) {
    const auto r = run_command(test::cli() + " plan -m " + model15m() + " --device tablet -t 1 -o json --kv-type " + kv);
    return nlohmann::json::parse(r.out, nullptr, false)[0]["memory"]["total"].get<double>();
  };
  const double t_f32 = total("f32"), t_q8 = total("q8");
  ASSERT_GT(t_f32, t_q8 + 2e6);
  const std::string snug = write_profile("snug-test-device", (t_f32 + t_q8) / 2 / 1e9);
  const auto refused = run_command(test::cli() + " run -m " + model15m() + " -n 4 --device " + tiny);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("does not fit tiny-test-device"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.out, "") << "refused before generating anything";
  const auto none = run_command(test::cli() + " run -m " + model15m() + " -n 4 --device " + tiny + " --auto");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("pocket quantize --type"), std::string::npos) << none.err;
  const auto f32 = run_command(test::cli() + " run -m " + model15m() + " -n 4 -t 1 --kv-type f32 --device " + snug);
  EXPECT_EQ(f32.exit_code, 1) << f32.err;
  const auto pick = run_command(test::cli() + " run -m " + model15m() + " -p 'Once upon a time' -n 8 -t 1 --temp 0 --device " + snug + " --auto");
  ASSERT_EQ(pick.exit_code, 0) << pick.err;
  EXPECT_NE(pick.err.find("--auto for snug-test-device"), std::string::npos) << pick.err;
  EXPECT_EQ(pick.out.rfind("Once upon a time", 0), 0u);
  const auto fits = run_command(test::cli() + " run -m " + model15m() + " -n 4 --device tablet");
  EXPECT_EQ(fits.exit_code, 0) << fits.err;
  std::remove(tiny.c_str());
  std::remove(snug.c_str());
}

TEST(PlanCli, BadInputs) {
  const std::string bad = test::temp_path("bad-device.json");
  std::ofstream(bad) << R"({"schema": "pocket-device/1", "name": "x", "class": "edge", "ram_gb": 4})";
  struct Case {
    std::string args;
    int code;
    const char* msg;
  };
  const std::vector<Case> cases = {
      {"plan --shape llama-2-7b", 1, "--device NAME|FILE or --all-devices"},
      {"plan --shape nope --device tablet", 1, "unknown shape 'nope'"},
      {"plan --shape llama-2-7b --device no-such-phone", 1, "no profile named 'no-such-phone'"},
      {"plan --shape llama-2-7b --device " + bad, 1, "usable_ram_gb: missing"},
      {"plan --shape llama-2-7b --type q9 --device tablet", 1, "unknown weight type 'q9'"},
      {"plan -m " + model15m() + " --shape llama-2-7b --device tablet", 1, "not both"},
      {"plan --shape llama-2-7b --device tablet --prompt-tokens 0", 2, "prompt-tokens"},
      {"run -m " + model15m() + " --auto", 1, "--auto needs --device"},
      {"run -m " + model15m() + " --device " + bad, 1, "usable_ram_gb: missing"},
  };
  for (const Case& c : cases) {
    const auto r = run_command(test::cli() + " " + c.args);
    EXPECT_EQ(r.exit_code, c.code) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.msg), std::string::npos) << c.args << "\n" << r.err;
  }
  std::remove(bad.c_str());
}

TEST(PlanCli, CalibrateWritesAValidHostProfile) {
  const std::string out = test::temp_path("host.json");
  const auto r = run_command(test::cli() + " calibrate -r 1 --name test-host -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("read bandwidth"), std::string::npos);
  EXPECT_NE(r.out.find("energy:"), std::string::npos);
  const auto plan = run_command(test::cli() + " plan -m " + model15m() + " --device " + out);
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("measured kernel rates"), std::string::npos);
  std::remove(out.c_str());
}

}  // namespace
}  // namespace pocket
