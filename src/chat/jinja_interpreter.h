// Jinja evaluation: scopes, statements, expressions; the filters, tests and methods live in
// jinja_builtins.cpp. Evaluation is bounded (steps, output size, call depth) so a hostile template
// in a model file ends with an error instead of a hang or an exhausted machine.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace pocket::jinja {

struct Limits {
  uint64_t max_steps = 2'000'000;  // evaluated nodes (real chat templates need a few thousand)
  size_t max_string = 16u << 20;   // bytes in one string
  int max_call_depth = 100;        // nested macro calls
};

class Env {
 public:
  explicit Env(std::shared_ptr<Env> parent = nullptr) : parent_(std::move(parent)) {}
  Value lookup(const std::string& name) const;
  void set(const std::string& name, Value v) { vars_[name] = std::move(v); }

 private:
  std::shared_ptr<Env> parent_;
  std::unordered_map<std::string, Value> vars_;
};

class Interpreter {
 public:
  explicit Interpreter(Limits limits = {}) : limits_(limits) {}
  // The global scope with true/false/none, namespace, range, raise_exception, strftime_now.
  static std::shared_ptr<Env> globals();
  std::string run(const AstPtr& program, const std::shared_ptr<Env>& env);

  // Used by the builtins.
  Value evaluate(const AstPtr& n, const std::shared_ptr<Env>& env);
  void evaluate_arguments(const std::vector<AstPtr>& args, const std::shared_ptr<Env>& env, std::vector<Value>* positional, Object* keywords);
  Value apply_filter(const Value& operand, const AstPtr& filter, const std::shared_ptr<Env>& env);
  std::string checked(std::string s) const;

 private:
  std::string block(const std::vector<AstPtr>& statements, const std::shared_ptr<Env>& env);
  Value binary(const Ast& n, const std::shared_ptr<Env>& env);
  Value member(const Ast& n, const std::shared_ptr<Env>& env);
  Value call(const Ast& n, const std::shared_ptr<Env>& env);
  Value for_loop(const Ast& n, const std::shared_ptr<Env>& env);
  void set(const Ast& n, const std::shared_ptr<Env>& env);
  Value macro_function(const AstPtr& macro_node, std::string display);
  void bind_arguments(const std::string& display, const std::vector<AstPtr>& params, bool use_kwargs, bool use_varargs, std::vector<Value> args,
                      const std::shared_ptr<Env>& scope);

  Limits limits_;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
};

// Builtins (jinja_builtins.cpp).
bool run_test(const std::string& name, const Value& operand);
bool run_test_with(const std::string& name, const Value& operand, const Value& arg);  // selectattr("x", "equalto", v)
bool has_test(const std::string& name);
// The methods and properties of a value (string.upper, dict.items, array.length, ...); undefined if none.
Value builtin_member(const Value& object, const std::string& name, Interpreter& in);
// A filter given by name alone (`x | trim`) or called with arguments (`x | tojson(indent=2)`).
Value filter_by_name(const Value& operand, const std::string& name, Interpreter& in, const std::shared_ptr<Env>& env);
Value filter_call(const Value& operand, const std::string& name, const std::vector<AstPtr>& args, Interpreter& in, const std::shared_ptr<Env>& env);
// [start:stop:step] of an array or a string (by code points).
Value slice_value(const Value& object, const Value& start, const Value& stop, const Value& step);

}  // namespace pocket::jinja
