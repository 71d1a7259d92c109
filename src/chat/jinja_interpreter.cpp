#include "chat/jinja_interpreter.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "chat/jinja_text.h"

namespace pocket::jinja {

namespace {

struct BreakSignal {};
struct ContinueSignal {};

const char* const kMonthsLong[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};
const char* const kMonthsShort[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// The reference's strftime: %Y %m %d %b %B %H %M %% in local time, English month names.
std::string strftime_now(const std::string& fmt) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  auto pad2 = [](int n) {
    char b[16];
    std::snprintf(b, sizeof b, "%02d", n);
    return std::string(b);
  };
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%' || i + 1 >= fmt.size()) {
      out += fmt[i];
      continue;
    }
    const char c = fmt[i + 1];
    switch (c) {
      case 'Y': out += std::to_string(tm.tm_year + 1900); break;
      case 'm': out += pad2(tm.tm_mon + 1); break;
      case 'd': out += pad2(tm.tm_mday); break;
      case 'b': out += kMonthsShort[tm.tm_mon]; break;
      case 'B': out += kMonthsLong[tm.tm_mon]; break;
      case 'H': out += pad2(tm.tm_hour); break;
      case 'M': out += pad2(tm.tm_min); break;
      case '%': out += '%'; break;
      default: out += '%'; continue;  // not a directive: kept, and the next character read as text
    }
    ++i;
  }
  return out;
}

// Does a macro body read `kwargs` / `varargs` (they are then collected instead of refused)?
void find_specials(const AstPtr& n, bool* kwargs, bool* varargs) {
  if (!n) return;
  if (n->type == Node::kIdent) {
    if (n->str == "kwargs") *kwargs = true;
    if (n->str == "varargs") *varargs = true;
  }
  for (const AstPtr* p : {&n->a, &n->b, &n->c}) find_specials(*p, kwargs, varargs);
  for (const auto* v : {&n->list, &n->body, &n->alt})
    for (const AstPtr& x : *v) find_specials(x, kwargs, varargs);
  for (const auto& [k, v] : n->pairs) {
    find_specials(k, kwargs, varargs);
    find_specials(v, kwargs, varargs);
  }
}

std::string param_name(const AstPtr& p) { return p->str; }  // kIdent and kKwarg both keep the name in str

}  // namespace

Value Env::lookup(const std::string& name) const {
  for (const Env* e = this; e; e = e->parent_.get()) {
    auto it = e->vars_.find(name);
    if (it != e->vars_.end()) return it->second;
  }
  return Value::undefined();
}

std::shared_ptr<Env> Interpreter::globals() {
  auto env = std::make_shared<Env>();
  for (const char* t : {"true", "True"}) env->set(t, Value::of(true));
  for (const char* f : {"false", "False"}) env->set(f, Value::of(false));
  for (const char* n : {"none", "None"}) env->set(n, Value::null());
  env->set("namespace", Value::function([](std::vector<Value>& args, const std::shared_ptr<Env>&) {
             std::vector<Value> positional = args;
             Value kwargs;
             if (!positional.empty() && positional.back().kind == Kind::kKwargs) {
               kwargs = positional.back();
               positional.pop_back();
             }
             if (positional.size() > 1) throw Error("namespace expected at most 1 argument, got " + std::to_string(positional.size()));
             Value ns = Value::make_object(Kind::kNamespace);
             if (positional.size() == 1) {
               const Value& src = positional[0];
               if (src.is_object()) {
                 for (const auto& [k, v] : src.object->items()) ns.object->set(k, v);
               } else if (src.is_array()) {
                 for (const Value& pair : *src.array) {
                   std::vector<Value> kv;
                   if (pair.is_array()) kv = *pair.array;
                   if (kv.size() != 2) throw Error("namespace expected an object or an iterable of [key, value] pairs");
                   if (kv[0].kind != Kind::kString) throw Error("namespace keys must be strings");
                   ns.object->set(kv[0].str, kv[1]);
                 }
               } else {
                 throw Error(std::string("'") + src.type_name() + "' object is not iterable");
               }
             }
             if (kwargs.object)
               for (const auto& [k, v] : kwargs.object->items()) ns.object->set(k, v);
             return ns;
           }));
  env->set("raise_exception", Value::function([](std::vector<Value>& args, const std::shared_ptr<Env>&) -> Value {
             throw Error(args.empty() ? std::string("raise_exception") : args[0].raw_string());
           }));
  env->set("range", Value::function([](std::vector<Value>& args, const std::shared_ptr<Env>&) {
             for (const Value& a : args)
               if (!a.is_number()) throw Error("range() arguments must be numbers");
             double start = 0, stop = 0, step = 1;
             if (args.size() == 1) {
               stop = args[0].number;
             } else if (args.size() >= 2) {
               start = args[0].number;
               stop = args[1].number;
               if (args.size() >= 3) step = args[2].number;
             } else {
               throw Error("range() needs at least one argument");
             }
             if (step == 0) throw Error("range() step must not be zero");
             const double count = std::ceil((stop - start) / step);
             if (count > 100000) throw Error("range() of more than 100000 numbers");
             Array out;
             for (double i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(Value::integer(i));
             return Value::make_array(std::move(out));
           }));
  env->set("strftime_now", Value::function([](std::vector<Value>& args, const std::shared_ptr<Env>&) {
             return Value::string(strftime_now(args.empty() ? std::string() : args[0].raw_string()));
           }));
  return env;
}

std::string Interpreter::checked(std::string s) const {
  if (s.size() > limits_.max_string) throw Error("template output longer than " + std::to_string(limits_.max_string) + " bytes");
  return s;
}

std::string Interpreter::run(const AstPtr& program, const std::shared_ptr<Env>& env) {
  try {
    return block(program->body, env);
  } catch (const BreakSignal&) { throw Error("break outside a loop"); } catch (const ContinueSignal&) {
    throw Error("continue outside a loop");
  }
}

std::string Interpreter::block(const std::vector<AstPtr>& statements, const std::shared_ptr<Env>& env) {
  std::string out;
  for (const AstPtr& s : statements) {
    const Value v = evaluate(s, env);
    if (v.is_none()) continue;
    out += v.kind == Kind::kString ? v.str : v.to_string();
    if (out.size() > limits_.max_string) throw Error("template output longer than " + std::to_string(limits_.max_string) + " bytes");
  }
  return out;
}

void Interpreter::evaluate_arguments(const std::vector<AstPtr>& args, const std::shared_ptr<Env>& env, std::vector<Value>* positional,
                                     Object* keywords) {
  for (const AstPtr& a : args) {
    if (a->type == Node::kSpread) {
      const Value v = evaluate(a->a, env);
      if (!v.is_array()) throw Error(std::string("Cannot unpack non-iterable type: ") + v.type_name());
      positional->insert(positional->end(), v.array->begin(), v.array->end());
    } else if (a->type != Node::kKwarg && a->type != Node::kKwSpread) {
      positional->push_back(evaluate(a, env));
    }
  }
  auto add = [&](const std::string& k, Value v) {
    if (keywords->find(k)) throw Error("Got multiple values for keyword argument '" + k + "'");
    keywords->set(k, std::move(v));
  };
  for (const AstPtr& a : args) {
    if (a->type == Node::kKwarg) {
      add(a->str, evaluate(a->a, env));
    } else if (a->type == Node::kKwSpread) {
      const Value v = evaluate(a->a, env);
      if (!v.is_object()) throw Error(std::string("Argument after ** must be a mapping, not ") + v.type_name());
      for (const auto& [k, x] : v.object->items()) add(k, x);
    }
  }
}

Value Interpreter::apply_filter(const Value& operand, const AstPtr& filter, const std::shared_ptr<Env>& env) {
  if (filter->type == Node::kIdent) return filter_by_name(operand, filter->str, *this, env);
  if (filter->type == Node::kCall) {
    if (filter->a->type != Node::kIdent) throw Error("Unknown filter: not a name");
    return filter_call(operand, filter->a->str, filter->list, *this, env);
  }
  throw Error("Unknown filter");
}

Value Interpreter::evaluate(const AstPtr& n, const std::shared_ptr<Env>& env) {
  if (!n) return Value::undefined();
  if (++steps_ > limits_.max_steps) throw Error("template evaluation took more than " + std::to_string(limits_.max_steps) + " steps");
  switch (n->type) {
    case Node::kProgram: return Value::string(block(n->body, env));
    case Node::kText:
    case Node::kString: return Value::string(n->str);
    case Node::kSet: set(*n, env); return Value::null();
    case Node::kIf: return Value::string(block(evaluate(n->a, env).truthy() ? n->body : n->alt, env));
    case Node::kFor: return for_loop(*n, env);
    case Node::kMacro: env->set(n->str, macro_function(n, "'" + n->str + "'")); return Value::null();
    case Node::kCallBlock: {
      std::weak_ptr<Env> weak = env;
      bool kw = false, va = false;
      for (const AstPtr& s : n->body) find_specials(s, &kw, &va);
      for (const AstPtr& p : n->list)
        if (p->str == "kwargs" || p->str == "varargs") (p->str == "kwargs" ? kw : va) = false;
      const AstPtr self = n;
      Value caller = Value::function([this, weak, self, kw, va](std::vector<Value>& args, const std::shared_ptr<Env>&) {
        auto outer = weak.lock();
        if (!outer) throw Error("caller() used after its call block ended");
        auto scope = std::make_shared<Env>(outer);
        bind_arguments("None", self->list, kw, va, args, scope);
        return Value::string(block(self->body, scope));
      });
      std::vector<Value> args;
      Object kwargs;
      evaluate_arguments(n->a->list, env, &args, &kwargs);
      Value kv = Value::make_object(Kind::kKwargs);
      *kv.object = kwargs;
      args.push_back(kv);
      const Value fn = evaluate(n->a->a, env);
      if (fn.kind != Kind::kFunction) throw Error(std::string("Cannot call something that is not a function: got ") + fn.type_name());
      auto call_env = std::make_shared<Env>(env);
      call_env->set("caller", caller);
      return (*fn.fn)(args, call_env);
    }
    case Node::kFilterBlock: return apply_filter(Value::string(block(n->body, env)), n->a, env);
    case Node::kBreak: throw BreakSignal{};
    case Node::kContinue: throw ContinueSignal{};
    case Node::kComment: return Value::null();
    case Node::kInt: return Value::integer(n->num);
    case Node::kFloat: return Value::real(n->num);
    case Node::kArray:
    case Node::kTuple: {
      Array items;
      for (const AstPtr& x : n->list) items.push_back(evaluate(x, env));
      return Value::make_array(std::move(items), n->type == Node::kTuple ? Kind::kTuple : Kind::kArray);
    }
    case Node::kObject: {
      Value o = Value::make_object();
      for (const auto& [k, v] : n->pairs) {
        const Value key = evaluate(k, env);
        if (key.kind != Kind::kString) throw Error(std::string("Object keys must be strings: got ") + key.type_name());
        o.object->set(key.str, evaluate(v, env));
      }
      return o;
    }
    case Node::kIdent: return env->lookup(n->str);
    case Node::kCall: return call(*n, env);
    case Node::kMember: return member(*n, env);
    case Node::kUnary: {
      const Value v = evaluate(n->a, env);
      if (n->str == "not") return Value::of(!v.truthy());
      if (!v.is_numeric_like()) throw Error("Unknown operator \"" + n->str + "\" for " + v.type_name());
      const double r = (n->str == "-" ? -1 : 1) * v.numeric();
      return v.kind == Kind::kFloat ? Value::real(r) : Value::integer(r);
    }
    case Node::kBinary: return binary(*n, env);
    case Node::kFilter: return apply_filter(evaluate(n->a, env), n->b, env);
    case Node::kTest: {
      const Value v = evaluate(n->a, env);
      if (!has_test(n->str)) throw Error("Unknown test: " + n->str);
      const bool r = run_test(n->str, v);
      return Value::of(n->flag ? !r : r);
    }
    case Node::kSelect: return evaluate(n->b, env).truthy() ? evaluate(n->a, env) : Value::undefined();
    case Node::kTernary: return evaluate(n->a, env).truthy() ? evaluate(n->b, env) : evaluate(n->c, env);
    default: throw Error("Unknown node type in this position");
  }
}

Value Interpreter::binary(const Ast& n, const std::shared_ptr<Env>& env) {
  const std::string& op = n.str;
  const Value l = evaluate(n.a, env);
  if (op == "and") return l.truthy() ? evaluate(n.b, env) : l;
  if (op == "or") return l.truthy() ? l : evaluate(n.b, env);
  const Value r = evaluate(n.b, env);
  if (op == "==") return Value::of(loose_equals(l, r));
  if (op == "!=") return Value::of(!loose_equals(l, r));
  const bool in = op == "in" || op == "not in";
  if (l.kind == Kind::kUndefined || r.kind == Kind::kUndefined) {
    if (r.kind == Kind::kUndefined && in) return Value::of(op == "not in");
    throw Error("Cannot perform operation " + op + " on undefined values");
  }
  if (l.kind == Kind::kNull || r.kind == Kind::kNull) throw Error("Cannot perform operation on null values");
  if (op == "~") return Value::string(checked(l.raw_string() + r.raw_string()));
  if (op == "**" && l.is_numeric_like() && r.is_numeric_like()) {
    const double a = l.numeric(), b = r.numeric();
    if (a == 0 && b < 0) throw Error("0.0 cannot be raised to a negative power");
    const double res = std::pow(a, b);
    if (!std::isfinite(res)) throw Error("Exponentiation result is not a finite real number");
    return l.kind == Kind::kFloat || r.kind == Kind::kFloat || b < 0 ? Value::real(res) : Value::integer(res);
  }
  if (l.is_number() && r.is_number()) {
    const double a = l.number, b = r.number;
    const bool fl = l.kind == Kind::kFloat || r.kind == Kind::kFloat;
    auto num = [&](double x) { return fl ? Value::real(x) : Value::integer(x); };
    if (op == "+") return num(a + b);
    if (op == "-") return num(a - b);
    if (op == "*") return num(a * b);
    if (op == "/") return Value::real(a / b);
    if (op == "//") return num(std::floor(a / b));
    if (op == "%") return num(std::fmod(a, b));
    if (op == "<") return Value::of(a < b);
    if (op == ">") return Value::of(a > b);
    if (op == ">=") return Value::of(a >= b);
    if (op == "<=") return Value::of(a <= b);
  } else if (l.is_array() && r.is_array()) {
    if (op == "+") {
      Array items = *l.array;
      items.insert(items.end(), r.array->begin(), r.array->end());
      return Value::make_array(std::move(items));
    }
  } else if (r.is_array() && in) {
    bool member = false;
    for (const Value& x : *r.array) member = member || strict_equals(x, l);
    return Value::of(op == "in" ? member : !member);
  }
  if ((l.kind == Kind::kString || r.kind == Kind::kString) && op == "+") return Value::string(checked(l.raw_string() + r.raw_string()));
  if (l.kind == Kind::kString && r.kind == Kind::kString && in) {
    const bool has = r.str.find(l.str) != std::string::npos;
    return Value::of(op == "in" ? has : !has);
  }
  if (l.kind == Kind::kString && r.is_object() && in) {
    const bool has = r.object->find(l.str) != nullptr;
    return Value::of(op == "in" ? has : !has);
  }
  throw Error("Unknown operator \"" + op + "\" between " + l.type_name() + " and " + r.type_name());
}

Value Interpreter::member(const Ast& n, const std::shared_ptr<Env>& env) {
  const Value object = evaluate(n.a, env);
  Value property;
  if (n.flag) {
    if (n.b->type == Node::kSlice) return slice_value(object, evaluate(n.b->a, env), evaluate(n.b->b, env), evaluate(n.b->c, env));
    property = evaluate(n.b, env);
  } else if (n.b->type == Node::kInt) {
    property = Value::integer(n.b->num);
  } else {
    property = Value::string(n.b->str);
  }
  if (object.is_container()) {
    if (property.kind != Kind::kString) throw Error(std::string("Cannot access property with non-string: got ") + property.type_name());
    if (const Value* v = object.object->find(property.str)) return *v;
    return object.is_object() ? builtin_member(object, property.str, *this) : Value::undefined();
  }
  if (object.is_array() || object.kind == Kind::kString) {
    if (property.kind == Kind::kInt) {
      if (object.is_array()) {
        const double len = (double)object.array->size();
        const double i = property.number < 0 ? property.number + len : property.number;
        return i >= 0 && i < len ? (*object.array)[(size_t)i] : Value::undefined();
      }
      const std::vector<std::string> chars = code_points(object.str);
      const double len = (double)chars.size();
      const double i = property.number < 0 ? property.number + len : property.number;
      return i >= 0 && i < len ? Value::string(chars[(size_t)i]) : Value::undefined();
    }
    if (property.kind == Kind::kString) return builtin_member(object, property.str, *this);
    throw Error(std::string("Cannot access property with non-string/non-number: got ") + property.type_name());
  }
  if (property.kind != Kind::kString) throw Error(std::string("Cannot access property with non-string: got ") + property.type_name());
  return builtin_member(object, property.str, *this);
}

Value Interpreter::call(const Ast& n, const std::shared_ptr<Env>& env) {
  std::vector<Value> args;
  Object kwargs;
  evaluate_arguments(n.list, env, &args, &kwargs);
  if (kwargs.size() > 0) {
    Value kv = Value::make_object(Kind::kKwargs);
    *kv.object = std::move(kwargs);
    args.push_back(std::move(kv));
  }
  const Value fn = evaluate(n.a, env);
  if (fn.kind != Kind::kFunction) throw Error(std::string("Cannot call something that is not a function: got ") + fn.type_name());
  return (*fn.fn)(args, env);
}

Value Interpreter::for_loop(const Ast& n, const std::shared_ptr<Env>& env) {
  auto scope = std::make_shared<Env>(env);
  AstPtr test;
  Value iterable;
  if (n.b->type == Node::kSelect) {
    iterable = evaluate(n.b->a, scope);
    test = n.b->b;
  } else {
    iterable = evaluate(n.b, scope);
  }
  if (!iterable.is_array() && !iterable.is_object())
    throw Error(std::string("Expected iterable or object type in for loop: got ") + iterable.type_name());
  Array all;
  if (iterable.is_object()) {
    for (const auto& [k, v] : iterable.object->items()) all.push_back(Value::string(k));
  } else {
    all = *iterable.array;
  }
  auto bind = [&](const Value& current, const std::shared_ptr<Env>& s) {
    if (n.a->type == Node::kIdent) {
      s->set(n.a->str, current);
      return;
    }
    if (current.kind != Kind::kArray) throw Error(std::string("Cannot unpack non-iterable type: ") + current.type_name());
    if (n.a->list.size() != current.array->size())
      throw Error(std::string("Too ") + (n.a->list.size() > current.array->size() ? "few" : "many") + " items to unpack");
    for (size_t j = 0; j < n.a->list.size(); ++j) {
      if (n.a->list[j]->type != Node::kIdent) throw Error("Cannot unpack non-identifier type");
      s->set(n.a->list[j]->str, (*current.array)[j]);
    }
  };
  Array items;
  for (const Value& current : all) {
    if (++steps_ > limits_.max_steps) throw Error("template evaluation took more than " + std::to_string(limits_.max_steps) + " steps");
    if (test) {
      auto loop_scope = std::make_shared<Env>(scope);
      bind(current, loop_scope);
      if (!evaluate(test, loop_scope).truthy()) continue;
    }
    items.push_back(current);
  }
  std::string result;
  bool no_iteration = true;
  const double len = (double)items.size();
  for (size_t i = 0; i < items.size(); ++i) {
    // An iteration costs a loop object and a scope update: charged as several steps.
    steps_ += 8;
    if (steps_ > limits_.max_steps) throw Error("template evaluation took more than " + std::to_string(limits_.max_steps) + " steps");
    Value loop = Value::make_object();
    loop.object->set("index", Value::integer((double)i + 1));
    loop.object->set("index0", Value::integer((double)i));
    loop.object->set("revindex", Value::integer(len - (double)i));
    loop.object->set("revindex0", Value::integer(len - (double)i - 1));
    loop.object->set("first", Value::of(i == 0));
    loop.object->set("last", Value::of(i + 1 == items.size()));
    loop.object->set("length", Value::integer(len));
    loop.object->set("previtem", i > 0 ? items[i - 1] : Value::undefined());
    loop.object->set("nextitem", i + 1 < items.size() ? items[i + 1] : Value::undefined());
    scope->set("loop", loop);
    bind(items[i], scope);
    try {
      result += block(n.body, scope);
      if (result.size() > limits_.max_string) throw Error("template output longer than " + std::to_string(limits_.max_string) + " bytes");
    } catch (const ContinueSignal&) { continue; } catch (const BreakSignal&) {
      break;
    }
    no_iteration = false;
  }
  if (no_iteration) result += block(n.alt, scope);
  return Value::string(std::move(result));
}

void Interpreter::set(const Ast& n, const std::shared_ptr<Env>& env) {
  const Value rhs = n.b ? evaluate(n.b, env) : Value::string(block(n.body, env));
  const Ast& target = *n.a;
  if (target.type == Node::kIdent) {
    env->set(target.str, rhs);
  } else if (target.type == Node::kTuple) {
    if (!rhs.is_array()) throw Error(std::string("Cannot unpack non-iterable type in set: ") + rhs.type_name());
    if (rhs.array->size() != target.list.size())
      throw Error(std::string("Too ") + (target.list.size() > rhs.array->size() ? "few" : "many") + " items to unpack in set");
    for (size_t i = 0; i < target.list.size(); ++i) {
      if (target.list[i]->type != Node::kIdent) throw Error("Cannot unpack to non-identifier in set");
      env->set(target.list[i]->str, (*rhs.array)[i]);
    }
  } else if (target.type == Node::kMember) {
    const Value object = evaluate(target.a, env);
    if (object.kind != Kind::kNamespace) throw Error("cannot assign attribute on non-namespace object");
    if (target.b->type != Node::kIdent || target.flag) throw Error("Cannot assign to member with non-identifier property");
    object.object->set(target.b->str, rhs);
  } else {
    throw Error("Invalid LHS inside assignment expression");
  }
}

Value Interpreter::macro_function(const AstPtr& macro_node, std::string display) {
  bool kw = false, va = false;
  for (const AstPtr& s : macro_node->body) find_specials(s, &kw, &va);
  for (const AstPtr& p : macro_node->list) {
    find_specials(p->type == Node::kKwarg ? p->a : nullptr, &kw, &va);
    if (param_name(p) == "kwargs") kw = false;
    if (param_name(p) == "varargs") va = false;
  }
  const AstPtr self = macro_node;
  return Value::function([this, self, display, kw, va](std::vector<Value>& args, const std::shared_ptr<Env>& caller_scope) {
    if (++call_depth_ > limits_.max_call_depth) {
      --call_depth_;
      throw Error("macro calls nest deeper than " + std::to_string(limits_.max_call_depth));
    }
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{call_depth_};
    auto scope = std::make_shared<Env>(caller_scope);  // the reference scopes a macro body at its call site
    bind_arguments(display, self->list, kw, va, args, scope);
    return Value::string(block(self->body, scope));
  });
}

void Interpreter::bind_arguments(const std::string& display, const std::vector<AstPtr>& params, bool use_kwargs, bool use_varargs,
                                 std::vector<Value> args, const std::shared_ptr<Env>& scope) {
  Object keywords;
  if (!args.empty() && args.back().kind == Kind::kKwargs) {
    keywords = *args.back().object;
    args.pop_back();
  }
  std::vector<std::pair<std::string, AstPtr>> pending;
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string name = param_name(params[i]);
    Value v;
    bool given = i < args.size();
    if (given) v = args[i];
    if (!given && keywords.find(name)) {
      v = *keywords.find(name);
      keywords.erase(name);
      given = true;
    }
    if (!given && params[i]->type == Node::kKwarg) pending.emplace_back(name, params[i]->a);
    scope->set(name, v);
  }
  if (use_kwargs) {
    Value kv = Value::make_object();
    *kv.object = keywords;
    scope->set("kwargs", kv);
  } else if (keywords.size() > 0) {
    throw Error("macro " + display + " takes no keyword argument '" + keywords.items()[0].first + "'");
  }
  if (use_varargs) {
    Array rest;
    for (size_t i = params.size(); i < args.size(); ++i) rest.push_back(args[i]);
    scope->set("varargs", Value::make_array(std::move(rest)));
  } else if (args.size() > params.size()) {
    throw Error("macro " + display + " takes not more than " + std::to_string(params.size()) + " argument(s)");
  }
  for (const auto& [name, def] : pending) scope->set(name, evaluate(def, scope));
}

}  // namespace pocket::jinja
