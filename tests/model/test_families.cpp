// The architecture families (model/families): each family's block variations on tiny random-weight
// files written by pocket synth in the family's layout, checked by construction (a fused tensor equals
// its parts, a window that is never reached changes nothing, factors of 1 change nothing) and by the
// refusals of files a family does not understand. Agreement with llama.cpp on real shapes is
// bench/compare_families.sh (docs/correctness.md).
#include <cmath>
#include <cstring>

#include "convert/synth.h"
#include "core/fp16.h"
#include "format/gguf_reader.h"
#include "format/gguf_writer.h"
#include "model/activation.h"
#include "model/model_support.h"

namespace pocket {
namespace {

// Tiny shapes of each family: width 64, 4 heads of 16 (Gemma/Qwen3: head_dim 32 != width / heads).
ModelShape tiny(const char* arch, int64_t layers = 6) {
  ModelShape s{"tiny", arch, 512, 64, layers, 4, 2, 96, 256, 10000.0f, 1e-6f, true, false, "test"};
  const std::string a = arch;
  if (a == "qwen3" || a == "gemma2" || a == "gemma3") s.head_dim = 32;
  if (a == "gemma2" || a == "gemma3") s.sliding_window = 8;
  if (a == "phi3") s.tied_output = false;
  return s;
}

std::string write_tiny(const ModelShape& s, const std::string& name, int64_t window = 0, TensorType type = TensorType::F32) {
  const std::string path = test::temp_path(name);
  SynthOptions o;
  o.type = type;
  o.force = true;
  o.window_override = window;
  const Status st = write_synthetic_model(s, path, o);
  EXPECT_TRUE(st.is_ok()) << st.message();
  return path;
}

std::vector<int32_t> ids(int n) {
  std::vector<int32_t> v;
  for (int i = 0; i < n; ++i) v.push_back(300 + (i * 37) % 200);
  return v;
}

// Copies a GGUF with edits: keys renamed by prefix or replaced, tensors dropped, replaced or added.
struct Rewrite {
  std::string from_prefix, to_prefix;
  std::vector<std::pair<std::string, GgufValue>> set_keys;
  std::vector<std::string> drop_tensors;
  std::function<bool(const TensorView&, GgufWriter&)> tensor;  // true: handled (written or dropped)
};

void rewrite(const std::string& src, const std::string& dst, const Rewrite& r) {
  auto f = GgufFile::open(src);
  ASSERT_TRUE(f.is_ok());
  GgufWriter w;
  for (const auto& [k, v] : f.value()->metadata()) {
    std::string key = k;
    if (!r.from_prefix.empty() && key.rfind(r.from_prefix, 0) == 0) key = r.to_prefix + key.substr(r.from_prefix.size());
    w.set(key, v);
  }
  if (!r.to_prefix.empty()) w.set("general.architecture", GgufValue::make_string(r.to_prefix.substr(0, r.to_prefix.size() - 1)));
  for (const auto& [k, v] : r.set_keys) w.set(k, v);
  for (const TensorView& t : f.value()->tensors()) {
    if (std::find(r.drop_tensors.begin(), r.drop_tensors.end(), t.name) != r.drop_tensors.end()) continue;
    if (r.tensor && r.tensor(t, w)) continue;
    ASSERT_TRUE(w.add_tensor(t.name, t.type, std::vector<int64_t>(t.ne, t.ne + t.n_dims), std::vector<uint8_t>(t.data, t.data + t.nbytes)).is_ok());
  }
  ASSERT_TRUE(w.write(dst, true).is_ok());
}

void add_f32(GgufWriter& w, const std::string& name, const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  ASSERT_TRUE(w.add_tensor(name, TensorType::F32, {(int64_t)v.size()}, std::move(b)).is_ok());
}

// A Rewrite::tensor that adds an F32 tensor (beside output_norm.weight) and keeps every other tensor.
std::function<bool(const TensorView&, GgufWriter&)> adding(const std::string& name, std::vector<float> values) {
  return [name, values](const TensorView& t, GgufWriter& w) {
    if (t.name == "output_norm.weight") add_f32(w, name, values);
    return false;
  };
}

std::string load_error(const std::string& path) {
  auto m = Model::load(path);
  EXPECT_FALSE(m.is_ok()) << path << " loaded";
  return m.is_ok() ? "" : m.status().message();
}

TEST(Families, EveryFamilyLoadsWithItsVariations) {
  struct Case {
    const char* arch;
    bool qk_norm, post_norms, fused;
    FfnActivation act;
  };
  for (const Case& k : {Case{"llama", false, false, false, FfnActivation::kSilu}, Case{"qwen2", false, false, false, FfnActivation::kSilu},
                        Case{"qwen3", true, false, false, FfnActivation::kSilu}, Case{"gemma2", false, true, false, FfnActivation::kGeluTanh},
                        Case{"gemma3", true, true, false, FfnActivation::kGeluTanh}, Case{"phi3", false, false, true, FfnActivation::kSilu}}) {
    SCOPED_TRACE(k.arch);
    const std::string path = write_tiny(tiny(k.arch), std::string(k.arch) + ".gguf");
    auto e = test::load_engine(path);
    ASSERT_NE(e, nullptr);
    const ModelConfig& c = e->model().config();
    EXPECT_EQ(c.qk_norm, k.qk_norm);
    EXPECT_EQ(c.post_norms, k.post_norms);
    EXPECT_EQ(c.fused_qkv, k.fused);
    EXPECT_EQ(c.ffn_act, k.act);
    const std::vector<float> logits = test::all_logits(*e, ids(20));
    for (float x : logits) ASSERT_TRUE(std::isfinite(x));
    std::remove(path.c_str());
  }
}

TEST(Families, GemmaLayerPatternsAndScales) {
  const std::string p2 = write_tiny(tiny("gemma2"), "g2.gguf"), p3 = write_tiny(tiny("gemma3", 12), "g3.gguf");
  auto g2 = Model::load(p2);
  auto g3 = Model::load(p3);
  ASSERT_TRUE(g2.is_ok() && g3.is_ok());
  const ModelConfig& c2 = g2.value()->config();
  const ModelConfig& c3 = g3.value()->config();
  for (int l = 0; l < 6; ++l) EXPECT_EQ(c2.layers[(size_t)l].window, l % 2 == 0 ? 8 : 0) << l;  // layers 0, 2, 4 local
  for (int l = 0; l < 12; ++l) {
    const bool global = l % 6 == 5;
    EXPECT_EQ(c3.layers[(size_t)l].window, global ? 0 : 8) << l;
    EXPECT_EQ(c3.layers[(size_t)l].rope, global ? 0 : 1) << l;
  }
  EXPECT_EQ(c3.rope_sets[1].base, 10000.0f);
  EXPECT_FLOAT_EQ(c2.embd_scale, 8.0f);                     // sqrt(64)
  EXPECT_FLOAT_EQ(c2.attn_scale, 1.0f / std::sqrt(32.0f));  // head_dim, not width / heads
  EXPECT_EQ(c2.attn_softcap, 50.0f);
  EXPECT_EQ(c2.final_softcap, 30.0f);
  EXPECT_EQ(c3.final_softcap, 0.0f);
  // Gemma 2's capped logits stay inside (-30, 30).
  auto e = Engine::create(std::shared_ptr<const Model>(std::move(g2.value())), EngineOptions{});
  ASSERT_TRUE(e.is_ok());
  for (float x : test::all_logits(*e.value(), ids(12))) ASSERT_LT(std::fabs(x), 30.0f);
  std::remove(p2.c_str());
  std::remove(p3.c_str());
}

// SmolLM3 is Llama with no rotation in layers 3, 7, 11, ...: relabelled as llama, a 3-layer file gives
// the same bits; a 4-layer one the same bits at position 0 (where RoPE is the identity) and others after.
TEST(Families, SmolLm3SkipsRopeInEveryFourthLayer) {
  const std::string p8 = write_tiny(tiny("smollm3", 8), "s3-8.gguf");
  auto m = Model::load(p8);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  for (int l = 0; l < 8; ++l) EXPECT_EQ(m.value()->config().layers[(size_t)l].rope, l % 4 == 3 ? LayerAttention::kNoRope : 0) << l;
  for (int layers : {3, 4}) {
    SCOPED_TRACE(layers);
    const std::string s3 = write_tiny(tiny("smollm3", layers), "s3.gguf"), as_llama = test::temp_path("s3-llama.gguf");
    Rewrite r;
    r.from_prefix = "smollm3.";
    r.to_prefix = "llama.";
    rewrite(s3, as_llama, r);
    auto a = test::load_engine(s3);
    auto b = test::load_engine(as_llama);
    ASSERT_TRUE(a && b);
    const int64_t nv = 512;
    const std::vector<float> la = test::all_logits(*a, ids(12)), lb = test::all_logits(*b, ids(12));
    for (int p = 0; p < 12; ++p) {
      const bool same = std::equal(la.begin() + p * nv, la.begin() + (p + 1) * nv, lb.begin() + p * nv);
      EXPECT_EQ(same, layers == 3 || p == 0) << "position " << p;
    }
    std::remove(s3.c_str());
    std::remove(as_llama.c_str());
  }
  std::remove(p8.c_str());
}

TEST(Families, LocalWindowChangesOnlyPositionsPastIt) {
  // The same weights with local windows of 8 and of 1000: equal before position 8, different after.
  for (const char* arch : {"gemma2", "gemma3"}) {
    SCOPED_TRACE(arch);
    const std::string narrow = write_tiny(tiny(arch), "narrow.gguf", 8), wide = write_tiny(tiny(arch), "wide.gguf", 1000);
    auto a = test::load_engine(narrow);
    auto b = test::load_engine(wide);
    const int64_t nv = 512;
    const std::vector<float> la = test::all_logits(*a, ids(24)), lb = test::all_logits(*b, ids(24));
    for (int p = 0; p < 24; ++p) {
      const bool same = std::equal(la.begin() + p * nv, la.begin() + (p + 1) * nv, lb.begin() + p * nv);
      EXPECT_EQ(same, p < 8) << "position " << p;
    }
    std::remove(narrow.c_str());
    std::remove(wide.c_str());
  }
}

TEST(Families, SynthShortensOnlyAWindowTheShapeHas) {
  // A --window for a shape without one (Qwen3, Llama, Phi) would give it a Mistral-style window that
  // the real model and llama.cpp do not have: refused, naming the shape.
  for (const char* arch : {"llama", "qwen3", "phi3"}) {
    SCOPED_TRACE(arch);
    const std::string path = test::temp_path("nowindow.gguf");
    SynthOptions o;
    o.force = true;
    o.window_override = 8;
    const Status st = write_synthetic_model(tiny(arch), path, o);
    EXPECT_FALSE(st.is_ok());
    EXPECT_NE(st.message().find("shape tiny has no sliding window to shorten"), std::string::npos) << st.message();
    std::remove(path.c_str());
  }
}

TEST(Families, FusedPhi3TensorsEqualTheirParts) {
  // Phi-3's attn_qkv and gate+up ffn_up, split into separate tensors of a qwen2 file (the same NeoX
  // block otherwise): bit-identical logits, with F32 and with packed Q8_0 weights.
  for (TensorType type : {TensorType::F32, TensorType::Q8_0}) {
    ModelShape s = tiny("phi3");
    s.n_embd = 128, s.n_ff = 160;  // Q8_0 rows of whole blocks
    const std::string fused = write_tiny(s, "phi3.gguf", 0, type), split = test::temp_path("split.gguf");
    const int64_t D = 128, hd = 32, Q = 4 * hd, KV = 2 * hd, F = 160;
    Rewrite r;
    r.from_prefix = "phi3.";
    r.to_prefix = "qwen2.";
    r.tensor = [&](const TensorView& t, GgufWriter& w) {
      const std::string n = t.name;
      const size_t rb = t.nbytes / (size_t)t.ne[1];
      auto part = [&](const std::string& name, int64_t row0, int64_t rows) {
        ASSERT_TRUE(
            w.add_tensor(name, t.type, {D, rows}, std::vector<uint8_t>(t.data + (size_t)row0 * rb, t.data + (size_t)(row0 + rows) * rb)).is_ok());
      };
      const size_t dot = n.find(".attn_qkv.weight"), up = n.find(".ffn_up.weight");
      if (dot != std::string::npos) {
        const std::string p = n.substr(0, dot + 1);
        part(p + "attn_q.weight", 0, Q);
        part(p + "attn_k.weight", Q, KV);
        part(p + "attn_v.weight", Q + KV, KV);
        return true;
      }
      if (up != std::string::npos) {
        const std::string p = n.substr(0, up + 1);
        part(p + "ffn_gate.weight", 0, F);
        part(p + "ffn_up.weight", F, F);
        return true;
      }
      return false;
    };
    rewrite(fused, split, r);
    auto a = test::load_engine(fused, 2);
    auto b = test::load_engine(split, 2);
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(a->model().config().fused_qkv);
    EXPECT_EQ(test::all_logits(*a, ids(20)), test::all_logits(*b, ids(20)));
    std::remove(fused.c_str());
    std::remove(split.c_str());
  }
}

TEST(Families, RopeFactorsOfOneChangeNothingAndOthersDo) {
  const std::string base = write_tiny(tiny("llama"), "llama.gguf"), ones = test::temp_path("ones.gguf"), twos = test::temp_path("twos.gguf");
  Rewrite r1, r2;
  r1.tensor = adding("rope_freqs.weight", std::vector<float>(8, 1.0f));
  r2.tensor = adding("rope_freqs.weight", std::vector<float>(8, 2.0f));
  rewrite(base, ones, r1);
  rewrite(base, twos, r2);
  auto a = test::load_engine(base);
  auto b = test::load_engine(ones);
  auto c = test::load_engine(twos);
  EXPECT_EQ(b->model().config().rope_freq_factors.size(), 8u);
  const auto la = test::all_logits(*a, ids(16));
  EXPECT_EQ(la, test::all_logits(*b, ids(16)));
  EXPECT_NE(la, test::all_logits(*c, ids(16)));
  for (const std::string& p : {base, ones, twos}) std::remove(p.c_str());
}

TEST(Families, QkNormWeightsAreUsed) {
  const std::string base = write_tiny(tiny("qwen3"), "q3.gguf"), edited = test::temp_path("q3e.gguf");
  Rewrite r;
  r.tensor = [&](const TensorView& t, GgufWriter& w) {
    if (t.name != "blk.1.attn_k_norm.weight") return false;
    add_f32(w, t.name, std::vector<float>(32, 3.0f));
    return true;
  };
  rewrite(base, edited, r);
  auto a = test::load_engine(base);
  auto b = test::load_engine(edited);
  EXPECT_NE(test::all_logits(*a, ids(8)), test::all_logits(*b, ids(8)));
  std::remove(base.c_str());
  std::remove(edited.c_str());
}

TEST(Families, ThreadsGiveTheSameBits) {
  for (const char* arch : {"gemma3", "phi3", "qwen3"}) {
    SCOPED_TRACE(arch);
    const std::string p = write_tiny(tiny(arch), "t.gguf");
    auto a = test::load_engine(p, 1);
    auto b = test::load_engine(p, 2);
    EXPECT_EQ(test::all_logits(*a, ids(30)), test::all_logits(*b, ids(30)));
    std::remove(p.c_str());
  }
}

TEST(Families, FilesAFamilyDoesNotUnderstandAreRefused) {
  const std::string llama = write_tiny(tiny("llama"), "l.gguf"), g3 = write_tiny(tiny("gemma3"), "g3.gguf"),
                    phi = write_tiny(tiny("phi3"), "phi.gguf"), q3 = write_tiny(tiny("qwen3"), "q3.gguf"), bad = test::temp_path("bad.gguf");
  auto expect_error = [&](const std::string& src, const Rewrite& r, const std::string& needle) {
    rewrite(src, bad, r);
    const std::string msg = load_error(bad);
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  };
  {
    Rewrite r;
    r.from_prefix = "llama.";
    r.to_prefix = "falcon.";
    expect_error(llama, r, "unsupported architecture 'falcon' (supported: llama, mistral, qwen2, qwen3, gemma2, gemma3, phi3, smollm3)");
  }
  {
    Rewrite r;
    r.set_keys = {{"llama.rope.scaling.type", GgufValue::make_string("yarn")}};
    expect_error(llama, r, "llama.rope.scaling.type: 'yarn' is not supported");
  }
  {
    Rewrite r;
    r.set_keys = {{"llama.rope.scaling.type", GgufValue::make_string("linear")}};
    expect_error(llama, r, "llama.rope.scaling.factor: linear scaling needs a factor");
  }
  {
    Rewrite r;
    r.tensor = adding("blk.0.attn_q_norm.weight", std::vector<float>(16, 1.0f));
    expect_error(llama, r, "tensor 'blk.0.attn_q_norm.weight': not used by architecture 'llama'");
  }
  {
    Rewrite r;
    r.drop_tensors = {"blk.2.attn_q_norm.weight"};
    expect_error(q3, r, "tensor 'blk.2.attn_q_norm.weight': required tensor is missing");
  }
  {
    Rewrite r;
    r.drop_tensors = {"blk.0.post_ffw_norm.weight"};
    expect_error(g3, r, "tensor 'blk.0.post_ffw_norm.weight': required tensor is missing");
  }
  {
    // Gemma 3 has no default window: the key is required.
    auto f = GgufFile::open(g3);
    ASSERT_TRUE(f.is_ok());
    GgufWriter w;
    for (const auto& [k, v] : f.value()->metadata())
      if (k != "gemma3.attention.sliding_window") w.set(k, v);
    for (const TensorView& t : f.value()->tensors())
      ASSERT_TRUE(w.add_tensor(t.name, t.type, std::vector<int64_t>(t.ne, t.ne + t.n_dims), std::vector<uint8_t>(t.data, t.data + t.nbytes)).is_ok());
    ASSERT_TRUE(w.write(bad, true).is_ok());
    const std::string msg = load_error(bad);
    EXPECT_NE(msg.find("gemma3.attention.sliding_window: required key is missing"), std::string::npos) << msg;
  }
  {
    Rewrite r;
    r.tensor = adding("rope_factors_short.weight", std::vector<float>(8, 1.0f));
    expect_error(phi, r, "tensor 'rope_factors_long.weight': required tensor is missing (LongRoPE needs both factor sets)");
  }
  {
    Rewrite r;
    r.tensor = adding("rope_freqs.weight", std::vector<float>(8, 0.0f));
    expect_error(llama, r, "tensor 'rope_freqs.weight': RoPE frequency factors must be finite and > 0");
  }
  for (const std::string& p : {llama, g3, phi, q3, bad}) std::remove(p.c_str());
}

TEST(Families, PhiLongRopeFactorsFollowTheContext) {
  ModelShape s = tiny("phi3");
  s.rope_extra = RopeExtra::kLongRope;
  s.n_ctx = 8192;  // original 4096: the long factors serve contexts above it
  const std::string p = write_tiny(s, "lr.gguf");
  auto m = Model::load(p);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  const ModelConfig& c = m.value()->config();
  EXPECT_EQ(c.rope_long_after, 4096);
  EXPECT_EQ(&c.rope_factors_for(4096), &c.rope_freq_factors);
  EXPECT_EQ(&c.rope_factors_for(4097), &c.rope_freq_factors_long);
  EXPECT_FLOAT_EQ(c.rope_attn_factor, (float)std::sqrt(1.0 + std::log(2.0) / std::log(4096.0)));
  std::remove(p.c_str());
}

TEST(Families, GeluTableIsLlamaCppsFp16Table) {
  // gelu_tanh_mul = fp16(gelu(fp16(x))) inside (-10, 10), 0 below, the identity above; NaN stays NaN.
  std::vector<float> xs = {-20.0f, -10.0f, -9.99f, -3.0f, -1e-8f, 0.0f, 1e-8f, 0.5f, 1.0f, 2.5f, 9.99f, 10.0f, 50.0f, std::nanf("")};
  for (int i = 0; i < 2000; ++i) xs.push_back(-12.0f + 24.0f * (float)i / 2000.0f);
  std::vector<float> g = xs, ones(xs.size(), 1.0f);
  gelu_tanh_mul(g.data(), ones.data(), (int64_t)g.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const float x = xs[i];
    if (std::isnan(x)) {
      EXPECT_TRUE(std::isnan(g[i]));
      continue;
    }
    const float want = x <= -10.0f ? 0.0f : x >= 10.0f ? x : fp16_to_float(float_to_fp16(gelu_tanh_exact(fp16_to_float(float_to_fp16(x)))));
    EXPECT_EQ(g[i], want) << x;
    // fp16 input and output rounding: within 2^-10 relative of the exact value (plus the input's own rounding slope, < 1.2)
    EXPECT_NEAR(g[i], gelu_tanh_exact(x), 2.2e-3 * std::fabs(gelu_tanh_exact(x)) + 2.2e-3 * std::fabs(x) + 1e-6) << x;
  }
  std::vector<float> up = {2.0f, -3.0f};
  std::vector<float> gate = {1.0f, 1.0f};
  gelu_tanh_mul(gate.data(), up.data(), 2);
  EXPECT_FLOAT_EQ(gate[1], -1.5f * gate[0]);
}

}  // namespace
}  // namespace pocket
