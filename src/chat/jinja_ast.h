// Jinja syntax tree: one node type with a tag and the few fields each construct uses (listed per tag).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pocket::jinja {

enum class Node {
  kProgram,      // body
  kText,         // str (template text, printed as is)
  kIf,           // a: test; body; alt (else / elif)
  kFor,          // a: loop variable (identifier or tuple); b: iterable (maybe a kSelect); body; alt (else)
  kBreak,        //
  kContinue,     //
  kSet,          // a: assignee; b: value (null: block set, body)
  kMacro,        // str: name; list: parameters; body
  kCallBlock,    // a: the call (kCall); list: caller parameters; body
  kFilterBlock,  // a: filter (identifier or call); body
  kComment,      //
  kInt,          // num
  kFloat,        // num
  kString,       // str
  kArray,        // list
  kTuple,        // list
  kObject,       // pairs
  kIdent,        // str
  kMember,       // a: object; b: property; flag: computed ([...])
  kCall,         // a: callee; list: arguments
  kUnary,        // str: operator; a: operand
  kBinary,       // str: operator; a, b
  kFilter,       // a: operand; b: filter (identifier or call)
  kTest,         // a: operand; str: test name; flag: negated
  kSelect,       // a: value; b: condition (`x if c` without else)
  kTernary,      // a: condition; b: if true; c: if false
  kSlice,        // a, b, c: start, stop, step (each may be null)
  kKwarg,        // str: name; a: value
  kSpread,       // a: *value
  kKwSpread,     // a: **value
};

struct Ast;
using AstPtr = std::shared_ptr<const Ast>;

struct Ast {
  Node type;
  std::string str;
  double num = 0;
  bool flag = false;
  AstPtr a, b, c;
  std::vector<AstPtr> list;
  std::vector<AstPtr> body, alt;
  std::vector<std::pair<AstPtr, AstPtr>> pairs;
};

}  // namespace pocket::jinja
