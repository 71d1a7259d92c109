// pocket grammar: the GBNF a JSON Schema becomes (what run/serve constrain decoding with; llama.cpp's
// json_schema_to_grammar does the same), or a GBNF file checked: parsed, rules resolved, left
// recursion refused, and with -m compiled against the model's vocabulary.
#include <cstdio>

#include "commands.h"
#include "engine/engine.h"
#include "sampling/gbnf.h"

namespace pocket::cli {

Runner register_grammar(CLI::App& app) {
  auto grammar = std::make_shared<std::string>();
  auto schema = std::make_shared<std::string>();
  auto model = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("grammar", "print the GBNF grammar of a JSON Schema, or check a GBNF file (-m: against a model's vocabulary)");
  sub->add_option("--grammar", *grammar, "GBNF file to check")->check(CLI::ExistingFile);
  sub->add_option("--json-schema", *schema, "JSON Schema file: print its GBNF grammar on stdout")->check(CLI::ExistingFile);
  sub->add_option("-m,--model", *model, "also compile the grammar against this model's vocabulary")->check(CLI::ExistingFile);
  return [=] {
    if (grammar->empty() && schema->empty()) return fail("give --grammar FILE or --json-schema FILE");
    auto text = grammar_text(*grammar, *schema);
    if (!text) return fail(text.status());
    auto rules = parse_gbnf(text.value());
    if (!rules) return fail((grammar->empty() ? *schema : *grammar) + ": " + rules.status().message());
    if (!schema->empty()) std::fwrite(text.value().data(), 1, text.value().size(), stdout);
    if (!model->empty()) {
      EngineOptions eo;
      auto engine = Engine::load(*model, eo);
      if (!engine) return fail(engine.status());
      auto g = engine.value()->compile_grammar(text.value());
      if (!g) return fail((grammar->empty() ? *schema : *grammar) + ": " + g.status().message());
    }
    if (schema->empty())
      std::printf("%s: %zu rules%s\n", grammar->c_str(), rules.value().names.size(), model->empty() ? "" : ", compiled against the vocabulary");
    return 0;
  };
}

}  // namespace pocket::cli
