// The Jinja engine's own checks: rendering basics, key order, and the bounds that keep a hostile
// template in a model file from hanging or exhausting the machine. Parity with @huggingface/jinja on
// real chat templates is tests/jinja/compare_templates.mjs (ctest Jinja.MatchesHuggingFaceJinja).
#include <gtest/gtest.h>

#include "chat/jinja_template.h"

namespace pocket {
namespace {

using ordered_json = nlohmann::ordered_json;

Result<std::string> render(const std::string& src, const ordered_json& ctx = ordered_json::object()) {
  auto t = JinjaTemplate::compile(src);
  if (!t) return t.status();
  return t.value().render(ctx);
}

TEST(Jinja, RendersAChatTemplate) {
  const std::string src =
      "{% for m in messages %}<|{{ m.role }}|>{{ m.content | trim }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
  ordered_json ctx = {{"messages", {{{"role", "user"}, {"content", " hi "}}}}, {"add_generation_prompt", true}};
  auto r = render(src, ctx);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r.value(), "<|user|>hi\n<|assistant|>");
}

TEST(Jinja, TojsonKeepsTheKeysInTheOrderTheyCame) {
  ordered_json ctx = {{"tool", {{"name", "f"}, {"description", "d"}, {"parameters", {{"type", "object"}}}}}};
  auto r = render("{{ tool | tojson }}", ctx);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.value(), R"({"name": "f", "description": "d", "parameters": {"type": "object"}})");
}

TEST(Jinja, SyntaxErrorsAreFormatErrorsNamingTheProblem) {
  auto r = render("{% if x %}never closed");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kFormatError);
  EXPECT_NE(r.status().message().find("endif"), std::string::npos) << r.status().message();
  EXPECT_FALSE(render("{{ 'unterminated }}").is_ok());
  EXPECT_FALSE(render("{{ 1 + }}").is_ok());
  EXPECT_FALSE(render("{% unknown_tag %}").is_ok());
}

TEST(Jinja, RaiseExceptionIsARenderErrorWithItsMessage) {
  auto r = render("{{ raise_exception('roles must alternate') }}");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("roles must alternate"), std::string::npos);
}

TEST(Jinja, HostileTemplatesEndWithAnError) {
  // Unbounded recursion, a huge loop, a string that doubles, nesting past the parser's limit.
  EXPECT_FALSE(render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").is_ok());
  EXPECT_FALSE(render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}").is_ok());
  EXPECT_FALSE(render("{% set s = 'x' %}{% for i in range(40) %}{% set s = s + s %}{% endfor %}{{ s | length }}").is_ok());
  EXPECT_FALSE(render("{{ range(1000000000) }}").is_ok());
  EXPECT_FALSE(render("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}").is_ok());
  EXPECT_FALSE(render("{{ " + std::string(3000, '[') + " }}").is_ok());
}

TEST(Jinja, BreakOutsideALoopIsAnError) {
  EXPECT_FALSE(render("{% break %}").is_ok());
  auto r = render("{% for x in [1, 2, 3] %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.value(), "1");
}

TEST(Jinja, ContextMustBeAnObject) { EXPECT_FALSE(render("x", ordered_json::array()).is_ok()); }

}  // namespace
}  // namespace pocket
