// Jinja lexer: template text -> tokens, with the whitespace control chat templates rely on
// (trim_blocks and lstrip_blocks on, `-` markers, one trailing newline dropped), as
// @huggingface/jinja and transformers render them.
#pragma once

#include <string>
#include <vector>

namespace pocket::jinja {

enum class Tok {
  kText,
  kNumber,
  kString,
  kIdent,
  kEquals,
  kOpenParen,
  kCloseParen,
  kOpenStatement,
  kCloseStatement,
  kOpenExpression,
  kCloseExpression,
  kOpenSquare,
  kCloseSquare,
  kOpenCurly,
  kCloseCurly,
  kComma,
  kDot,
  kColon,
  kPipe,
  kAdditive,        // + - ~
  kMultiplicative,  // * / // %
  kPower,           // **
  kComparison,      // < > <= >= == !=
  kUnary,           // a lone + or - (not followed by a number)
  kComment,
};

struct Token {
  Tok type;
  std::string value;
};

// Throws jinja::Error naming the problem.
std::vector<Token> tokenize(const std::string& source);

}  // namespace pocket::jinja
