#include "chat/jinja_lexer.h"

#include <cstring>

#include "chat/jinja_text.h"
#include "chat/jinja_value.h"

namespace pocket::jinja {

namespace {

bool line_break_before(const std::string& s, size_t i) {
  if (i == 0) return true;
  const char p = s[i - 1];
  if (p == '\n' || p == '\r') return true;
  // U+2028 / U+2029 end lines too (JavaScript's multiline ^)
  return i >= 3 && (unsigned char)s[i - 3] == 0xE2 && (unsigned char)s[i - 2] == 0x80 && ((unsigned char)p == 0xA8 || (unsigned char)p == 0xA9);
}

// /(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/: transformers' {% generation %} marks, removed.
bool match_generation_tag(const std::string& s, size_t i, size_t* end, bool* lstrip, bool* rstrip) {
  if (s.compare(i, 2, "{%") != 0) return false;
  size_t j = i + 2;
  *lstrip = j < s.size() && s[j] == '-';
  if (*lstrip) ++j;
  for (size_t n; (n = space_len(s, j)) > 0;) j += n;
  if (s.compare(j, 3, "end") == 0 && s.compare(j + 3, 10, "generation") == 0) j += 3;
  if (s.compare(j, 10, "generation") != 0) return false;
  j += 10;
  for (size_t n; (n = space_len(s, j)) > 0;) j += n;
  *rstrip = j < s.size() && s[j] == '-';
  if (*rstrip) ++j;
  if (s.compare(j, 2, "%}") != 0) return false;
  *end = j + 2;
  return true;
}

std::string preprocess(std::string t) {
  if (!t.empty() && t.back() == '\n') t.pop_back();
  // lstrip_blocks: /^[ \t]*({[#%-])/gm -> "$1"
  std::string a;
  a.reserve(t.size());
  for (size_t i = 0; i < t.size();) {
    if (line_break_before(t, i)) {
      size_t j = i;
      while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
      if (j > i && j + 1 < t.size() && t[j] == '{' && (t[j + 1] == '#' || t[j + 1] == '%' || t[j + 1] == '-')) i = j;
    }
    a += t[i++];
  }
  // trim_blocks: /([#%-]})\n/g -> "$1"
  std::string b;
  b.reserve(a.size());
  for (size_t i = 0; i < a.size();) {
    if (i + 2 < a.size() && (a[i] == '#' || a[i] == '%' || a[i] == '-') && a[i + 1] == '}' && a[i + 2] == '\n') {
      b += a[i];
      b += '}';
      i += 3;
    } else {
      b += a[i++];
    }
  }
  // {% generation %} / {% endgeneration %}: the tag goes, with the whitespace its '-' markers ask.
  std::string c;
  c.reserve(b.size());
  size_t copied = 0;  // b[0..copied) is in c
  for (size_t i = 0; i < b.size(); ++i) {
    size_t end;
    bool ls, rs;
    if (b[i] != '{' || !match_generation_tag(b, i, &end, &ls, &rs)) continue;
    // (\s*) before: the whitespace run ending at the tag, not reaching back before `copied`
    size_t ws = i;
    while (ws > copied) {
      size_t k = ws - 1;
      while (k > copied && ((unsigned char)b[k] & 0xC0) == 0x80) --k;
      if (space_len(b, k) != ws - k) break;
      ws = k;
    }
    size_t after = end;
    for (size_t n; (n = space_len(b, after)) > 0;) after += n;
    c.append(b, copied, ws - copied);
    if (!ls) c.append(b, ws, i - ws);
    if (!rs) c.append(b, end, after - end);
    copied = after;
    i = after - 1;
  }
  c.append(b, copied, std::string::npos);
  return c;
}

struct MappedToken {
  const char* seq;
  Tok type;
};
constexpr MappedToken kMapping[] = {
    {"{%", Tok::kOpenStatement},  {"%}", Tok::kCloseStatement},
    {"{{", Tok::kOpenExpression}, {"}}", Tok::kCloseExpression},
    {"(", Tok::kOpenParen},       {")", Tok::kCloseParen},
    {"{", Tok::kOpenCurly},       {"}", Tok::kCloseCurly},
    {"[", Tok::kOpenSquare},      {"]", Tok::kCloseSquare},
    {",", Tok::kComma},           {".", Tok::kDot},
    {":", Tok::kColon},           {"|", Tok::kPipe},
    {"<=", Tok::kComparison},     {">=", Tok::kComparison},
    {"==", Tok::kComparison},     {"!=", Tok::kComparison},
    {"<", Tok::kComparison},      {">", Tok::kComparison},
    {"+", Tok::kAdditive},        {"-", Tok::kAdditive},
    {"~", Tok::kAdditive},        {"**", Tok::kPower},
    {"*", Tok::kMultiplicative},  {"//", Tok::kMultiplicative},
    {"/", Tok::kMultiplicative},  {"%", Tok::kMultiplicative},
    {"=", Tok::kEquals},
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string src) : s_(std::move(src)) {}

  std::vector<Token> run() {
    while (pos_ < s_.size()) step();
    return std::move(tokens_);
  }

 private:
  bool at(const char* seq) const { return s_.compare(pos_, std::strlen(seq), seq) == 0; }
  char ch(size_t i) const { return i < s_.size() ? s_[i] : '\0'; }

  // consumeWhile: reaching the end inside a token is an error, as in the reference.
  template <class Pred>
  std::string consume_while(Pred pred) {
    std::string out;
    while (pos_ < s_.size() && pred(pos_)) {
      if (s_[pos_] == '\\') {
        if (++pos_ >= s_.size()) throw Error("Unexpected end of input");
        const char e = s_[pos_++];
        if (e == 'x' || e == 'u') {
          const size_t len = e == 'x' ? 2 : 4;
          uint32_t v = 0;
          for (size_t k = 0; k < len; ++k) {
            const int h = hex_value(ch(pos_ + k));
            if (pos_ + k >= s_.size() || h < 0) throw Error(std::string("Invalid hexadecimal escape sequence: \\") + e + s_.substr(pos_, len));
            v = v * 16 + (uint32_t)h;
          }
          pos_ += len;
          // A UTF-16 surrogate pair written as two escapes is one code point.
          if (v >= 0xD800 && v < 0xDC00 && s_.compare(pos_, 2, "\\u") == 0) {
            uint32_t lo = 0;
            bool ok = pos_ + 6 <= s_.size();
            for (size_t k = 0; ok && k < 4; ++k) {
              const int h = hex_value(s_[pos_ + 2 + k]);
              ok = h >= 0;
              lo = lo * 16 + (uint32_t)(ok ? h : 0);
            }
            if (ok && lo >= 0xDC00 && lo < 0xE000) {
              v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
              pos_ += 6;
            }
          }
          append_utf8(out, v >= 0xD800 && v < 0xE000 ? 0xFFFD : v);
          continue;
        }
        const char* from = "ntrbfv'\"\\";
        const char* to = "\n\t\r\b\f\v'\"\\";
        const char* hit = std::strchr(from, e);
        if (hit == nullptr || e == '\0') throw Error(std::string("Unexpected escaped character: ") + e);
        out += to[hit - from];
        continue;
      }
      out += s_[pos_++];
      if (pos_ >= s_.size()) throw Error("Unexpected end of input");
    }
    return out;
  }

  void strip_trailing_whitespace() {
    if (!tokens_.empty() && tokens_.back().type == Tok::kText) {
      tokens_.back().value = trim_end(tokens_.back().value);
      if (tokens_.back().value.empty()) tokens_.pop_back();
    }
  }
  void skip_leading_whitespace() {
    for (size_t n; (n = space_len(s_, pos_)) > 0;) pos_ += n;
  }
  void push(Tok t, std::string v) { tokens_.push_back({t, std::move(v)}); }

  void step() {
    const bool after_close = tokens_.empty() || tokens_.back().type == Tok::kCloseStatement || tokens_.back().type == Tok::kCloseExpression ||
                             tokens_.back().type == Tok::kComment;
    if (after_close) {
      const size_t start = pos_;
      while (pos_ < s_.size() && !(s_[pos_] == '{' && (ch(pos_ + 1) == '%' || ch(pos_ + 1) == '{' || ch(pos_ + 1) == '#'))) ++pos_;
      if (pos_ > start) {
        push(Tok::kText, s_.substr(start, pos_ - start));
        return;
      }
    }
    if (at("{#")) {
      pos_ += 2;
      const bool strip_before = ch(pos_) == '-';
      if (strip_before) ++pos_;
      const size_t start = pos_;
      while (ch(pos_) != '#' || ch(pos_ + 1) != '}') {
        if (pos_ + 2 >= s_.size()) throw Error("Missing end of comment tag");
        ++pos_;
      }
      std::string comment = s_.substr(start, pos_ - start);
      const bool strip_after = !comment.empty() && comment.back() == '-';
      if (strip_after) comment.pop_back();
      if (strip_before) strip_trailing_whitespace();
      push(Tok::kComment, std::move(comment));
      pos_ += 2;
      if (strip_after) skip_leading_whitespace();
      return;
    }
    if (at("{%-")) {
      strip_trailing_whitespace();
      push(Tok::kOpenStatement, "{%");
      pos_ += 3;
      return;
    }
    if (at("{{-")) {
      strip_trailing_whitespace();
      push(Tok::kOpenExpression, "{{");
      curly_depth_ = 0;
      pos_ += 3;
      return;
    }
    consume_while([&](size_t i) { return space_len(s_, i) > 0; });
    if (at("-%}")) {
      push(Tok::kCloseStatement, "%}");
      pos_ += 3;
      skip_leading_whitespace();
      return;
    }
    if (at("-}}")) {
      push(Tok::kCloseExpression, "}}");
      pos_ += 3;
      skip_leading_whitespace();
      return;
    }
    if (pos_ >= s_.size()) return;
    const char c = s_[pos_];
    if (c == '-' || c == '+') {
      if (tokens_.empty() || tokens_.back().type == Tok::kText) throw Error(std::string("Unexpected character: ") + c);
      const Tok last = tokens_.back().type;
      if (last != Tok::kIdent && last != Tok::kNumber && last != Tok::kString && last != Tok::kCloseParen && last != Tok::kCloseSquare) {
        ++pos_;  // a unary sign, possibly of a number
        auto digit = [&](size_t i) { return s_[i] >= '0' && s_[i] <= '9'; };
        std::string num = consume_while(digit);
        if (!num.empty() && ch(pos_) == '.' && ch(pos_ + 1) >= '0' && ch(pos_ + 1) <= '9') {
          ++pos_;
          num += "." + consume_while(digit);
        }
        push(num.empty() ? Tok::kUnary : Tok::kNumber, std::string(1, c) + num);
        return;
      }
    }
    for (const MappedToken& m : kMapping) {
      if (m.type == Tok::kCloseExpression && curly_depth_ > 0) continue;  // "}}" closing a dict literal inside {{ }}
      if (!at(m.seq)) continue;
      push(m.type, m.seq);
      if (m.type == Tok::kOpenExpression) curly_depth_ = 0;
      if (m.type == Tok::kOpenCurly) ++curly_depth_;
      if (m.type == Tok::kCloseCurly) --curly_depth_;
      pos_ += std::strlen(m.seq);
      return;
    }
    if (c == '\'' || c == '"') {
      ++pos_;
      std::string str = consume_while([&](size_t i) { return s_[i] != c; });
      if (pos_ >= s_.size()) throw Error("Unexpected end of input");
      push(Tok::kString, std::move(str));
      ++pos_;
      return;
    }
    if (c >= '0' && c <= '9') {
      auto digit = [&](size_t i) { return s_[i] >= '0' && s_[i] <= '9'; };
      std::string num = consume_while(digit);
      if ((tokens_.empty() || tokens_.back().type != Tok::kDot) && ch(pos_) == '.' && ch(pos_ + 1) >= '0' && ch(pos_ + 1) <= '9') {
        ++pos_;
        num += "." + consume_while(digit);
      }
      push(Tok::kNumber, std::move(num));
      return;
    }
    if (word_char((unsigned char)c)) {
      push(Tok::kIdent, consume_while([&](size_t i) { return word_char((unsigned char)s_[i]); }));
      return;
    }
    throw Error(std::string("Unexpected character: ") + c);
  }

  std::string s_;
  size_t pos_ = 0;
  int curly_depth_ = 0;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source) { return Lexer(preprocess(source)).run(); }

}  // namespace pocket::jinja
