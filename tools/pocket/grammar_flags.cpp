// --grammar FILE (GBNF) or --json-schema FILE, shared by `pocket run`, `pocket bench` and `pocket grammar`:
// the grammar's GBNF text, a JSON Schema converted first.
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/mapped_file.h"
#include "sampling/json_schema.h"

namespace pocket::cli {

Result<std::string> grammar_text(const std::string& grammar_file, const std::string& json_schema_file) {
  if (grammar_file.empty() && json_schema_file.empty()) return std::string();
  if (!grammar_file.empty() && !json_schema_file.empty()) return Status(ErrorCode::kInvalidArgument, "give --grammar or --json-schema, not both");
  const std::string& path = grammar_file.empty() ? json_schema_file : grammar_file;
  auto text = read_text_file(path, 16u << 20);
  if (!text) return text.status();
  if (json_schema_file.empty()) {
    if (text.value().empty()) return Status(ErrorCode::kInvalidArgument, path + ": the grammar file is empty");
    return text.value();
  }
  const auto schema = nlohmann::ordered_json::parse(text.value(), nullptr, false);
  if (schema.is_discarded()) return Status(ErrorCode::kInvalidArgument, path + ": not valid JSON");
  auto g = json_schema_to_gbnf(schema);
  if (!g) return Status(ErrorCode::kInvalidArgument, path + ": " + g.status().message());
  return g.value();
}

}  // namespace pocket::cli
