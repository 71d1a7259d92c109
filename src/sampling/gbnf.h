// GBNF (llama.cpp's grammar format) -> rules: each rule a list of alternatives, each alternative a
// sequence of symbols (a code-point class or a reference to a rule). Literals become one class per
// character; groups, `*`, `+`, `?` and `{m,n}` become helper rules, as llama.cpp compiles them.
//   root   ::= "{" ws pair ("," ws pair)* "}"
//   pair   ::= [a-z]+ ":" ws ("true" | "false")
//   ws     ::= [ \t\n]*
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pocket/status.h"

namespace pocket {

// Code points in [lo, hi] ranges; negated: every code point outside them ("." is an empty negated class).
struct CharClass {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  bool negated = false;
  bool matches(uint32_t cp) const {
    bool in = false;
    for (const auto& [lo, hi] : ranges) in = in || (cp >= lo && cp <= hi);
    return in != negated;
  }
  bool matches_non_ascii() const;  // some code point >= 0x80 matches
};

struct GrammarSymbol {
  bool is_rule = false;
  uint32_t index = 0;  // into GrammarRules::classes, or a rule id
};

struct GrammarRules {
  std::vector<std::string> names;                                     // rule id -> name ("root", "value", "value_3" for helpers)
  std::vector<std::vector<std::vector<GrammarSymbol>>> alternatives;  // rule id -> alternatives -> symbols
  std::vector<CharClass> classes;
  uint32_t root = 0;
};

// Errors name the line and column and what was expected; an undefined rule, a missing root and a
// left-recursive rule (which a pushdown matcher cannot run) are errors naming the rule.
Result<GrammarRules> parse_gbnf(const std::string& text);

}  // namespace pocket
