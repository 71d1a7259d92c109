// The decode kernel choice (kernels/kernel_choice): the policy (forced settings, cache, probe), the
// cache file (round trip, corrupt files ignored and replaced, atomic write) and the path it lives at.
// Nothing here times anything: the probe is replaced by a function that returns a canned result.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "kernels/kernel_choice.h"
#include "kernels/kernel_support.h"
#include "test_support.h"

namespace pocket {
namespace {

void fake_r4(int64_t, const void*, size_t, const void*, float* out4) {
  for (int j = 0; j < 4; ++j) out4[j] = 0.0f;
}

// A table with 4-row kernels for Q8_0 and Q4_0 (never called: nothing is probed for real here).
const KernelTable& r4_table() {
  static const KernelTable t = [] {
    KernelTable k = ref_kernels();
    k.name = "test-r4";
    k.vec_dot_r4[(int)TensorType::Q8_0] = fake_r4;
    k.vec_dot_r4[(int)TensorType::Q4_0] = fake_r4;
    return k;
  }();
  return t;
}

const std::string kCpu = "Test CPU 9000 (family 25 model 1 stepping 1)";

// What a probe "measured": multi for Q8_0 on narrow and mid rows, single elsewhere.
KernelChoice canned_probe(const KernelTable& kt) {
  KernelChoice c = forced_kernel_choice(kt, RowVariant::kSingle);
  c.source = ChoiceSource::kProbe;
  c.probe_bytes = size_t(64) << 20;
  c.probe_seconds = 0.25;
  for (KernelChoiceEntry& e : c.entries) {
    e.single_gbps = 10.0 + e.width_class;
    e.multi_gbps = e.type == TensorType::Q8_0 && e.width_class < 2 ? 12.5 : 9.75;
    e.variant = e.multi_gbps > e.single_gbps ? RowVariant::kMulti : RowVariant::kSingle;
  }
  apply_entries(kt, &c);
  return c;
}

struct CountingProbe {
  int calls = 0;
  KernelProbeFn fn() {
    return [this](const KernelTable& kt) {
      ++calls;
      return canned_probe(kt);
    };
  }
};

KernelProbeFn no_probe() {
  return [](const KernelTable& kt) {
    ADD_FAILURE() << "probed, but this setting must not measure";
    return forced_kernel_choice(kt, RowVariant::kSingle);
  };
}

class KernelChoiceCache : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_path("kernel_choice_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    path_ = kernel_choice_cache_path(dir_.c_str(), nullptr, kCpu, r4_table().name);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write_raw(const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
    std::ofstream(path_, std::ios::binary) << text;
  }
  std::string dir_, path_;
};

void expect_same_choices(const KernelChoice& a, const KernelChoice& b) {
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (size_t i = 0; i < a.entries.size(); ++i) {
    EXPECT_EQ(a.entries[i].type, b.entries[i].type) << i;
    EXPECT_EQ(a.entries[i].width_class, b.entries[i].width_class) << i;
    EXPECT_EQ(a.entries[i].variant, b.entries[i].variant) << i;
    EXPECT_DOUBLE_EQ(a.entries[i].single_gbps, b.entries[i].single_gbps) << i;
    EXPECT_DOUBLE_EQ(a.entries[i].multi_gbps, b.entries[i].multi_gbps) << i;
    EXPECT_DOUBLE_EQ(a.entries[i].packed_gbps, b.entries[i].packed_gbps) << i;
    EXPECT_EQ(a.entries[i].packed, b.entries[i].packed) << i;
  }
  for (int t = 0; t < kTypeSlots; ++t)
    for (int wc = 0; wc < kWidthClasses; ++wc) {
      EXPECT_EQ(a.multi[t][wc], b.multi[t][wc]) << t << " " << wc;
      EXPECT_EQ(a.pack[t][wc], b.pack[t][wc]) << t << " " << wc;
    }
}

TEST(KernelChoice, WidthClassBoundaries) {
  EXPECT_EQ(width_class(288), 0);
  EXPECT_EQ(width_class(576), 0);
  EXPECT_EQ(width_class(1024), 0);
  EXPECT_EQ(width_class(1025), 1);
  EXPECT_EQ(width_class(2048), 1);
  EXPECT_EQ(width_class(3072), 1);
  EXPECT_EQ(width_class(3073), 2);
  EXPECT_EQ(width_class(11008), 2);
  for (int wc = 0; wc < kWidthClasses; ++wc) EXPECT_EQ(width_class(width_class_probe_cols(wc)), wc);
}

TEST(KernelChoice, ParsesTheEnvironmentSetting) {
  bool unknown = true;
  EXPECT_EQ(parse_kernel_choice_mode(nullptr, &unknown), KernelChoiceMode::kAuto);
  EXPECT_FALSE(unknown);
  EXPECT_EQ(parse_kernel_choice_mode("", &unknown), KernelChoiceMode::kAuto);
  EXPECT_EQ(parse_kernel_choice_mode("auto", &unknown), KernelChoiceMode::kAuto);
  EXPECT_EQ(parse_kernel_choice_mode("probe", &unknown), KernelChoiceMode::kProbe);
  EXPECT_EQ(parse_kernel_choice_mode("single", &unknown), KernelChoiceMode::kSingle);
  EXPECT_EQ(parse_kernel_choice_mode("multi", &unknown), KernelChoiceMode::kMulti);
  EXPECT_FALSE(unknown);
  EXPECT_EQ(parse_kernel_choice_mode("fastest", &unknown), KernelChoiceMode::kAuto);
  EXPECT_TRUE(unknown);
}

TEST(KernelChoice, CachePathFromTheEnvironment) {
  EXPECT_EQ(kernel_choice_cache_path("/c", "/home/u", kCpu, "avx2"), "/c/pocket/kernel-choice-Test_CPU_9000_family_25_model_1_stepping_1-avx2.json");
  EXPECT_EQ(kernel_choice_cache_path("", "/home/u", "AMD EPYC", "avx512vnni"), "/home/u/.cache/pocket/kernel-choice-AMD_EPYC-avx512vnni.json");
  EXPECT_EQ(kernel_choice_cache_path(nullptr, "/home/u", "../../etc/x y", "neon-dotprod"),
            "/home/u/.cache/pocket/kernel-choice-.._.._etc_x_y-neon-dotprod.json");  // no '/' survives
  EXPECT_EQ(kernel_choice_cache_path(nullptr, nullptr, kCpu, "avx2"), "");
  EXPECT_EQ(kernel_choice_cache_path("", "", kCpu, "avx2"), "");
}

TEST_F(KernelChoiceCache, RoundTrips) {
  KernelChoice c = canned_probe(r4_table());
  c.cpu = kCpu;
  ASSERT_TRUE(write_kernel_choice(path_, c).is_ok());  // creates the directories
  EXPECT_FALSE(test::file_exists(path_ + ".tmp." + std::to_string(::getpid())));
  Result<KernelChoice> back = read_kernel_choice(path_, r4_table(), kCpu);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(back->source, ChoiceSource::kCache);
  EXPECT_EQ(back->cache_path, path_);
  EXPECT_EQ(back->probe_bytes, c.probe_bytes);
  expect_same_choices(*back, c);
  EXPECT_TRUE(back->use_multi(TensorType::Q8_0, 576));
  EXPECT_TRUE(back->use_multi(TensorType::Q8_0, 2048));
  EXPECT_FALSE(back->use_multi(TensorType::Q8_0, 4096));
  EXPECT_FALSE(back->use_multi(TensorType::Q4_0, 576));
}

TEST_F(KernelChoiceCache, ValidCacheIsUsedWithoutProbing) {
  KernelChoice c = canned_probe(r4_table());
  c.cpu = kCpu;
  ASSERT_TRUE(write_kernel_choice(path_, c).is_ok());
  const KernelChoice got = select_kernel_choice(r4_table(), KernelChoiceMode::kAuto, path_, kCpu, no_probe());
  EXPECT_EQ(got.source, ChoiceSource::kCache);
  EXPECT_EQ(got.cache_path, path_);
  expect_same_choices(got, c);
}

TEST_F(KernelChoiceCache, MissingCacheIsProbedAndWritten) {
  CountingProbe probe;
  const KernelChoice got = select_kernel_choice(r4_table(), KernelChoiceMode::kAuto, path_, kCpu, probe.fn());
  EXPECT_EQ(probe.calls, 1);
  EXPECT_EQ(got.source, ChoiceSource::kProbe);
  EXPECT_EQ(got.cache_path, path_);
  Result<KernelChoice> back = read_kernel_choice(path_, r4_table(), kCpu);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  expect_same_choices(*back, got);
  // A second process finds it.
  EXPECT_EQ(select_kernel_choice(r4_table(), KernelChoiceMode::kAuto, path_, kCpu, no_probe()).source, ChoiceSource::kCache);
}

TEST_F(KernelChoiceCache, CorruptCacheIsIgnoredAndReplaced) {
  KernelChoice valid = canned_probe(r4_table());
  valid.cpu = kCpu;
  ASSERT_TRUE(write_kernel_choice(path_, valid).is_ok());
  const std::string good = test::read_file(path_);
  auto edited = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? s : s.replace(at, from.size(), to);
  };
  const std::vector<std::string> bad = {
      "",
      "{",
      std::string("\x00\xff garbage", 10),
      "[1, 2, 3]",
      good.substr(0, good.size() / 2),                                  // truncated
      edited("\"pocket kernel choice\"", "\"something else\""),         // not ours
      edited("\"version\": 4", "\"version\": 99"),                      // another version
      edited("\"version\": 4", "\"version\": 1"),                       // the version before packed rows
      edited("\"version\": 4", "\"version\": 2"),                       // the version before packed Q4_K
      edited("\"version\": 4", "\"version\": 3"),                       // the version before one fma per block
      edited("\"version\": 4", "\"version\": \"4\""),                   // wrong JSON type
      edited("\"packed\": ", "\"packd\": "),                            // a decision missing
      edited("\"packed\": false", "\"packed\": 0"),                     // wrong JSON type
      edited("\"packed_gbps\": 0.0", "\"packed_gbps\": -3.0"),          // impossible rate
      edited("Test CPU 9000", "Other CPU"),                             // another CPU
      edited("\"test-r4\"", "\"avx2\""),                                // another table
      edited("\"variant\": \"multi\"", "\"variant\": \"fastest\""),     // unknown variant
      edited("\"single_gbps\": 10.0", "\"single_gbps\": -1.0"),         // impossible rate
      edited("\"single_gbps\": 10.0", "\"single_gbps\": \"fast\""),     // wrong JSON type
      edited("\"type\": \"Q4_0\"", "\"type\": \"Q4_1\""),               // a choice the table cannot make
      edited("\"width\": \"cols>3072\"", "\"width\": \"cols<=1024\""),  // a class missing (another twice)
      edited("\"choices\": [", "\"choices\": 7, \"x\": ["),             // choices not an array
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    write_raw(bad[i]);
    EXPECT_FALSE(read_kernel_choice(path_, r4_table(), kCpu).is_ok()) << "bad file " << i;
    CountingProbe probe;
    const KernelChoice got = select_kernel_choice(r4_table(), KernelChoiceMode::kAuto, path_, kCpu, probe.fn());
    EXPECT_EQ(probe.calls, 1) << "bad file " << i;
    EXPECT_EQ(got.source, ChoiceSource::kProbe) << "bad file " << i;
    EXPECT_FALSE(got.note.empty()) << "bad file " << i;  // says why the cache was not used
    Result<KernelChoice> back = read_kernel_choice(path_, r4_table(), kCpu);
    ASSERT_TRUE(back.is_ok()) << "bad file " << i << " not replaced: " << back.status().message();
    expect_same_choices(*back, got);
  }
}

TEST_F(KernelChoiceCache, ForcedSettingsNeverProbeNorTouchTheCache) {
  for (KernelChoiceMode mode : {KernelChoiceMode::kSingle, KernelChoiceMode::kMulti}) {
    const bool multi = mode == KernelChoiceMode::kMulti;
    std::filesystem::remove_all(dir_);
    KernelChoice got = select_kernel_choice(r4_table(), mode, path_, kCpu, no_probe());
    EXPECT_FALSE(test::file_exists(path_));
    EXPECT_EQ(got.source, ChoiceSource::kForced);
    EXPECT_EQ(got.entries.size(), 2u * kWidthClasses);
    for (const KernelChoiceEntry& e : got.entries) EXPECT_EQ(e.variant, multi ? RowVariant::kMulti : RowVariant::kSingle);
    for (int64_t cols : {288, 576, 2048, 4096, 5632}) {
      EXPECT_EQ(got.use_multi(TensorType::Q8_0, cols), multi) << cols;
      EXPECT_EQ(got.use_multi(TensorType::Q4_0, cols), multi) << cols;
      EXPECT_FALSE(got.use_multi(TensorType::F32, cols));  // no 4-row kernel: never multi
      EXPECT_FALSE(got.use_multi(TensorType::Q4_1, cols));
    }
    // A valid cache that says otherwise does not override the forced setting, and stays as it was.
    KernelChoice cached = forced_kernel_choice(r4_table(), multi ? RowVariant::kSingle : RowVariant::kMulti);
    cached.cpu = kCpu;
    ASSERT_TRUE(write_kernel_choice(path_, cached).is_ok());
    const std::string before = test::read_file(path_);
    got = select_kernel_choice(r4_table(), mode, path_, kCpu, no_probe());
    EXPECT_EQ(got.use_multi(TensorType::Q8_0, 4096), multi);
    EXPECT_EQ(test::read_file(path_), before);
  }
  // Through the environment variable's spelling, as the process-wide lookup reads it.
  EXPECT_EQ(select_kernel_choice(r4_table(), parse_kernel_choice_mode("single"), path_, kCpu, no_probe()).use_multi(TensorType::Q4_0, 576), false);
  EXPECT_EQ(select_kernel_choice(r4_table(), parse_kernel_choice_mode("multi"), path_, kCpu, no_probe()).use_multi(TensorType::Q4_0, 576), true);
}

TEST_F(KernelChoiceCache, ProbeSettingRemeasuresDespiteAValidCache) {
  KernelChoice cached = forced_kernel_choice(r4_table(), RowVariant::kMulti);
  cached.cpu = kCpu;
  ASSERT_TRUE(write_kernel_choice(path_, cached).is_ok());
  CountingProbe probe;
  const KernelChoice got = select_kernel_choice(r4_table(), parse_kernel_choice_mode("probe"), path_, kCpu, probe.fn());
  EXPECT_EQ(probe.calls, 1);
  EXPECT_EQ(got.source, ChoiceSource::kProbe);
  Result<KernelChoice> back = read_kernel_choice(path_, r4_table(), kCpu);
  ASSERT_TRUE(back.is_ok());
  expect_same_choices(*back, canned_probe(r4_table()));  // rewritten with the new measurement
}

TEST_F(KernelChoiceCache, UnwritableCacheKeepsTheResultInMemory) {
  CountingProbe probe;
  KernelChoice got = select_kernel_choice(r4_table(), KernelChoiceMode::kAuto, "", kCpu, probe.fn());  // HOME, XDG_CACHE_HOME unset
  EXPECT_EQ(probe.calls, 1);
  EXPECT_EQ(got.source, ChoiceSource::kProbe);
  EXPECT_TRUE(got.cache_path.empty());
  expect_same_choices(got, canned_probe(r4_table()));
  // A cache "directory" that is a regular file: nothing can be created under it.
  write_raw("not a directory");
  const std::string under_file = path_ + "/pocket/kernel-choice.json";
  got = select_kernel_choice(r4_table(), KernelChoiceMode::kAuto, under_file, kCpu, probe.fn());
  EXPECT_EQ(probe.calls, 2);
  EXPECT_EQ(got.source, ChoiceSource::kProbe);
  EXPECT_TRUE(got.cache_path.empty());
  EXPECT_NE(got.note.find("kept in memory only"), std::string::npos) << got.note;
  expect_same_choices(got, canned_probe(r4_table()));
}

TEST_F(KernelChoiceCache, TableWithoutMultiRowKernelsChoosesNothing) {
  for (KernelChoiceMode mode : {KernelChoiceMode::kAuto, KernelChoiceMode::kProbe, KernelChoiceMode::kMulti}) {
    const KernelChoice got = select_kernel_choice(ref_kernels(), mode, path_, kCpu, no_probe());  // POCKET_KERNELS=ref
    EXPECT_EQ(got.source, ChoiceSource::kNone);
    EXPECT_TRUE(got.entries.empty());
    EXPECT_FALSE(got.use_multi(TensorType::Q8_0, 576));
    EXPECT_FALSE(test::file_exists(path_));
  }
}

TEST(KernelChoice, EntriesNeverEnableAMissingKernel) {
  KernelChoice c = forced_kernel_choice(r4_table(), RowVariant::kMulti);
  c.entries.push_back({TensorType::F32, 0, RowVariant::kMulti, 0, 0});
  apply_entries(r4_table(), &c);
  EXPECT_FALSE(c.use_multi(TensorType::F32, 576));
  apply_entries(ref_kernels(), &c);  // the same decisions against a table without 4-row kernels
  EXPECT_FALSE(c.use_multi(TensorType::Q8_0, 576));
  // A packed decision counts only where the table has the packed kernel.
  for (KernelChoiceEntry& e : c.entries) e.packed = true;
  apply_entries(r4_table(), &c);
  EXPECT_FALSE(c.use_packed(TensorType::Q4_0, 576));
  for (const KernelTable* kt : test::kernel_tables()) {
    KernelChoice f = forced_kernel_choice(*kt, RowVariant::kSingle);
    for (int t = 0; t < kTypeSlots; ++t)
      for (int wc = 0; wc < kWidthClasses; ++wc)
        EXPECT_EQ(f.pack[t][wc], kt->vec_dot_packed[t] != nullptr && kt->vec_dot[t] != nullptr) << kt->name << " type " << t;
  }
}

TEST(KernelChoice, ForcedChoiceCoversEveryMultiRowKernelOfEachTable) {
  for (const KernelTable* kt : test::kernel_tables()) {
    const KernelChoice c = forced_kernel_choice(*kt, RowVariant::kMulti);
    for (int t = 0; t < kTypeSlots; ++t)
      for (int wc = 0; wc < kWidthClasses; ++wc)
        EXPECT_EQ(c.multi[t][wc], kt->vec_dot_r4[t] != nullptr) << kt->name << " type " << t << " class " << wc;
  }
}

}  // namespace
}  // namespace pocket

namespace pocket {
namespace {

// The real probe on every table this CPU runs, on a small matrix: every rate measured, packed rates
// exactly where the table has a packed kernel, and each decision the one its rates and margins give.
TEST(KernelChoice, ProbeMeasuresEveryVariantAndDecidesByTheRates) {
  for (const KernelTable* kt : test::kernel_tables()) {
    KernelProbeOptions o;
    o.bytes = size_t(16) << 20;
    o.repetitions = 1;
    const KernelChoice c = probe_kernel_choice(*kt, o);
    for (const KernelChoiceEntry& e : c.entries) {
      const std::string what = std::string(kt->name) + " " + traits(e.type).name + " " + width_class_name(e.width_class);
      EXPECT_GT(e.single_gbps, 0) << what;
      EXPECT_EQ(e.multi_gbps > 0, kt->vec_dot_r4[(int)e.type] != nullptr) << what;  // Q4_K: packed or single rows
      EXPECT_EQ(e.packed_gbps > 0, kt->vec_dot_packed[(int)e.type] != nullptr) << what;
      EXPECT_EQ(e.variant == RowVariant::kMulti, e.multi_gbps >= e.single_gbps * (1 + o.margin)) << what;
      const double rows = e.variant == RowVariant::kMulti ? e.multi_gbps : e.single_gbps;
      EXPECT_EQ(e.packed, e.packed_gbps > 0 && e.packed_gbps >= rows * (1 - o.pack_margin)) << what;
      EXPECT_EQ(c.use_packed(e.type, probe_cols(e.type, e.width_class)), e.packed) << what;
    }
  }
}

}  // namespace
}  // namespace pocket
