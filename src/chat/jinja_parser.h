// Jinja parser: tokens -> syntax tree, with the grammar and operator precedence of @huggingface/jinja.
#pragma once

#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_lexer.h"

namespace pocket::jinja {

// Throws jinja::Error naming what was expected. Nesting deeper than a few hundred levels is refused
// (a hostile template must not exhaust the stack).
AstPtr parse(const std::vector<Token>& tokens);

}  // namespace pocket::jinja
