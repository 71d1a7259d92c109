// Jinja runtime values, with the semantics of @huggingface/jinja (the reference chat templates are
// checked against): numbers are doubles tagged integer or float, strings are UTF-8, arrays, objects
// (insertion-ordered) and namespaces are shared by reference, so `ns.x = ...` and `loop` work as in
// Jinja. Printing and tojson follow JavaScript's number and JSON formatting, as the reference does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace pocket::jinja {

// A template error (syntax, type, raise_exception): the message says what went wrong.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Kind : uint8_t { kUndefined, kNull, kBool, kInt, kFloat, kString, kArray, kTuple, kObject, kKwargs, kNamespace, kFunction };

struct Value;
class Env;
using Array = std::vector<Value>;
// Positional arguments; keyword arguments arrive as a last value of kind kKwargs.
using Function = std::function<Value(std::vector<Value>& args, const std::shared_ptr<Env>& scope)>;

// An insertion-ordered map (JavaScript Map): tojson and items() keep the order the keys came in.
class Object {
 public:
  const Value* find(const std::string& key) const;
  void set(const std::string& key, Value v);
  bool erase(const std::string& key);
  size_t size() const;  // (defined below Value: clang wants the element type complete)
  const std::vector<std::pair<std::string, Value>>& items() const;

 private:
  std::vector<std::pair<std::string, Value>> items_;
  std::unordered_map<std::string, size_t> index_;
};

struct Value {
  Kind kind = Kind::kUndefined;
  bool boolean = false;
  double number = 0;
  std::string str;
  std::shared_ptr<Array> array;    // kArray, kTuple
  std::shared_ptr<Object> object;  // kObject, kKwargs, kNamespace
  std::shared_ptr<Function> fn;

  static Value undefined() { return Value(); }
  static Value null();
  static Value of(bool b);
  static Value integer(double v);
  static Value real(double v);
  static Value string(std::string s);
  static Value make_array(Array items = {}, Kind k = Kind::kArray);
  static Value make_object(Kind k = Kind::kObject);
  static Value function(Function f);

  bool is_array() const { return kind == Kind::kArray || kind == Kind::kTuple; }     // instanceof ArrayValue
  bool is_object() const { return kind == Kind::kObject || kind == Kind::kKwargs; }  // instanceof ObjectValue
  bool is_container() const { return is_object() || kind == Kind::kNamespace; }      // has attributes
  bool is_number() const { return kind == Kind::kInt || kind == Kind::kFloat; }
  bool is_numeric_like() const { return is_number() || kind == Kind::kBool; }
  bool is_none() const { return kind == Kind::kNull || kind == Kind::kUndefined; }
  double numeric() const { return kind == Kind::kBool ? (boolean ? 1 : 0) : number; }

  bool truthy() const;
  // What {{ value }} prints.
  std::string to_string() const;
  // JavaScript's String(value.value): what `~` and `+` concatenate.
  std::string raw_string() const;
  const char* type_name() const;
};

inline size_t Object::size() const { return items_.size(); }
inline const std::vector<std::pair<std::string, Value>>& Object::items() const { return items_; }

// Loose (==) and strict (===, the `in` operator's) equality of the values' JavaScript values.
bool loose_equals(const Value& a, const Value& b);
bool strict_equals(const Value& a, const Value& b);

struct JsonOptions {
  int indent = -1;  // < 0: none
  bool ensure_ascii = false;
  bool sort_keys = false;
  bool has_separators = false;
  std::string item_sep, key_sep;
};
// tojson; undefined becomes null (or "undefined" when printing a container).
std::string to_json(const Value& v, const JsonOptions& opts, bool undefined_to_null = true, int depth = 0);

// JavaScript's Number.prototype.toString and JSON.stringify(string).
std::string js_number(double x);
std::string js_quote(const std::string& s);

// A request's JSON (messages, tools) as template values; floats with an integral value become
// integers, as they do when JavaScript parses JSON.
Value from_json(const nlohmann::ordered_json& j);

}  // namespace pocket::jinja
