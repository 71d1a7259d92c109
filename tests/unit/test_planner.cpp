// The deployment planner: the KV formula, device profile validation, memory and fit decisions,
// configuration ranking, and agreement between a file's footprint, a named shape and the engine.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "plan/auto_config.h"
#include "plan/device_profile.h"
#include "plan/model_footprint.h"
#include "plan/planner.h"
#include "test_support.h"

namespace pocket {
namespace {

TEST(Planner, KvFormulaReproducesThePublishedSizes) {
  // 7B (32 layers, 32 KV heads, head 128) at T = 2048: 1.07 GB in FP16, 536 MB in INT8.
  EXPECT_EQ(kv_formula_bytes(32, 32, 128, 2048, 2.0), 1073741824.0);
  EXPECT_NEAR(kv_formula_bytes(32, 32, 128, 2048, 2.0) / 1e9, 1.07, 0.005);
  EXPECT_EQ(kv_formula_bytes(32, 32, 128, 2048, 1.0), 536870912.0);
  EXPECT_NEAR(kv_formula_bytes(32, 32, 128, 2048, 1.0) / 1e6, 536.9, 0.05);
  // 3B-class (24 layers, 16 heads, d 64) at T = 1024 in INT8: 48 MiB.
  EXPECT_EQ(kv_formula_bytes(24, 16, 64, 1024, 1.0), 48.0 * 1024 * 1024);
}

TEST(Planner, EngineAllocatesWhatTheFormulaSays) {
  // The cache the engine would allocate for Llama-2-7B (its plan, no weights loaded) equals the formula;
  // INT8 scales (one fp16 per 32 values) are reported apart.
  auto fp = footprint_of_shape("llama-2-7b", TensorType::Q4_0);
  ASSERT_TRUE(fp.is_ok()) << fp.status().message();
  EngineOptions eo;
  eo.n_ctx = 2048;
  eo.kv_k_type = eo.kv_v_type = KvType::kF16;
  auto p = plan_engine(fp.value().config, fp.value().weight_bytes(), eo, false);
  ASSERT_TRUE(p.is_ok()) << p.status().message();
  EXPECT_EQ(p.value().memory.kv_values, 1073741824u);
  EXPECT_EQ(p.value().memory.kv_scales, 0u);
  eo.kv_k_type = eo.kv_v_type = KvType::kQ8;
  p = plan_engine(fp.value().config, fp.value().weight_bytes(), eo, false);
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p.value().memory.kv_values, 536870912u);
  EXPECT_EQ(p.value().memory.kv_scales, 536870912u / 32 * 2);
}

TEST(Planner, ShapeFootprintMatchesTheFileAndTheEngine) {
  // stories15M as a named shape in F32 has exactly the tensors and bytes of llama.cpp's F32 file,
  // and the engine maps exactly those bytes.
  auto file = footprint_of_file(test::shared("golden/stories15M-f32.llamacpp.gguf"));
  ASSERT_TRUE(file.is_ok()) << file.status().message();
  auto shape = footprint_of_shape("stories15m", TensorType::F32);
  ASSERT_TRUE(shape.is_ok());
  EXPECT_EQ(shape.value().weight_bytes(), file.value().weight_bytes());
  EXPECT_EQ(shape.value().decode_bytes(), file.value().decode_bytes());
  EXPECT_EQ(shape.value().tied_output, file.value().tied_output);
  EngineOptions eo;
  auto e = Engine::load(test::shared("golden/stories15M-f32.llamacpp.gguf"), eo);
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(e.value()->memory().weights, file.value().weight_bytes());
  // Requantizing in the planner gives the size of a Q8_0 file (norms stay F32): llama-quantize's file has
  // the same tensors in Q8_0, plus the head written out separately (it unties output.weight).
  auto q8 = footprint_of_file(test::shared("golden/stories15M-q8_0.llamacpp.gguf"));
  ASSERT_TRUE(q8.is_ok());
  ASSERT_FALSE(q8.value().tied_output);
  size_t head = 0;
  for (const TensorInfo& t : q8.value().tensors)
    if (t.name == "output.weight") head = t.bytes;
  EXPECT_EQ(file.value().with_weight_type(TensorType::Q8_0).weight_bytes(), q8.value().weight_bytes() - head);
  EXPECT_EQ(file.value().with_weight_type(TensorType::Q8_0).main_type(), TensorType::Q8_0);
}

TEST(Planner, UnknownShapeIsAnErrorListingTheKnownOnes) {
  auto r = footprint_of_shape("llama-9000", TensorType::Q4_0);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("llama-2-7b"), std::string::npos);
}

TEST(Planner, EveryShippedProfileLoads) {
  auto all = all_device_profiles();
  ASSERT_TRUE(all.is_ok()) << all.status().message();
  std::set<std::string> names;
  for (const DeviceProfile& p : all.value()) {
    if (p.file.rfind(test::source_dir() + "/devices/", 0) != 0) continue;  // e.g. a calibrated ~/.config/.../host.json
    names.insert(p.name);
    EXPECT_FALSE(p.sources.empty()) << p.name << ": every shipped profile cites its sources";
    EXPECT_GT(p.power_w, 0) << p.name;
  }
  for (const char* n :
       {"budget-phone", "flagship-phone", "tablet", "edge", "snapdragon-8-gen-3", "apple-a17-pro", "dimensity-9300", "tensor-g4", "jetson-orin-nano"})
    EXPECT_TRUE(names.count(n)) << n;
  // Class ranges from the issue: budget phones 2-4 GB and 1-2 W, flagships 8-12 GB and 3-5 W.
  auto b = find_device_profile("budget-phone");
  ASSERT_TRUE(b.is_ok());
  EXPECT_GE(b.value().ram_gb, 2);
  EXPECT_LE(b.value().ram_gb, 4);
  EXPECT_GE(b.value().power_w, 1);
  EXPECT_LE(b.value().power_w, 2);
}

struct BadProfile {
  const char* what;
  std::string edit;  // JSON merged over a valid profile ("null" values delete the field)
  const char* message;
};

TEST(Planner, BadProfilesGetClearErrors) {
  const nlohmann::json good = nlohmann::json::parse(test::read_file(test::source_dir() + "/devices/budget-phone.json"));
  ASSERT_TRUE(parse_device_profile(good.dump(), "good.json").is_ok());
  const std::vector<BadProfile> cases = {
      {"missing bandwidth", R"({"bandwidth_gbps": null})", "bad.json: bandwidth_gbps: missing"},
      {"bandwidth a string", R"({"bandwidth_gbps": "fast"})", "bandwidth_gbps: must be a number, got string"},
      {"negative RAM", R"({"ram_gb": -4})", "ram_gb: must be in"},
      {"usable above total", R"({"usable_ram_gb": 8})", "usable_ram_gb: exceeds ram_gb"},
      {"efficiency above 1", R"({"decode_efficiency": 1.5})", "decode_efficiency: must be in"},
      {"fractional cores", R"({"cpu_cores": 2.5})", "cpu_cores: must be a whole number"},
      {"threads above cores", R"({"threads": 64})", "threads: exceeds cpu_cores"},
      {"misspelt field", R"({"bandwith_gbps": 17})", "bandwith_gbps: unknown field"},
      {"wrong schema", R"({"schema": "pocket-device/9"})", "schema: must be"},
      {"bad name", R"({"name": "a b/c"})", "name: must be"},
      {"int8 not a bool", R"({"int8_dot": "yes"})", "int8_dot: must be true or false"},
      {"measured not an array", R"({"measured": 3})", "measured: must be an array"},
      {"measured entry missing rate", R"({"measured": [{"type": "Q4_0", "decode_gbps": 5}]})", "measured[0]: prefill_gops: missing"},
      {"sources not strings", R"({"sources": [1, 2]})", "sources: must be an array of strings"},
  };
  for (const BadProfile& c : cases) {
    nlohmann::json j = good;
    j.merge_patch(nlohmann::json::parse(c.edit));
    auto r = parse_device_profile(j.dump(), "bad.json");
    ASSERT_FALSE(r.is_ok()) << c.what;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << c.what << ": " << r.status().message();
    EXPECT_EQ(r.status().message().rfind("bad.json: ", 0), 0u) << c.what;
  }
  EXPECT_FALSE(parse_device_profile("{not json", "x.json").is_ok());
  EXPECT_FALSE(parse_device_profile("[1,2]", "x.json").is_ok());
  auto missing = find_device_profile("no-such-phone");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("budget-phone"), std::string::npos) << "lists the known profiles";
  // A profile round-trips through its JSON.
  auto again = parse_device_profile(device_profile_json(parse_device_profile(good.dump(), "g").value()), "g2");
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  EXPECT_EQ(again.value().bandwidth_gbps, good["bandwidth_gbps"].get<double>());
}

TEST(Planner, FitDecisionsAndRankedAlternatives) {
  auto budget = find_device_profile("budget-phone").value();
  auto flagship = find_device_profile("flagship-phone").value();
  auto big = footprint_of_shape("llama-2-7b", TensorType::Q4_0).value();
  auto small = footprint_of_shape("smollm2-135m", TensorType::Q8_0).value();
  PlanSettings s;
  s.engine.n_ctx = 2048;
  s.engine.kv_k_type = s.engine.kv_v_type = KvType::kF16;
  auto p7 = make_plan(big, budget, s);
  ASSERT_TRUE(p7.is_ok());
  EXPECT_FALSE(p7.value().fits) << "3.5 GB of weights in 1.6 GB";
  auto p135 = make_plan(small, budget, s);
  ASSERT_TRUE(p135.is_ok());
  EXPECT_TRUE(p135.value().fits);
  // Memory adds up, and decode is bounded by the bandwidth: tokens/s <= effective bandwidth / bytes read.
  const PlanResult& r = p135.value();
  EXPECT_EQ(r.total, r.resident_weights + r.memory.kv_values + r.memory.kv_scales + r.memory.activations + r.memory.logits + r.runtime_overhead);
  EXPECT_LE(r.decode_tps, budget.bandwidth_gbps * 1e9 * budget.decode_efficiency / (double)small.decode_bytes());
  EXPECT_GT(r.prefill_tps, r.decode_tps) << "a batch reuses each weight block";
  EXPECT_NEAR(r.j_per_token * r.decode_tps, budget.power_w, 1e-9);
  // More bandwidth, more speed.
  EXPECT_GT(make_plan(small, flagship, s).value().decode_tps, r.decode_tps);

  // 7B on a flagship at 2048: the alternatives that fit are ranked by context, then quality.
  auto p = make_plan(big, flagship, s);
  ASSERT_TRUE(p.is_ok());
  const auto opts = fitting_configurations(big, flagship, s, 100);
  ASSERT_FALSE(opts.empty());
  for (size_t i = 0; i < opts.size(); ++i) {
    EXPECT_TRUE(opts[i].fits);
    EXPECT_LE(opts[i].total, opts[i].usable);
    if (i > 0) {
      EXPECT_GE(opts[i - 1].n_ctx, opts[i].n_ctx);
      if (opts[i - 1].n_ctx == opts[i].n_ctx) { EXPECT_LE(opts[i - 1].quality_cost, opts[i].quality_cost); }
    }
  }
  EXPECT_EQ(opts[0].n_ctx, 2048);
  EXPECT_LT(weight_type_cost(TensorType::Q8_0), weight_type_cost(TensorType::Q4_1));
  EXPECT_LT(weight_type_cost(TensorType::Q4_1), weight_type_cost(TensorType::Q4_0));
  EXPECT_LT(kv_type_cost(KvType::kQ8), kv_type_cost(KvType::kQ4));
  // Nothing fits a 7B F16 model into a budget phone, not even at Q4_0 and 512 positions.
  auto f16 = footprint_of_shape("llama-2-7b", TensorType::F16).value();
  EXPECT_TRUE(fitting_configurations(f16, budget, s, 10).empty());
}

TEST(Planner, AutoConfigPicksRunSettingsForTheFileWeightsOrNamesAQuantizedType) {
  // stories15M F32 (58 MB of weights) on profiles sized around its totals: the choice is typed
  // engine options, and what is not the file's weights is only a suggestion.
  auto fp = footprint_of_file(test::shared("golden/stories15M-f32.llamacpp.gguf"));
  ASSERT_TRUE(fp.is_ok()) << fp.status().message();
  const ModelFootprint& m = fp.value();
  DeviceProfile d = find_device_profile("tablet").value();
  EngineOptions req;
  req.n_threads = 1;
  req.kv_sinks = 2;
  req.mem_budget = 123456789;
  auto total = [&](KvType kv) {
    PlanSettings s;
    s.engine = req;
    s.engine.kv_k_type = s.engine.kv_v_type = kv;
    return (double)make_plan(m, d, s).value().total;
  };
  const double t_f16 = total(KvType::kF16), t_q8 = total(KvType::kQ8);
  ASSERT_GT(t_f16, t_q8);

  // Room for everything: f16 KV (the cheapest in quality the ranking tries) at the model's context.
  AutoConfig a = choose_auto_config(m, d, req);
  ASSERT_TRUE(a.fits);
  EXPECT_FALSE(a.quantize_to.has_value());
  EXPECT_EQ(a.plan.main_type, TensorType::F32);
  EXPECT_EQ(a.engine.kv_k_type, KvType::kF16);
  EXPECT_EQ(a.engine.kv_v_type, KvType::kF16);
  EXPECT_EQ(a.engine.n_ctx, (int)m.config.n_ctx_train);
  EXPECT_EQ(a.engine.kv_window, -1);
  EXPECT_EQ(a.engine.n_threads, 1) << "what it does not choose stays as requested";
  EXPECT_EQ(a.engine.kv_sinks, 2);
  EXPECT_EQ(a.engine.mem_budget, 123456789u);

  // Between the f16 and the q8 totals: q8 at the full context, the best fitting_configurations()
  // has with F32 weights, and the options it returns plan to exactly that.
  d.usable_ram_gb = (t_f16 + t_q8) / 2 / 1e9;
  a = choose_auto_config(m, d, req);
  ASSERT_TRUE(a.fits);
  EXPECT_EQ(a.engine.kv_k_type, KvType::kQ8);
  EXPECT_EQ(a.engine.n_ctx, (int)m.config.n_ctx_train);
  PlanSettings again;
  again.engine = a.engine;
  auto p = make_plan(m, d, again);
  ASSERT_TRUE(p.is_ok());
  EXPECT_TRUE(p.value().fits);
  EXPECT_EQ(p.value().total, a.plan.total);
  PlanSettings s;
  s.engine = req;
  for (const PlanResult& o : fitting_configurations(m, d, s, 1000)) {
    if (o.main_type != TensorType::F32) continue;
    EXPECT_EQ(o.kv_k_type, a.plan.kv_k_type);
    EXPECT_EQ(o.n_ctx, a.plan.n_ctx);
    EXPECT_EQ(o.window, a.plan.window);
    break;
  }

  // Below the F32 weights: no run setting fits; a quantized type does, and its plan fits.
  d.usable_ram_gb = 0.03;
  a = choose_auto_config(m, d, req);
  EXPECT_FALSE(a.fits);
  ASSERT_TRUE(a.quantize_to.has_value());
  EXPECT_NE(*a.quantize_to, TensorType::F32);
  EXPECT_EQ(a.plan.main_type, *a.quantize_to);
  EXPECT_TRUE(a.plan.fits);
  EXPECT_EQ(a.plan.weight_type, traits(*a.quantize_to).name);
  // Below every weight type: nothing to suggest.
  d.usable_ram_gb = 0.001;
  a = choose_auto_config(m, d, req);
  EXPECT_FALSE(a.fits);
  EXPECT_FALSE(a.quantize_to.has_value());
}

TEST(Planner, OptionsTheEngineRefusesAreErrors) {
  auto d = find_device_profile("tablet").value();
  auto m = footprint_of_shape("smollm2-135m", TensorType::Q8_0).value();
  PlanSettings s;
  s.engine.max_batch = 0;
  EXPECT_FALSE(make_plan(m, d, s).is_ok());
  s = PlanSettings{};
  s.prompt_tokens = 0;
  EXPECT_FALSE(make_plan(m, d, s).is_ok());
}

}  // namespace
}  // namespace pocket
