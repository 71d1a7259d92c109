// The `pocket` binary: bad input gives a clear message and a non-zero exit code, never a crash.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace pocket {
namespace {

using test::run_command;

std::string model260k() { return test::shared("golden/stories260K-f32.llamacpp.gguf"); }

TEST(Cli, RunStreamsAndReportsStats) {
  const auto r = run_command(test::cli() + " run -m " + model260k() + " -p 'Once upon a time' -n 20 --temp 0.8 --seed 1 -t 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Once upon a time", 0), 0u);
  for (const char* k : {"load:", "prompt:", "tokens/s", "generation:", "peak RSS"}) EXPECT_NE(r.err.find(k), std::string::npos) << k;
}

TEST(Cli, InfoPrintsArchitectureAndTensors) {
  const auto r = run_command(test::cli() + " info " + test::shared("golden/stories15M-q4_0.llamacpp.gguf"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* k : {"architecture: llama", "n_head_kv 6", "Q4_0", "Q8_0", "output.weight", "bits per weight"})
    EXPECT_NE(r.out.find(k), std::string::npos) << k;
}

// pocket grammar: a schema's GBNF is a grammar the checker (and the model's vocabulary) accepts; bad
// grammars name their rule or place.
TEST(Cli, GrammarPrintsASchemasGbnfAndChecksGrammars) {
  const std::string schema = test::source_dir() + "/bench/grammar_schema.json";
  const auto r = run_command(test::cli() + " grammar --json-schema " + schema);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("root ::= ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\\\"characters\\\""), std::string::npos) << r.out;  // the key, a GBNF literal
  const std::string gbnf = test::temp_path("schema.gbnf");
  std::ofstream(gbnf) << r.out;
  const auto c = run_command(test::cli() + " grammar --grammar " + gbnf + " -m " + model260k());
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("compiled against the vocabulary"), std::string::npos) << c.out;
  std::ofstream(gbnf) << "root ::= item+\nitem ::= \"a\" missing\n";
  const auto bad = run_command(test::cli() + " grammar --grammar " + gbnf);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("'missing'"), std::string::npos) << bad.err;
  const auto both = run_command(test::cli() + " grammar --grammar " + gbnf + " --json-schema " + schema);
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.err.find("not both"), std::string::npos) << both.err;
  std::remove(gbnf.c_str());
}

struct BadCase {
  const char* name;
  std::string args;
  int exit_code;
  const char* message;
};

// pocket tokenize on a GGUF and on a tokenizer.json directory; the tokenizer.json layouts we do not
// implement are refused by field (the corpus comparison with @huggingface/tokenizers is
// Tokenizers.MatchHuggingFace).
TEST(Cli, TokenizeAndItsBadInputs) {
  const auto g = run_command(test::cli() + " tokenize -m " + test::shared("golden/stories15M-f32.llamacpp.gguf") + " --ids 'Hello world'");
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(g.out, "1 15043 3186\n");
  const std::string hf = test::shared("models/TinyStories-656K");
  const auto t = run_command(test::cli() + " tokenize -m " + hf + " 'Once upon a time'");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.out.rfind("1\t\"<|start_story|>\"\n", 0), 0u) << t.out;
  const auto ids = run_command(test::cli() + " tokenize -m " + hf + "/tokenizer.json --ids --no-bos 'Once upon a time'");
  ASSERT_EQ(ids.exit_code, 0) << ids.err;
  const auto back = run_command(test::cli() + " tokenize -m " + hf + " --from-ids '" + ids.out.substr(0, ids.out.size() - 1) + "'");
  EXPECT_EQ(back.out, "Once upon a time\n") << back.err;

  nlohmann::json base = nlohmann::json::parse(test::read_file(hf + "/tokenizer.json"));
  struct Layout {
    const char* name;
    std::function<void(nlohmann::json&)> edit;
    const char* message;
  };
  const std::vector<Layout> layouts = {
      {"byte-level with NFKC",
       [](nlohmann::json& j) {
         j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
         j["normalizer"] = {{"type", "NFKC"}};
       },
       "normalizer: 'NFKC' is not supported with the gpt-2 pre-tokenizer"},
      {"ignore_merges without llama-bpe",
       [](nlohmann::json& j) {
         j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
         j["normalizer"] = nullptr;
         j["model"]["ignore_merges"] = true;
       },
       "model.ignore_merges: true with the gpt-2 pre-tokenizer"},
      {"Metaspace pre-tokenizer",
       [](nlohmann::json& j) {
         j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\u2581"}};
       },
       "pre_tokenizer: 'Metaspace' is not supported"},
      {"lowercasing normalizer",
       [](nlohmann::json& j) {
         j["normalizer"]["normalizers"].push_back({{"type", "Lowercase"}});
       },
       "normalizer: step 'Lowercase' is not supported"},
      {"added token with lstrip", [](nlohmann::json& j) { j["added_tokens"][1]["lstrip"] = true; },
       "added_tokens[1].lstrip: true is not supported (token '<|start_story|>')"},
      {"word suffix", [](nlohmann::json& j) { j["model"]["end_of_word_suffix"] = "</w>"; }, "model.end_of_word_suffix: '</w>' is not supported"},
      {"not BPE", [](nlohmann::json& j) { j["model"]["type"] = "Unigram"; }, "model.type: only BPE tokenizers are supported"},
  };
  const std::string dir = test::temp_path("tokjson");
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  for (const Layout& l : layouts) {
    nlohmann::json j = base;
    l.edit(j);
    std::ofstream(dir + "/tokenizer.json") << j.dump();
    const auto r = run_command(test::cli() + " tokenize -m " + dir + " hi");
    EXPECT_EQ(r.exit_code, 1) << l.name << "\n" << r.out;
    EXPECT_NE(r.err.find(dir + "/tokenizer.json: " + l.message), std::string::npos) << l.name << ": " << r.err;
  }
  const std::vector<BadCase> cases = {
      {"tokenize: two inputs", "tokenize -m " + hf + " hi -f " + hf + "/config.json", 1, "give exactly one of TEXT, -f/--file, --from-ids"},
      {"tokenize: an id outside the vocabulary", "tokenize -m " + hf + " --from-ids 1,2048", 1,
       "--from-ids: '2048' is not a token id of this model (0..2047)"},
      {"tokenize: a json that is not tokenizer.json", "tokenize -m " + hf + "/config.json hi", 1, "must be named tokenizer.json"},
      {"tokenize: --split-nul without a file", "tokenize -m " + hf + " --split-nul hi", 1, "--split-nul reads documents from -f/--file"},
  };
  for (const BadCase& c : cases) {
    const auto r = run_command(test::cli() + " " + c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.name << "\n" << r.err;
    EXPECT_NE((r.err + r.out).find(c.message), std::string::npos) << c.name << ": " << r.err;
  }
  std::system(("rm -rf " + dir).c_str());
}

TEST(Cli, BadInputsTable) {
  const std::string bad_gguf = test::temp_path("bad.gguf");
  std::ofstream(bad_gguf) << "GGUF\x03";
  const std::string not_gguf = test::temp_path("text.gguf");
  std::ofstream(not_gguf) << "hello, I am not a model";
  const std::string existing = test::temp_path("exists.gguf");
  std::ofstream(existing) << "x";
  const std::vector<BadCase> cases = {
      {"unknown flag", "run -m " + model260k() + " --bogus", 2, "bogus"},
      {"missing model flag", "run -p hi", 2, "--model"},
      {"model file missing", "run -m /nonexistent.gguf", 2, "/nonexistent.gguf"},
      {"truncated gguf", "run -m " + bad_gguf, 1, "header.version: file truncated"},
      {"not a gguf", "run -m " + not_gguf, 1, "bad magic"},
      {"negative threads", "run -m " + model260k() + " -t 0", 2, "threads"},
      {"temperature not a number", "run -m " + model260k() + " --temp abc", 2, "temp"},
      {"top-p out of range", "run -m " + model260k() + " --top-p 2", 2, "top-p"},
      {"prompt longer than context", "run -m " + model260k() + " -c 4 -p 'Once upon a time there was'", 1, "but the context is 4"},
      {"info on a text file", "info " + not_gguf, 1, "bad magic"},
      {"convert without tokenizer", "convert " + test::shared("models/stories260K/stories260K.bin") + " -o " + existing, 1, "--tokenizer"},
      {"convert over an existing file",
       "convert " + test::shared("models/stories260K/stories260K.bin") + " --tokenizer " + test::shared("models/stories260K/tok512.bin") + " -o " +
           existing,
       1, "--force"},
      {"convert a missing input", "convert /nonexistent.bin -o " + existing, 1, "no such file"},
      {"no subcommand", "", 2, "subcommand"},
      {"logits: no ids", "logits -m " + model260k() + " --top 2", 1, "give exactly one of --ids and --ids-file"},
      {"logits: id outside the vocabulary", "logits -m " + model260k() + " --ids 1,512 --top 2", 1,
       "--ids: '512' is not a token id of this model (0..511)"},
      {"logits: nothing to write", "logits -m " + model260k() + " --ids 1,2", 1, "nothing to write"},
      {"unknown kv type", "run -m " + model260k() + " --kv-type q5", 2, "kv-type"},
      {"window below its sinks", "run -m " + model260k() + " --kv-window 4 --kv-sinks 4", 1, "--kv-sinks"},
      {"malformed memory budget", "run -m " + model260k() + " --mem-budget 2x", 1, "--mem-budget: '2x'"},
      {"memory budget too small", "run -m " + model260k() + " --mem-budget 1700K -c 512", 1, "fits with --ctx"},
      {"budget below the weights", "run -m " + test::shared("golden/stories15M-f32.llamacpp.gguf") + " --mem-budget 20M", 1,
       "weights and activations alone"},
      {"quantize: bad group", "quantize " + model260k() + " " + existing + " --type q4_0 --group 48 --force", 1, "--group: 48"},
      {"quantize: a type we cannot write", "quantize " + model260k() + " " + existing + " --type q8_1 --force", 1, "cannot quantize to Q8_1"},
      {"quantize: an unknown preset", "quantize " + model260k() + " " + existing + " --type q4_k_x --force", 1, "unknown type 'q4_k_x' (q8_0, q6_k"},
      {"quantize: a preset with a bits target",
       "quantize " + model260k() + " " + existing + " --type q4_k_m --target-bpw 5 --calib " + existing + " --force", 1, "preset q4_k_m"},
      {"quantize: gptq into a k-quant", "quantize " + model260k() + " " + existing + " --type q4_k_m --method gptq --calib " + existing + " --force",
       1, "--method"},
      {"quantize: group not a number", "quantize " + model260k() + " " + existing + " --group abc --force", 1, "--group: 'abc'"},
      {"quantize: gptq without calibration", "quantize " + model260k() + " " + existing + " --type q4_0 --method gptq --force", 1, "--calib"},
      {"quantize: awq to f16",
       "quantize " + model260k() + " " + existing + " --type f16 --method awq --calib " + test::shared("data/stories-calib.txt") + " --force", 1,
       "integer --type"},
      {"quantize: unknown method", "quantize " + model260k() + " " + existing + " --method hqq", 2, "method"},
      {"quantize: prune with gptq",
       "quantize " + model260k() + " " + existing + " --type q4_0 --method gptq --prune wanda --calib " + test::shared("data/stories-calib.txt") +
           " --force",
       1, "--prune"},
      {"quality: calibrating on the evaluation text",
       "quality -m " + model260k() + " --calib " + test::shared("data/stories-eval.txt") + " -f " + test::shared("data/stories-eval.txt"), 1,
       "overlaps the evaluation text"},
      {"draft with another vocabulary", "run -m " + test::shared("golden/stories15M-f32.llamacpp.gguf") + " --draft " + model260k(), 1,
       "same vocabulary"},
      {"two draft modes", "run -m " + model260k() + " --lookup --self-draft-layers 2", 1, "choose one of"},
      {"draft-max out of range", "run -m " + model260k() + " --lookup --draft-max 0", 2, "draft-max"},
      {"self-draft with all layers", "run -m " + model260k() + " --self-draft-layers 5", 1, "a self-draft must use fewer"},
      {"self-draft to an unknown type", "run -m " + model260k() + " --self-draft-type q3", 1, "--self-draft-type 'q3'"},
      {"quality without eval text", "quality -m " + model260k() + " --calib " + test::shared("data/stories-calib.txt"), 2, "--eval"},
  };
  for (const BadCase& c : cases) {
    const auto r = run_command(test::cli() + " " + c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.name << "\n" << r.err;
    EXPECT_NE((r.err + r.out).find(c.message), std::string::npos) << c.name << ": " << r.err;
  }
  EXPECT_EQ(test::read_file(existing), "x");  // never overwritten without --force
  std::remove(bad_gguf.c_str());
  std::remove(not_gguf.c_str());
  std::remove(existing.c_str());
}

}  // namespace
}  // namespace pocket

namespace pocket {
namespace {

TEST(Cli, BenchWritesJsonWithBothTests) {
  const auto r = run_command(test::cli() + " bench -m " + test::shared("golden/stories260K-f32.llamacpp.gguf") +
                             " -p 16 -n 8 -t 1,2 -r 2 -o json --no-bandwidth");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 4u);  // (pp16, tg8) x (1, 2 threads)
  for (const auto& row : j) {
    EXPECT_GT(row["tokens_per_s"].get<double>(), 0.0);
    EXPECT_GT(row["bytes_per_token"].get<double>(), 0.0);
  }
  EXPECT_EQ(j[0]["test"], "pp16");
  EXPECT_EQ(j[1]["test"], "tg8");
  const auto csv =
      run_command(test::cli() + " bench -m " + test::shared("golden/stories260K-f32.llamacpp.gguf") + " -p 8 -n 0 -r 1 -o csv --no-bandwidth");
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("model,types,", 0), 0u);
}

TEST(Cli, BenchReportsLoadAndTimeToFirstToken) {
  const auto r =
      run_command(test::cli() + " bench -m " + test::shared("golden/stories260K-f32.llamacpp.gguf") + " -p 24 -n 4 -t 1 -r 1 -o json --no-bandwidth");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  for (const auto& row : j) {
    EXPECT_GT(row["load_s"].get<double>(), 0.0);
    EXPECT_GT(row["first_prompt_s"].get<double>(), 0.0);
    EXPECT_EQ(row["first_prompt_tokens"], 24);  // the first -p test's length
    EXPECT_DOUBLE_EQ(row["time_to_first_token_s"].get<double>(), row["load_s"].get<double>() + row["first_prompt_s"].get<double>());
  }
  EXPECT_EQ(j[0]["load_s"], j[1]["load_s"]);  // one load per (model, threads)
  const auto md = run_command(test::cli() + " bench -m " + test::shared("golden/stories260K-f32.llamacpp.gguf") + " -p 8 -n 0 -r 1 --no-bandwidth");
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("| load s | time to first token s |"), std::string::npos) << md.out;
}

TEST(Cli, MapModesLoadTheSameModelAndABadOneIsAnError) {
  const std::string base = " run -m " + test::shared("golden/stories260K-f32.llamacpp.gguf") + " -n 12 --temp 0";
  const auto plain = run_command(test::cli() + base);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  for (const char* mode : {"willneed", "populate", "copy", "default"}) {
    const auto r = run_command(std::string("POCKET_MMAP=") + mode + " " + test::cli() + base);
    ASSERT_EQ(r.exit_code, 0) << mode << ": " << r.err;
    EXPECT_EQ(r.out, plain.out) << mode;
  }
  const auto bad = run_command("POCKET_MMAP=eager " + test::cli() + base);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("POCKET_MMAP: unknown mode 'eager' (default, willneed, populate, copy)"), std::string::npos) << bad.err;
}

// Copy mode under packing: a tied Q4_0 head is packed, its rows' copied pages are replaced by the file's
// (release_pages), and the embedding lookups read those rows again: the text must not change.
TEST(Cli, CopyModeKeepsReleasedRowsReadable) {
  const std::string q4 = test::temp_path("tied-q4_0.gguf");
  const auto qz = run_command(test::cli() + " quantize " + test::shared("golden/stories15M-f32.llamacpp.gguf") + " " + q4 + " --type q4_0");
  ASSERT_EQ(qz.exit_code, 0) << qz.err;
  const std::string base = " run -m " + q4 + " -p \"Once upon a time\" -n 24 --temp 0";
  const auto plain = run_command("POCKET_KERNEL_CHOICE=single " + test::cli() + base);  // packed wherever the table can
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const auto copy = run_command("POCKET_KERNEL_CHOICE=single POCKET_MMAP=copy " + test::cli() + base);
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  EXPECT_EQ(copy.out, plain.out);
  EXPECT_GT(plain.out.size(), 20u);
}

TEST(Cli, SynthWritesALoadableModelOfTheRightShape) {
  const std::string out = test::temp_path("synth.gguf");
  const auto r = run_command(test::cli() + " synth --shape qwen2.5-0.5b --layers 2 --type q8_0 --force -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto info = run_command(test::cli() + " info " + out);
  ASSERT_EQ(info.exit_code, 0) << info.err;
  for (const char* k : {"architecture: qwen2", "n_vocab 151936", "n_embd 896", "n_head 14, n_head_kv 2", "neox", "attn_q.bias"})
    EXPECT_NE(info.out.find(k), std::string::npos) << k;
  const auto run = run_command(test::cli() + " run -m " + out + " -p hi -n 4 --temp 0 -c 64");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run_command(test::cli() + " synth --shape nope -o " + out).err.find("unknown shape"), std::string::npos);
  std::remove(out.c_str());
}

TEST(Cli, SysinfoMeasuresBandwidth) {
  const auto r = run_command(test::cli() + " sysinfo -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("memory bandwidth, 1 thread: read"), std::string::npos);
  EXPECT_NE(r.out.find("kernels: "), std::string::npos);
  EXPECT_NE(r.out.find("decode kernels"), std::string::npos);
}

// POCKET_KERNEL_CHOICE=single|multi force the decode variant without measuring; POCKET_KERNELS=ref has
// no multi-row kernels to choose. (Only what is printed is checked: nothing here times anything.)
TEST(Cli, SysinfoShowsForcedDecodeKernelChoices) {
  for (const char* v : {"single", "multi"}) {
    const auto r = run_command("POCKET_KERNELS=avx2 POCKET_KERNEL_CHOICE=" + std::string(v) + " " + test::cli() + " sysinfo --no-bandwidth");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    if (r.out.find("kernels: avx2") == std::string::npos) GTEST_SKIP() << "no AVX2 table on this CPU/build";
    EXPECT_NE(r.out.find("forced by POCKET_KERNEL_CHOICE=" + std::string(v)), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Q8_0  cols<=1024  ( 576 cols): " + std::string(v)), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Q4_0  cols>3072   (4096 cols): " + std::string(v)), std::string::npos) << r.out;
  }
  const auto ref = run_command("POCKET_KERNELS=ref POCKET_KERNEL_CHOICE=multi " + test::cli() + " sysinfo --no-bandwidth");
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  EXPECT_NE(ref.out.find("ref: single-row everywhere"), std::string::npos) << ref.out;
}

// A misspelt kernel variable is an error before anything loads, never a silent fallback to auto.
TEST(Cli, UnknownKernelVariablesAreErrors) {
  const std::string run = " " + test::cli() + " run -m " + test::shared("golden/stories15M-f32.llamacpp.gguf") + " -p hi -n 1";
  const auto table = run_command("POCKET_KERNELS=avx9" + run);
  EXPECT_EQ(table.exit_code, 1) << table.err;
  EXPECT_NE(table.err.find("POCKET_KERNELS: unknown kernel table 'avx9' (auto, ref, "), std::string::npos) << table.err;
  const auto mode = run_command("POCKET_KERNEL_CHOICE=fastest" + run);
  EXPECT_EQ(mode.exit_code, 1) << mode.err;
  EXPECT_NE(mode.err.find("POCKET_KERNEL_CHOICE: unknown mode 'fastest' (auto, probe, single, multi)"), std::string::npos) << mode.err;
  const auto sysinfo = run_command("POCKET_KERNEL_CHOICE=fastest " + test::cli() + " sysinfo --no-bandwidth");
  EXPECT_EQ(sysinfo.exit_code, 1) << sysinfo.err;
  EXPECT_NE(sysinfo.err.find("POCKET_KERNEL_CHOICE: unknown mode"), std::string::npos) << sysinfo.err;
}

}  // namespace
}  // namespace pocket

namespace pocket {
namespace {

TEST(Cli, SpeculativeRunMatchesPlainAndBenchReportsTheSpeedup) {
  const std::string base = test::cli() + " run -m " + model260k() + " -p 'Once upon a time' -n 40 --temp 0 -t 2 --no-bos-stop";
  const auto plain = run_command(base);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  for (const char* mode : {"--lookup", "--self-draft-type q8_0 --draft-max 4", "--self-draft-layers 2 --no-adaptive"}) {
    const auto spec = run_command(base + " " + mode);
    ASSERT_EQ(spec.exit_code, 0) << mode << ": " << spec.err;
    EXPECT_EQ(spec.out, plain.out) << mode;
    EXPECT_NE(spec.err.find("drafted tokens accepted"), std::string::npos) << spec.err;
  }
  const auto b = run_command(test::cli() + " bench -m " + model260k() + " --self-draft-type q8_0 -n 24 -t 1 -r 2 -o json");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto j = nlohmann::json::parse(b.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_GT(j[0]["speedup"].get<double>(), 0.0);
  EXPECT_GT(j[0]["acceptance"].get<double>(), 0.5);  // a Q8_0 copy agrees with its F32 original
  EXPECT_TRUE(j[0]["same_tokens"].get<bool>());
}

}  // namespace
}  // namespace pocket
