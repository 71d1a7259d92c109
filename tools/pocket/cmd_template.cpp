// pocket template: render a chat template (a GGUF's tokenizer.chat_template, a .jinja file or a
// tokenizer_config.json) over messages and tools from JSON files, exactly as the server sends it to
// the model; --cases renders many (template, context) pairs in one run (the tests compare them with
// @huggingface/jinja).
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "chat/jinja_template.h"
#include "commands.h"
#include "format/gguf_reader.h"

namespace pocket::cli {
namespace {

using ordered_json = nlohmann::ordered_json;

struct TemplateArgs {
  std::string model, template_file, messages, tools, cases, context;
  bool no_generation_prompt = false;
};

bool read_text(const std::string& path, std::string* out, std::string* err) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *err = path + ": cannot open";
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

bool read_json(const std::string& path, ordered_json* out, std::string* err) {
  std::string text;
  if (!read_text(path, &text, err)) return false;
  *out = ordered_json::parse(text, nullptr, false);
  if (out->is_discarded()) {
    *err = path + ": not valid JSON";
    return false;
  }
  return true;
}

// The template source: from the model file, a tokenizer_config.json (its chat_template) or a raw file.
bool template_source(const TemplateArgs& a, std::string* src, ordered_json* specials, std::string* err) {
  if (!a.model.empty()) {
    auto f = GgufFile::open(a.model);
    if (!f) {
      *err = f.status().message();
      return false;
    }
    *src = f.value()->get_string_or("tokenizer.chat_template", "");
    if (src->empty()) {
      *err = a.model + ": no tokenizer.chat_template in the file";
      return false;
    }
    return true;
  }
  if (!read_text(a.template_file, src, err)) return false;
  const ordered_json j = ordered_json::parse(*src, nullptr, false);
  if (j.is_object()) {  // tokenizer_config.json
    if (!j.contains("chat_template") || !j["chat_template"].is_string()) {
      *err = a.template_file + ": chat_template: missing or not a string";
      return false;
    }
    *src = j["chat_template"].get<std::string>();
    for (const char* k : {"bos_token", "eos_token"})
      if (j.contains(k) && j[k].is_string()) (*specials)[k] = j[k];
  }
  return true;
}

int run_cases(const std::string& path) {
  ordered_json cases;
  std::string err;
  if (!read_json(path, &cases, &err)) return fail(err);
  if (!cases.is_array()) return fail(path + ": must be a JSON array of {template, context}");
  ordered_json out = ordered_json::array();
  for (size_t i = 0; i < cases.size(); ++i) {
    const ordered_json& c = cases[i];
    if (!c.is_object() || !c.contains("template") || !c["template"].is_string() || !c.contains("context"))
      return fail(path + ": [" + std::to_string(i) + "]: needs a string 'template' and a 'context' object");
    auto t = JinjaTemplate::compile(c["template"].get<std::string>());
    if (!t) {
      out.push_back({{"error", t.status().message()}});
      continue;
    }
    auto r = t.value().render(c["context"]);
    if (r)
      out.push_back({{"output", r.value()}});
    else
      out.push_back({{"error", r.status().message()}});
  }
  std::printf("%s\n", out.dump(-1, ' ', false, ordered_json::error_handler_t::replace).c_str());
  return 0;
}

int run_template(const TemplateArgs& a) {
  if (!a.cases.empty()) return run_cases(a.cases);
  if (a.model.empty() == a.template_file.empty()) return fail("give one of -m MODEL.gguf or --template-file FILE");
  std::string src, err;
  ordered_json context = ordered_json::object();
  if (!template_source(a, &src, &context, &err)) return fail(err);
  if (!a.context.empty()) {
    ordered_json extra;
    if (!read_json(a.context, &extra, &err)) return fail(err);
    if (!extra.is_object()) return fail(a.context + ": must be a JSON object of template variables");
    for (auto it = extra.begin(); it != extra.end(); ++it) context[it.key()] = it.value();
  }
  if (!a.messages.empty()) {
    ordered_json m;
    if (!read_json(a.messages, &m, &err)) return fail(err);
    if (!m.is_array()) return fail(a.messages + ": must be a JSON array of messages");
    context["messages"] = m;
  }
  if (!a.tools.empty()) {
    ordered_json t;
    if (!read_json(a.tools, &t, &err)) return fail(err);
    if (!t.is_array()) return fail(a.tools + ": must be a JSON array of tools");
    context["tools"] = t;
  }
  if (!context.contains("messages")) return fail("--messages FILE is required (or a context with messages)");
  if (!context.contains("add_generation_prompt")) context["add_generation_prompt"] = !a.no_generation_prompt;
  auto t = JinjaTemplate::compile(src);
  if (!t) return fail(t.status());
  auto r = t.value().render(context);
  if (!r) return fail(r.status());
  std::fwrite(r.value().data(), 1, r.value().size(), stdout);
  return 0;
}

}  // namespace

Runner register_template(CLI::App& app) {
  auto a = std::make_shared<TemplateArgs>();
  auto* sub = app.add_subcommand("template", "render a chat template (Jinja) over messages and tools, as the model will see them");
  sub->add_option("-m,--model", a->model, "GGUF model whose tokenizer.chat_template to render");
  sub->add_option("--template-file", a->template_file, "a Jinja template file, or a tokenizer_config.json with chat_template");
  sub->add_option("--messages", a->messages, "JSON file: the messages array (OpenAI shape)");
  sub->add_option("--tools", a->tools, "JSON file: the tools array");
  sub->add_option("--context", a->context, "JSON file: more template variables (bos_token, enable_thinking, ...)");
  sub->add_flag("--no-generation-prompt", a->no_generation_prompt, "render without the assistant turn's opening (add_generation_prompt false)");
  sub->add_option("--cases", a->cases, "JSON file [{template, context}]: render each, print [{output} | {error}]");
  return [a] { return run_template(*a); };
}

}  // namespace pocket::cli
