#include "sampling/gbnf.h"

#include <functional>
#include <map>
#include <stdexcept>

namespace pocket {

bool CharClass::matches_non_ascii() const {
  if (negated) {  // unless the ranges cover everything from 0x80 up
    uint32_t next = 0x80;
    bool progress = true;
    while (progress && next <= 0x10FFFF) {
      progress = false;
      for (const auto& [lo, hi] : ranges)
        if (lo <= next && hi >= next) next = hi + 1, progress = true;
    }
    return next <= 0x10FFFF;
  }
  for (const auto& [lo, hi] : ranges)
    if (hi >= 0x80) return true;
  return false;
}

namespace {

constexpr int kMaxRepeat = 1000;  // {m,n} bounds: beyond this the grammar would be huge

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

class GbnfParser {
 public:
  explicit GbnfParser(const std::string& s) : s_(s) {}

  GrammarRules run() {
    skip_space(true);
    while (pos_ < s_.size()) {
      const std::string name = parse_name();
      skip_space(false);
      if (s_.compare(pos_, 3, "::=") != 0) fail("expected ::= after rule name '" + name + "'");
      pos_ += 3;
      skip_space(true);
      const uint32_t id = rule_id(name);
      if (defined_.count(id)) fail("rule '" + name + "' is defined twice");
      defined_[id] = true;
      r_.alternatives[id] = parse_alternatives(name, false);
      if (pos_ < s_.size() && s_[pos_] != '\n' && s_[pos_] != '\r') fail("expected the end of the line after rule '" + name + "'");
      skip_space(true);
    }
    for (uint32_t id = 0; id < r_.names.size(); ++id)
      if (!defined_.count(id)) throw ParseError("grammar: rule '" + r_.names[id] + "' is used but not defined");
    auto root = ids_.find("root");
    if (root == ids_.end()) throw ParseError("grammar: no rule named 'root'");
    r_.root = root->second;
    return std::move(r_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n')
        ++line, col = 1;
      else
        ++col;
    }
    throw ParseError("grammar: line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + what);
  }

  // Spaces, tabs and comments; newlines too where a rule may continue (inside parentheses, after | and ::=).
  void skip_space(bool newlines) {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == ' ' || c == '\t' || ((c == '\n' || c == '\r') && newlines)) {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  uint32_t rule_id(const std::string& name) {
    auto it = ids_.find(name);
    if (it != ids_.end()) return it->second;
    const uint32_t id = (uint32_t)r_.names.size();
    ids_[name] = id;
    r_.names.push_back(name);
    r_.alternatives.emplace_back();
    return id;
  }
  uint32_t helper_rule(const std::string& base) {
    const uint32_t id = rule_id(base + "_" + std::to_string(r_.names.size()));
    defined_[id] = true;
    return id;
  }

  std::string parse_name() {
    const size_t start = pos_;
    while (pos_ < s_.size() && name_char(s_[pos_])) ++pos_;
    if (pos_ == start) fail("expected a rule name");
    return s_.substr(start, pos_ - start);
  }

  uint32_t hex(size_t n) {
    uint32_t v = 0;
    for (size_t k = 0; k < n; ++k, ++pos_) {
      if (pos_ >= s_.size()) fail("unfinished escape");
      const char c = s_[pos_];
      const int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) fail("expected a hex digit in an escape");
      v = v * 16 + (uint32_t)d;
    }
    return v;
  }

  // One character of a literal or class: an escape or a UTF-8 sequence, as a code point.
  uint32_t parse_char() {
    if (pos_ >= s_.size()) fail("unexpected end of grammar");
    const unsigned char c = (unsigned char)s_[pos_];
    if (c == '\\') {
      if (++pos_ >= s_.size()) fail("unfinished escape");
      const char e = s_[pos_++];
      switch (e) {
        case 'x': return hex(2);
        case 'u': return hex(4);
        case 'U': return hex(8);
        case 't': return '\t';
        case 'r': return '\r';
        case 'n': return '\n';
        case '\\':
        case '"':
        case '[':
        case ']':
        case '-':
        case '^': return (uint32_t)e;
        default: fail(std::string("unknown escape \\") + e);
      }
    }
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || pos_ + n > s_.size()) fail("invalid UTF-8");
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      const unsigned char cc = (unsigned char)s_[pos_ + k];
      if ((cc & 0xC0) != 0x80) fail("invalid UTF-8");
      cp = (cp << 6) | (cc & 0x3F);
    }
    pos_ += n;
    return cp;
  }

  GrammarSymbol add_class(CharClass c) {
    r_.classes.push_back(std::move(c));
    return {false, (uint32_t)r_.classes.size() - 1};
  }

  std::vector<std::vector<GrammarSymbol>> parse_alternatives(const std::string& rule, bool nested) {
    std::vector<std::vector<GrammarSymbol>> alts;
    alts.push_back(parse_sequence(rule, nested));
    while (pos_ < s_.size() && s_[pos_] == '|') {
      ++pos_;
      skip_space(true);
      alts.push_back(parse_sequence(rule, nested));
    }
    return alts;
  }

  std::vector<GrammarSymbol> parse_sequence(const std::string& rule, bool nested) {
    std::vector<GrammarSymbol> seq;
    size_t term_start = 0;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        term_start = seq.size();
        while (pos_ < s_.size() && s_[pos_] != '"') {
          const uint32_t cp = parse_char();
          seq.push_back(add_class(CharClass{{{cp, cp}}, false}));
        }
        if (pos_ >= s_.size()) fail("unterminated string literal");
        ++pos_;
      } else if (c == '[') {
        ++pos_;
        CharClass cc;
        if (pos_ < s_.size() && s_[pos_] == '^') cc.negated = true, ++pos_;
        while (pos_ < s_.size() && s_[pos_] != ']') {
          const uint32_t lo = parse_char();
          uint32_t hi = lo;
          if (pos_ + 1 < s_.size() && s_[pos_] == '-' && s_[pos_ + 1] != ']') {
            ++pos_;
            hi = parse_char();
            if (hi < lo) fail("character range end is below its start");
          }
          cc.ranges.emplace_back(lo, hi);
        }
        if (pos_ >= s_.size()) fail("unterminated character class");
        ++pos_;
        term_start = seq.size();
        seq.push_back(add_class(std::move(cc)));
      } else if (c == '.') {
        ++pos_;
        term_start = seq.size();
        seq.push_back(add_class(CharClass{{}, true}));
      } else if (name_char(c)) {
        const std::string name = parse_name();
        term_start = seq.size();
        seq.push_back({true, rule_id(name)});
      } else if (c == '(') {
        if (++depth_ > 100) fail("parentheses nest deeper than 100");
        ++pos_;
        skip_space(true);
        const uint32_t id = helper_rule(rule);
        auto alts = parse_alternatives(rule, true);
        r_.alternatives[id] = std::move(alts);
        if (pos_ >= s_.size() || s_[pos_] != ')') fail("expected )");
        ++pos_;
        --depth_;
        term_start = seq.size();
        seq.push_back({true, id});
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (seq.empty() || term_start >= seq.size()) fail(std::string("nothing to repeat before '") + c + "'");
        int lo = 0, hi = -1;  // hi < 0: unbounded
        ++pos_;
        if (c == '+') lo = 1;
        if (c == '?') hi = 1;
        if (c == '{') {
          skip_space(false);
          lo = parse_count();
          skip_space(false);
          hi = lo;
          if (pos_ < s_.size() && s_[pos_] == ',') {
            ++pos_;
            skip_space(false);
            hi = (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ? parse_count() : -1;
            skip_space(false);
          }
          if (pos_ >= s_.size() || s_[pos_] != '}') fail("expected } after a repetition count");
          ++pos_;
          if (hi >= 0 && hi < lo) fail("repetition {m,n} with n < m");
        }
        repeat(rule, seq, term_start, lo, hi);
        term_start = seq.size();  // a repetition cannot itself be repeated without parentheses
      } else {
        break;
      }
      skip_space(nested);
    }
    return seq;
  }

  int parse_count() {
    const size_t start = pos_;
    long v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      v = v * 10 + (s_[pos_++] - '0');
      if (v > kMaxRepeat) fail("repetition count above " + std::to_string(kMaxRepeat));
    }
    if (pos_ == start) fail("expected a repetition count");
    return (int)v;
  }

  // seq[term_start..] repeated lo..hi times (hi < 0: unbounded), as llama.cpp rewrites it.
  void repeat(const std::string& rule, std::vector<GrammarSymbol>& seq, size_t term_start, int lo, int hi) {
    const std::vector<GrammarSymbol> term(seq.begin() + (std::ptrdiff_t)term_start, seq.end());
    seq.resize(term_start);
    for (int i = 0; i < lo; ++i) seq.insert(seq.end(), term.begin(), term.end());
    if (hi < 0) {  // R ::= term R | (empty)
      const uint32_t id = helper_rule(rule);
      std::vector<GrammarSymbol> again = term;
      again.push_back({true, id});
      r_.alternatives[id] = {again, {}};
      seq.push_back({true, id});
      return;
    }
    // R1 ::= term R2 | ; ... ; Rk ::= term | (empty)
    uint32_t next = UINT32_MAX;
    for (int i = hi - lo; i > 0; --i) {
      const uint32_t id = helper_rule(rule);
      std::vector<GrammarSymbol> alt = term;
      if (next != UINT32_MAX) alt.push_back({true, next});
      r_.alternatives[id] = {alt, {}};
      next = id;
    }
    if (next != UINT32_MAX) seq.push_back({true, next});
  }

  const std::string& s_;
  size_t pos_ = 0;
  int depth_ = 0;
  GrammarRules r_;
  std::map<std::string, uint32_t> ids_;
  std::map<uint32_t, bool> defined_;
};

// A rule that can reach itself without consuming a character loops a pushdown matcher forever.
void check_left_recursion(const GrammarRules& r) {
  const size_t n = r.names.size();
  std::vector<bool> nullable(n, false);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < n; ++i) {
      if (nullable[i]) continue;
      for (const auto& alt : r.alternatives[i]) {
        bool all = true;
        for (const GrammarSymbol& s : alt) all = all && s.is_rule && nullable[s.index];
        if (all) {
          nullable[i] = changed = true;
          break;
        }
      }
    }
  }
  std::vector<int> state(n, 0);  // 0 new, 1 on the path, 2 done
  std::function<void(uint32_t)> visit = [&](uint32_t i) {
    state[i] = 1;
    for (const auto& alt : r.alternatives[i]) {
      for (const GrammarSymbol& s : alt) {
        if (!s.is_rule) break;
        if (state[s.index] == 1)
          throw ParseError("grammar: rule '" + r.names[s.index] + "' is left-recursive (it can reach itself before any character)");
        if (state[s.index] == 0) visit(s.index);
        if (!nullable[s.index]) break;
      }
    }
    state[i] = 2;
  };
  for (uint32_t i = 0; i < n; ++i)
    if (state[i] == 0) visit(i);
}

}  // namespace

Result<GrammarRules> parse_gbnf(const std::string& text) {
  try {
    GrammarRules r = GbnfParser(text).run();
    check_left_recursion(r);
    return r;
  } catch (const ParseError& e) { return Status(ErrorCode::kInvalidArgument, e.what(), "grammar"); }
}

}  // namespace pocket
