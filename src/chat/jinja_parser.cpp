#include "chat/jinja_parser.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "chat/jinja_value.h"

namespace pocket::jinja {

namespace {

constexpr int kMaxDepth = 200;

std::shared_ptr<Ast> node(Node t) {
  auto n = std::make_shared<Ast>();
  n->type = t;
  return n;
}

class Parser {
 public:
  explicit Parser(const std::vector<Token>& t) : t_(t) {}

  AstPtr program() {
    auto p = node(Node::kProgram);
    while (cur_ < t_.size()) p->body.push_back(any());
    return p;
  }

 private:
  struct Depth {
    explicit Depth(int& d) : d_(d) {
      if (++d_ > kMaxDepth) throw Error("template nests deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    ~Depth() { --d_; }
    int& d_;
  };

  const Token& tok(size_t k = 0) const {
    static const Token kEnd{Tok::kComment, "<end of template>"};
    return cur_ + k < t_.size() ? t_[cur_ + k] : kEnd;
  }
  bool is(Tok a) const { return cur_ < t_.size() && t_[cur_].type == a; }
  bool is_ident(const char* name, size_t k = 0) const {
    return cur_ + k < t_.size() && t_[cur_ + k].type == Tok::kIdent && t_[cur_ + k].value == name;
  }
  bool is_statement(std::initializer_list<const char*> names) const {
    if (!is(Tok::kOpenStatement) || cur_ + 1 >= t_.size() || t_[cur_ + 1].type != Tok::kIdent) return false;
    return std::any_of(names.begin(), names.end(), [&](const char* n) { return t_[cur_ + 1].value == n; });
  }
  const Token& expect(Tok type, const char* what) {
    if (cur_ >= t_.size()) throw Error(std::string("Parser Error: ") + what + " (end of template)");
    const Token& t = t_[cur_++];
    if (t.type != type) throw Error(std::string("Parser Error: ") + what + ", got '" + t.value + "'");
    return t;
  }
  void expect_ident(const char* name) {
    if (!is_ident(name)) throw Error(std::string("Expected ") + name);
    ++cur_;
  }
  void end_tag(const char* name) {
    expect(Tok::kOpenStatement, "Expected {% token");
    expect_ident(name);
    expect(Tok::kCloseStatement, "Expected %} token");
  }
  // Statements until one of `names` opens; the end of the template before it is an error.
  void block_until(std::vector<AstPtr>& out, std::initializer_list<const char*> names) {
    while (!is_statement(names)) {
      if (cur_ >= t_.size()) {
        std::string want;
        for (const char* n : names) want += std::string(want.empty() ? "" : " or ") + "{% " + n + " %}";
        throw Error("Unexpected end of template: expected " + want);
      }
      out.push_back(any());
    }
  }

  AstPtr any() {
    Depth d(depth_);
    switch (tok().type) {
      case Tok::kComment: {
        if (cur_ >= t_.size()) throw Error("Unexpected end of template");
        ++cur_;
        return node(Node::kComment);
      }
      case Tok::kText: {
        auto n = node(Node::kText);
        n->str = t_[cur_++].value;
        return n;
      }
      case Tok::kOpenStatement: return statement();
      case Tok::kOpenExpression: {
        ++cur_;
        AstPtr e = expression();
        expect(Tok::kCloseExpression, "Expected closing expression token");
        return e;
      }
      default: throw Error("Unexpected token: '" + tok().value + "'");
    }
  }

  AstPtr statement() {
    expect(Tok::kOpenStatement, "Expected opening statement token");
    if (!is(Tok::kIdent)) throw Error("Unknown statement, got '" + tok().value + "'");
    const std::string name = t_[cur_++].value;
    if (name == "set") return set_statement();
    if (name == "if") {
      AstPtr r = if_statement();
      end_tag("endif");
      return r;
    }
    if (name == "macro") {
      auto m = node(Node::kMacro);
      AstPtr id = primary();
      if (id->type != Node::kIdent) throw Error("Expected identifier following macro statement");
      m->str = id->str;
      m->list = args(true);
      expect(Tok::kCloseStatement, "Expected closing statement token");
      block_until(m->body, {"endmacro"});
      end_tag("endmacro");
      return m;
    }
    if (name == "for") {
      AstPtr r = for_statement();
      end_tag("endfor");
      return r;
    }
    if (name == "call") {
      auto c = node(Node::kCallBlock);
      if (is(Tok::kOpenParen)) c->list = args(true);
      AstPtr callee = primary();
      if (callee->type != Node::kIdent) throw Error("Expected identifier following call statement");
      auto call = node(Node::kCall);
      call->a = callee;
      call->list = args(false);
      c->a = call;
      expect(Tok::kCloseStatement, "Expected closing statement token");
      block_until(c->body, {"endcall"});
      end_tag("endcall");
      return c;
    }
    if (name == "break" || name == "continue") {
      expect(Tok::kCloseStatement, "Expected closing statement token");
      return node(name == "break" ? Node::kBreak : Node::kContinue);
    }
    if (name == "filter") {
      auto f = node(Node::kFilterBlock);
      AstPtr filter = primary();
      if (filter->type == Node::kIdent && is(Tok::kOpenParen)) filter = call(filter);
      f->a = filter;
      expect(Tok::kCloseStatement, "Expected closing statement token");
      block_until(f->body, {"endfilter"});
      end_tag("endfilter");
      return f;
    }
    throw Error("Unknown statement type: " + name);
  }

  AstPtr set_statement() {
    auto s = node(Node::kSet);
    s->a = sequence(false);
    if (is(Tok::kEquals)) {
      ++cur_;
      s->b = sequence(false);
    } else {
      expect(Tok::kCloseStatement, "Expected %} token");
      block_until(s->body, {"endset"});
      expect(Tok::kOpenStatement, "Expected {% token");
      expect_ident("endset");
    }
    expect(Tok::kCloseStatement, "Expected closing statement token");
    return s;
  }

  AstPtr if_statement() {
    Depth d(depth_);
    auto n = node(Node::kIf);
    n->a = expression();
    expect(Tok::kCloseStatement, "Expected closing statement token");
    block_until(n->body, {"elif", "else", "endif"});
    if (is_statement({"elif"})) {
      cur_ += 2;
      n->alt.push_back(if_statement());
    } else if (is_statement({"else"})) {
      cur_ += 2;
      expect(Tok::kCloseStatement, "Expected closing statement token");
      block_until(n->alt, {"endif"});
    }
    return n;
  }

  AstPtr for_statement() {
    auto n = node(Node::kFor);
    n->a = sequence(true);
    if (n->a->type != Node::kIdent && n->a->type != Node::kTuple) throw Error("Expected identifier/tuple for the loop variable");
    if (!is_ident("in")) throw Error("Expected `in` keyword following loop variable");
    ++cur_;
    n->b = expression();
    expect(Tok::kCloseStatement, "Expected closing statement token");
    block_until(n->body, {"endfor", "else"});
    if (is_statement({"else"})) {
      cur_ += 2;
      expect(Tok::kCloseStatement, "Expected closing statement token");
      block_until(n->alt, {"endfor"});
    }
    return n;
  }

  AstPtr sequence(bool primary_only) {
    std::vector<AstPtr> items{primary_only ? primary() : expression()};
    const bool tuple = is(Tok::kComma);
    while (tuple) {
      ++cur_;
      items.push_back(primary_only ? primary() : expression());
      if (!is(Tok::kComma)) break;
    }
    if (!tuple) return items[0];
    auto t = node(Node::kTuple);
    t->list = std::move(items);
    return t;
  }

  AstPtr expression() {
    Depth d(depth_);
    return if_expression();
  }

  AstPtr if_expression() {
    AstPtr a = or_expression();
    if (!is_ident("if")) return a;
    ++cur_;
    AstPtr test = or_expression();
    if (is_ident("else")) {
      ++cur_;
      auto t = node(Node::kTernary);
      t->a = test;
      t->b = a;
      t->c = if_expression();
      return t;
    }
    auto s = node(Node::kSelect);
    s->a = a;
    s->b = test;
    return s;
  }

  AstPtr binary(std::string op, AstPtr l, AstPtr r) {
    auto b = node(Node::kBinary);
    b->str = std::move(op);
    b->a = std::move(l);
    b->b = std::move(r);
    return b;
  }

  AstPtr or_expression() {
    AstPtr l = and_expression();
    while (is_ident("or")) {
      ++cur_;
      l = binary("or", l, and_expression());
    }
    return l;
  }
  AstPtr and_expression() {
    AstPtr l = not_expression();
    while (is_ident("and")) {
      ++cur_;
      l = binary("and", l, not_expression());
    }
    return l;
  }
  AstPtr not_expression() {
    Depth d(depth_);
    std::shared_ptr<Ast> r;
    while (is_ident("not")) {
      ++cur_;
      r = node(Node::kUnary);
      r->str = "not";
      r->a = not_expression();
    }
    return r ? r : comparison();
  }
  AstPtr comparison() {
    AstPtr l = additive();
    while (true) {
      std::string op;
      if (is_ident("not") && is_ident("in", 1)) {
        op = "not in";
        cur_ += 2;
      } else if (is_ident("in")) {
        op = "in";
        ++cur_;
      } else if (is(Tok::kComparison)) {
        op = t_[cur_++].value;
      } else {
        break;
      }
      l = binary(op, l, additive());
    }
    return l;
  }
  AstPtr additive() {
    AstPtr l = multiplicative();
    while (is(Tok::kAdditive)) {
      const std::string op = t_[cur_++].value;
      l = binary(op, l, multiplicative());
    }
    return l;
  }
  AstPtr multiplicative() {
    AstPtr l = power();
    while (is(Tok::kMultiplicative)) {
      const std::string op = t_[cur_++].value;
      l = binary(op, l, power());
    }
    return l;
  }
  AstPtr power() {
    AstPtr l = test_expression();
    while (is(Tok::kPower)) {
      ++cur_;
      l = binary("**", l, test_expression());
    }
    return l;
  }
  AstPtr test_expression() {
    AstPtr operand = filter_expression();
    while (is_ident("is")) {
      ++cur_;
      const bool negate = is_ident("not");
      if (negate) ++cur_;
      AstPtr test = primary();
      if (test->type != Node::kIdent) throw Error("Expected identifier for the test");
      auto t = node(Node::kTest);
      t->a = operand;
      t->str = test->str;
      t->flag = negate;
      operand = t;
    }
    return operand;
  }
  AstPtr filter_expression() {
    AstPtr operand = unary_sign();
    while (is(Tok::kPipe)) {
      ++cur_;
      AstPtr filter = primary();
      if (filter->type != Node::kIdent) throw Error("Expected identifier for the filter");
      if (is(Tok::kOpenParen)) filter = call(filter);
      auto f = node(Node::kFilter);
      f->a = operand;
      f->b = filter;
      operand = f;
    }
    return operand;
  }
  AstPtr unary_sign() {
    Depth d(depth_);
    if ((is(Tok::kUnary) || is(Tok::kAdditive)) && (tok().value == "-" || tok().value == "+")) {
      auto u = node(Node::kUnary);
      u->str = t_[cur_++].value;
      u->a = unary_sign();
      return u;
    }
    AstPtr m = member(primary());
    return is(Tok::kOpenParen) ? call(m) : m;
  }
  AstPtr call(AstPtr callee) {
    Depth d(depth_);
    auto c = node(Node::kCall);
    c->a = std::move(callee);
    c->list = args(false);
    AstPtr e = member(c);
    return is(Tok::kOpenParen) ? call(e) : e;
  }

  std::vector<AstPtr> args(bool parameters) {
    expect(Tok::kOpenParen, "Expected opening parenthesis for arguments list");
    std::vector<AstPtr> out;
    std::set<std::string> names;
    bool saw_keyword = false, saw_spread = false;
    while (!is(Tok::kCloseParen)) {
      if (cur_ >= t_.size()) throw Error("Expected closing parenthesis for arguments list");
      const bool kw_spread = is(Tok::kPower);
      const bool spread = is(Tok::kMultiplicative) && tok().value == "*";
      if (parameters && (kw_spread || spread)) throw Error("Argument unpacking is not allowed in parameter declarations");
      if (kw_spread) {
        ++cur_;
        auto k = node(Node::kKwSpread);
        k->a = expression();
        out.push_back(k);
        if (is(Tok::kComma)) ++cur_;
        if (!is(Tok::kCloseParen)) throw Error("Expected closing parenthesis: `**` must be applied to the final argument");
        break;
      }
      AstPtr arg;
      if (spread) {
        if (saw_spread) throw Error("Only one `*` argument unpacking is allowed");
        saw_spread = true;
        ++cur_;
        auto s = node(Node::kSpread);
        s->a = expression();
        arg = s;
      } else {
        arg = expression();
        if (is(Tok::kEquals)) {
          ++cur_;
          if (arg->type != Node::kIdent)
            throw Error(parameters ? "Expected identifier for parameter declaration" : "Expected identifier for keyword argument");
          auto k = node(Node::kKwarg);
          k->str = arg->str;
          k->a = expression();
          arg = k;
        }
        if (parameters) {
          if (arg->type != Node::kIdent && arg->type != Node::kKwarg) throw Error("Expected identifier for parameter declaration");
          if (!names.insert(arg->str).second) throw Error("Duplicate parameter name: " + arg->str);
        }
        if (arg->type == Node::kKwarg) {
          saw_keyword = true;
        } else if (saw_keyword) {
          throw Error(parameters ? "Non-default argument follows default argument" : "Positional arguments must come before keyword arguments");
        } else if (saw_spread) {
          throw Error("Positional arguments must not follow `*` argument unpacking");
        }
      }
      out.push_back(arg);
      if (is(Tok::kComma)) ++cur_;
    }
    expect(Tok::kCloseParen, "Expected closing parenthesis for arguments list");
    return out;
  }

  AstPtr subscript() {
    std::vector<AstPtr> parts;
    bool slice = false;
    while (!is(Tok::kCloseSquare)) {
      if (cur_ >= t_.size()) throw Error("Expected closing square bracket");
      if (is(Tok::kColon)) {
        parts.push_back(nullptr);
        ++cur_;
        slice = true;
      } else {
        parts.push_back(expression());
        if (is(Tok::kColon)) {
          ++cur_;
          slice = true;
        }
      }
    }
    if (parts.empty()) throw Error("Expected at least one argument for member/slice expression");
    if (!slice) return parts[0];
    if (parts.size() > 3) throw Error("Expected 0-3 arguments for slice expression");
    auto s = node(Node::kSlice);
    s->a = parts[0];
    if (parts.size() > 1) s->b = parts[1];
    if (parts.size() > 2) s->c = parts[2];
    return s;
  }

  AstPtr member(AstPtr object) {
    while (is(Tok::kDot) || is(Tok::kOpenSquare)) {
      const bool computed = is(Tok::kOpenSquare);
      ++cur_;
      auto m = node(Node::kMember);
      m->a = object;
      m->flag = computed;
      if (computed) {
        m->b = subscript();
        expect(Tok::kCloseSquare, "Expected closing square bracket");
      } else {
        m->b = primary();
        if (m->b->type != Node::kIdent && m->b->type != Node::kInt) throw Error("Expected identifier or integer following dot operator");
      }
      object = m;
    }
    return object;
  }

  AstPtr primary() {
    Depth d(depth_);
    if (cur_ >= t_.size()) throw Error("Unexpected end of template inside an expression");
    const Token& t = t_[cur_++];
    switch (t.type) {
      case Tok::kNumber: {
        auto n = node(t.value.find('.') != std::string::npos ? Node::kFloat : Node::kInt);
        n->num = std::strtod(t.value.c_str(), nullptr);
        return n;
      }
      case Tok::kString: {
        auto n = node(Node::kString);
        n->str = t.value;
        while (is(Tok::kString)) n->str += t_[cur_++].value;  // adjacent literals concatenate
        return n;
      }
      case Tok::kIdent: {
        auto n = node(Node::kIdent);
        n->str = t.value;
        return n;
      }
      case Tok::kOpenParen: {
        AstPtr e = sequence(false);
        expect(Tok::kCloseParen, "Expected closing parenthesis");
        return e;
      }
      case Tok::kOpenSquare: {
        auto n = node(Node::kArray);
        while (!is(Tok::kCloseSquare)) {
          if (cur_ >= t_.size()) throw Error("Expected closing square bracket");
          n->list.push_back(expression());
          if (is(Tok::kComma)) ++cur_;
        }
        ++cur_;
        return n;
      }
      case Tok::kOpenCurly: {
        auto n = node(Node::kObject);
        while (!is(Tok::kCloseCurly)) {
          if (cur_ >= t_.size()) throw Error("Expected closing curly bracket");
          AstPtr key = expression();
          expect(Tok::kColon, "Expected colon between key and value in object literal");
          n->pairs.emplace_back(key, expression());
          if (is(Tok::kComma)) ++cur_;
        }
        ++cur_;
        return n;
      }
      default: throw Error("Unexpected token: '" + t.value + "'");
    }
  }

  const std::vector<Token>& t_;
  size_t cur_ = 0;
  int depth_ = 0;
};

}  // namespace

AstPtr parse(const std::vector<Token>& tokens) { return Parser(tokens).program(); }

}  // namespace pocket::jinja
