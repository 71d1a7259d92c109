// Constrained decoding: the GBNF parser's refusals, the matcher's per-token answer against its mask
// (the trie walk must agree with walking each token alone), UTF-8 split across tokens, the end token,
// and JSON Schema grammars whose random outputs are parsed back and checked against the schema.
#include <gtest/gtest.h>

#include <random>

#include "sampling/grammar.h"
#include "sampling/json_schema.h"

namespace pocket {
namespace {

using ordered_json = nlohmann::ordered_json;

// A vocabulary of every printable ASCII character, some multi-character pieces, the two halves of
// "é" as separate byte tokens, a control token and an end token (the last id).
std::shared_ptr<const GrammarVocab> toy_vocab() {
  std::vector<std::string> t;
  for (char c = ' '; c <= '~'; ++c) t.push_back(std::string(1, c));
  for (const char* p :
       {"\"name\"", "true", "false", "null", ": ", ", ", "{\"", "\"}", "ab", "abc", "12", "\n", "\xC3", "\xA9", "\xC3\xA9", "<ctl>", "</s>"})
    t.push_back(p);
  std::vector<bool> control(t.size(), false);
  control[t.size() - 2] = true;
  return GrammarVocab::build(t, control, {(int32_t)t.size() - 1});
}

int32_t id_of(const GrammarVocab& v, const std::string& s) {
  for (size_t i = 0; i < v.bytes.size(); ++i)
    if (v.bytes[i] == s) return (int32_t)i;
  return -1;
}

TEST(Gbnf, RefusalsNameTheRuleOrThePlace) {
  auto undefined = parse_gbnf("root ::= thing\n");
  ASSERT_FALSE(undefined.is_ok());
  EXPECT_NE(undefined.status().message().find("'thing'"), std::string::npos);
  EXPECT_NE(parse_gbnf("value ::= \"x\"\n").status().message().find("root"), std::string::npos);
  auto left = parse_gbnf("root ::= root \"x\" | \"y\"\n");
  ASSERT_FALSE(left.is_ok());
  EXPECT_NE(left.status().message().find("left-recursive"), std::string::npos);
  auto bad = parse_gbnf("root ::= \"a\"\nb ::= [z-a]\n");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(parse_gbnf("root ::= \"unterminated\n").is_ok());
  EXPECT_FALSE(parse_gbnf("root ::= \"a\"{2000}\n").is_ok());
  EXPECT_FALSE(parse_gbnf("root ::= \"\\q\"\n").is_ok());
  EXPECT_TRUE(parse_gbnf("root ::= ( [a-z] | \"\\u00e9\" )+ ws # comment\nws ::= [ \\t\\n]*\n").is_ok());
}

TEST(Grammar, MaskAgreesWithEachTokenAloneOnRandomWalks) {
  auto vocab = toy_vocab();
  const std::string json = json_object_gbnf();
  for (const std::string& gbnf : {json, std::string("root ::= \"a\"+ \"b\"? (\"c\" | \"12\"){1,3}\n"), std::string("root ::= [^\"]* \"\\\"\"\n")}) {
    auto g = Grammar::compile(gbnf, vocab);
    ASSERT_TRUE(g.is_ok()) << g.status().message();
    std::mt19937 rng(7);
    for (int walk = 0; walk < 20; ++walk) {
      int32_t state = g.value()->initial_state();
      for (int step = 0; step < 40 && state != Grammar::kDead; ++step) {
        const auto mask = g.value()->mask(state);
        std::vector<int32_t> allowed;
        for (int32_t t = 0; t < (int32_t)vocab->bytes.size(); ++t) {
          ASSERT_EQ((*mask)[(size_t)t] != 0, g.value()->allows(state, t)) << "token '" << vocab->bytes[(size_t)t] << "'";
          if ((*mask)[(size_t)t]) allowed.push_back(t);
        }
        if (allowed.empty()) break;
        const int32_t t = allowed[rng() % allowed.size()];
        if (t == (int32_t)vocab->bytes.size() - 1) break;  // the end token: complete
        state = g.value()->advance(state, t);
      }
    }
  }
}

TEST(Grammar, EndTokenOnlyWhenCompleteAndControlTokensNever) {
  auto vocab = toy_vocab();
  auto g = Grammar::compile("root ::= \"ab\" \"c\"?\n", vocab).value();
  const int32_t end = (int32_t)vocab->bytes.size() - 1, ctl = end - 1;
  int32_t s = g->initial_state();
  EXPECT_FALSE(g->allows(s, end));
  EXPECT_FALSE(g->allows(s, ctl));
  s = g->advance(s, id_of(*vocab, "ab"));
  ASSERT_NE(s, Grammar::kDead);
  EXPECT_TRUE(g->allows(s, end));
  EXPECT_TRUE(g->allows(s, id_of(*vocab, "c")));
  s = g->advance(s, id_of(*vocab, "c"));
  EXPECT_TRUE(g->complete(s));
  EXPECT_FALSE(g->allows(s, id_of(*vocab, "c")));
}

TEST(Grammar, Utf8SplitAcrossTokens) {
  auto vocab = toy_vocab();
  auto g = Grammar::compile("root ::= \"\\u00e9\" \"!\"\n", vocab).value();
  int32_t s = g->initial_state();
  EXPECT_TRUE(g->allows(s, id_of(*vocab, "\xC3\xA9")));
  EXPECT_FALSE(g->allows(s, id_of(*vocab, "\xA9")));  // a continuation byte cannot start a character
  s = g->advance(s, id_of(*vocab, "\xC3"));           // half a character: carried in the state
  ASSERT_NE(s, Grammar::kDead);
  EXPECT_FALSE(g->allows(s, id_of(*vocab, "!")));
  s = g->advance(s, id_of(*vocab, "\xA9"));
  ASSERT_NE(s, Grammar::kDead);
  EXPECT_TRUE(g->allows(s, id_of(*vocab, "!")));
  // A class without non-ASCII characters refuses a lead byte at once.
  auto ascii = Grammar::compile("root ::= [a-z]+\n", vocab).value();
  EXPECT_FALSE(ascii->allows(ascii->initial_state(), id_of(*vocab, "\xC3")));
}

// Random documents from a schema's grammar: each must parse as JSON and satisfy the schema.
std::vector<ordered_json> sample_documents(const ordered_json& schema, int n) {
  auto vocab = toy_vocab();
  auto gbnf = json_schema_to_gbnf(schema);
  EXPECT_TRUE(gbnf.is_ok()) << gbnf.status().message();
  auto g = Grammar::compile(gbnf.value(), vocab);
  EXPECT_TRUE(g.is_ok()) << g.status().message() << "\n" << gbnf.value();
  std::vector<ordered_json> out;
  std::mt19937 rng(11);
  const int32_t end = (int32_t)vocab->bytes.size() - 1;
  for (int i = 0; i < n; ++i) {
    int32_t s = g.value()->initial_state();
    std::string text;
    for (int step = 0; step < 400; ++step) {
      const auto mask = g.value()->mask(s);
      std::vector<int32_t> allowed;
      for (int32_t t = 0; t <= end; ++t)
        if ((*mask)[(size_t)t]) allowed.push_back(t);
      EXPECT_FALSE(allowed.empty());
      if (allowed.empty()) break;
      // Finish as soon as allowed after 100 steps (a walk must end), else prefer continuing.
      if ((*mask)[(size_t)end] && (step > 100 || rng() % 4 == 0)) break;
      int32_t t = allowed[rng() % allowed.size()];
      if (t == end) t = allowed[0] == end ? allowed.back() : allowed[0];
      if (t == end) break;
      text += vocab->bytes[(size_t)t];
      s = g.value()->advance(s, t);
    }
    const ordered_json doc = ordered_json::parse(text, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << text;
    out.push_back(doc);
  }
  return out;
}

TEST(JsonSchema, RandomDocumentsValidate) {
  const ordered_json schema = ordered_json::parse(R"({
    "type": "object",
    "properties": {
      "name": {"type": "string", "maxLength": 5},
      "age": {"type": "integer", "minimum": 3, "maximum": 7},
      "kind": {"enum": ["cat", "dog", 12, null]},
      "tags": {"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 3},
      "note": {"type": ["string", "null"], "maxLength": 3},
      "child": {"$ref": "#/$defs/node"}
    },
    "required": ["name", "age", "tags"],
    "$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer", "minimum": 0}}, "required": ["v"]}}
  })");
  for (const ordered_json& d : sample_documents(schema, 40)) {
    ASSERT_TRUE(d.is_object());
    ASSERT_TRUE(d.contains("name") && d["name"].is_string());
    size_t chars = 0;  // maxLength counts characters, not bytes
    for (unsigned char c : d["name"].get<std::string>()) chars += (c & 0xC0) != 0x80;
    EXPECT_LE(chars, 5u);
    ASSERT_TRUE(d.contains("age") && d["age"].is_number_integer());
    EXPECT_GE(d["age"].get<int>(), 3);
    EXPECT_LE(d["age"].get<int>(), 7);
    ASSERT_TRUE(d.contains("tags") && d["tags"].is_array());
    EXPECT_GE(d["tags"].size(), 1u);
    EXPECT_LE(d["tags"].size(), 3u);
    for (const auto& t : d["tags"]) EXPECT_TRUE(t.is_boolean());
    if (d.contains("kind")) { EXPECT_TRUE(d["kind"] == "cat" || d["kind"] == "dog" || d["kind"] == 12 || d["kind"].is_null()); }
    if (d.contains("note")) { EXPECT_TRUE(d["note"].is_null() || (d["note"].is_string() && d["note"].get<std::string>().size() <= 3)); }
    if (d.contains("child")) { EXPECT_TRUE(d["child"].contains("v") && d["child"]["v"].get<int64_t>() >= 0) << d.dump(); }
    for (auto it = d.begin(); it != d.end(); ++it) EXPECT_TRUE(schema["properties"].contains(it.key())) << it.key();
  }
}

TEST(JsonSchema, UnsupportedKeywordsAreErrorsNamingThem) {
  auto r = json_schema_to_gbnf(ordered_json::parse(R"({"type": "object", "properties": {"id": {"type": "string", "pattern": "^[a-z]+$"}}})"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("properties.id.pattern"), std::string::npos) << r.status().message();
  EXPECT_FALSE(json_schema_to_gbnf(ordered_json::parse(R"({"type": "number", "minimum": 0.5})")).is_ok());
  EXPECT_FALSE(json_schema_to_gbnf(ordered_json::parse(R"({"$ref": "#/$defs/missing"})")).is_ok());
  EXPECT_FALSE(json_schema_to_gbnf(ordered_json::parse(R"({"type": "object", "required": ["x"]})")).is_ok());
  EXPECT_FALSE(json_schema_to_gbnf(ordered_json::parse(R"({"type": "strange"})")).is_ok());
  EXPECT_FALSE(json_schema_to_gbnf(ordered_json::parse(R"({"type": "integer", "minimum": 1e300, "maximum": 1e300})")).is_ok());
  EXPECT_TRUE(json_schema_to_gbnf(ordered_json::parse(R"({"type": "string", "format": "date-time", "description": "when"})")).is_ok());
}

}  // namespace
}  // namespace pocket
