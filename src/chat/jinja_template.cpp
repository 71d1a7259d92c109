#include "chat/jinja_template.h"

#include "chat/jinja_interpreter.h"
#include "chat/jinja_parser.h"

namespace pocket {

Result<JinjaTemplate> JinjaTemplate::compile(const std::string& source) {
  try {
    JinjaTemplate t;
    t.program_ = jinja::parse(jinja::tokenize(source));
    return t;
  } catch (const jinja::Error& e) {
    return Status(ErrorCode::kFormatError, std::string("chat template: syntax: ") + e.what());
  } catch (const std::exception& e) {  // std::bad_alloc and the like: still an error, not a crash
    return Status(ErrorCode::kFormatError, std::string("chat template: ") + e.what());
  }
}

Result<std::string> JinjaTemplate::render(const nlohmann::ordered_json& context) const {
  if (!context.is_object()) return Status(ErrorCode::kInvalidArgument, "chat template: the context must be a JSON object");
  try {
    std::shared_ptr<jinja::Env> env = jinja::Interpreter::globals();
    auto scope = std::make_shared<jinja::Env>(env);
    for (auto it = context.begin(); it != context.end(); ++it) scope->set(it.key(), jinja::from_json(it.value()));
    jinja::Interpreter in;
    return in.run(program_, scope);
  } catch (const jinja::Error& e) {
    return Status(ErrorCode::kInvalidArgument, std::string("chat template: ") + e.what());
  } catch (const std::exception& e) { return Status(ErrorCode::kInvalidArgument, std::string("chat template: ") + e.what()); }
}

}  // namespace pocket
