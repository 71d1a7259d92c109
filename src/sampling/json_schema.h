// JSON Schema -> GBNF, so that constrained decoding produces documents that validate: objects
// (properties in the schema's order, required ones always, optional ones maybe; no properties beyond
// the schema's), arrays (items, prefixItems, minItems/maxItems), strings (enum, const, minLength /
// maxLength, format date / time / date-time / uuid), integers (bounded ranges), numbers, booleans,
// null, anyOf / oneOf, type lists, nullable, $ref into $defs / definitions (recursion allowed).
// A keyword that would constrain the output and is not handled (pattern, multipleOf, minProperties,
// ...) is an error naming it and where it is: never a grammar that silently ignores it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "pocket/status.h"

namespace pocket {

// Errors carry the field "json_schema" and name the path in the schema ("properties.age.pattern").
Result<std::string> json_schema_to_gbnf(const nlohmann::ordered_json& schema);

// Any JSON object (response_format json_object): root ::= object, with the JSON value rules.
std::string json_object_gbnf();

// A GBNF string literal (quoted, escaped) for text.
std::string gbnf_literal(const std::string& text);

}  // namespace pocket
