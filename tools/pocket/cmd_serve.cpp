// pocket serve: the OpenAI-compatible local server (src/server/).
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "commands.h"
#include "core/mapped_file.h"
#include "engine/engine.h"
#include "server/api_server.h"
#include "server/scheduler.h"

namespace pocket::cli {

namespace {

// 4 parallel sequences (a paged cache), batches of 64 tokens across them.
EngineOptions serve_engine_defaults() {
  EngineOptions e;
  e.n_parallel = 4;
  return e;
}

struct ServeArgs {
  std::string model, host = "127.0.0.1", chat_template, chat_template_file, api_key, name, cors_origin;
  int port = 8080;
  bool metrics_public = false;
  int max_queue = 64;
  double read_timeout = 10, idle_timeout = 5, timeout = 600;
  size_t max_body = 1 << 20;
  EngineOptions engine = serve_engine_defaults();  // -t, -c, -b, --parallel bind here
  KvFlags kv;
  DraftFlags draft;
};

int serve(const ServeArgs& a) {
  EngineOptions eo = a.engine;
  std::string err;
  if (!apply_kv_flags(a.kv, &eo, &err)) return fail(err);
  eo.kv_window = -1;  // paged sequences keep every position
  auto engine = Engine::load(a.model, eo);
  if (!engine) return fail(engine.status());
  ServerOptions so;
  so.model_id = a.name.empty() ? a.model.substr(a.model.find_last_of('/') + 1) : a.name;
  so.api_key = a.api_key;
  so.metrics_public = a.metrics_public;
  so.cors_origin = a.cors_origin;
  so.max_queue = a.max_queue;
  auto ms = [](double s) { return std::chrono::milliseconds((int64_t)(s * 1000)); };
  so.http.read_timeout = ms(a.read_timeout);
  so.http.idle_timeout = ms(a.idle_timeout);
  so.http.request_timeout = ms(a.timeout);
  so.http.max_body_bytes = a.max_body;
  // Idle keep-alive connections: enough for every sequence's client and a few browser tabs each.
  so.http.max_idle_connections = std::max(64, 16 * eo.n_parallel);
  const std::string jinja = engine.value()->model().file().get_string_or("tokenizer.chat_template", "");
  std::optional<ChatTemplate> family;
  if (!a.chat_template.empty()) {
    auto t = chat_template_from_name(a.chat_template);
    if (!t) return fail(t.status());
    family = t.value();
  }
  std::string jinja_src = jinja;
  if (!a.chat_template_file.empty()) {
    auto t = read_text_file(a.chat_template_file, 1u << 20);
    if (!t) return fail(t.status());
    jinja_src = t.value();
    if (family) return fail("give --chat-template or --chat-template-file, not both");
  }
  {
    const Vocab& v = engine.value()->tokenizer().vocab();
    auto special = [&](int32_t id) { return id >= 0 ? engine.value()->tokenizer().token_to_piece(id, true) : std::string(); };
    auto f = ChatFormatter::create(jinja_src, family, special(v.bos), special(v.eos));
    if (!f && !a.chat_template_file.empty()) return fail(a.chat_template_file + ": " + f.status().message());
    if (!f) {  // the file's template: said, and the family its markers name is used instead
      std::fprintf(stderr, "pocket serve: warning: %s; using the hand-written '%s' template\n", f.status().message().c_str(),
                   chat_template_name(detect_chat_template(jinja)));
      f = ChatFormatter::create("", detect_chat_template(jinja), special(v.bos), special(v.eos));
    }
    so.chat = std::make_shared<const ChatFormatter>(std::move(f).value());
  }
  // Speculative decoding: each sequence gets its own drafter (its own draft state), sharing the threads.
  ServerSpeculation spec;
  if (a.draft.spec.any()) {
    Engine& target = *engine.value();
    const DraftSpec ds = a.draft.spec;
    const std::string model = a.model;
    EngineOptions draft_eo = eo;
    draft_eo.n_parallel = 0;  // a draft engine holds one sequence (contiguous cache)
    spec.make_drafter = [ds, model, &target, draft_eo]() { return make_drafter(ds, model, target, draft_eo); };
    spec.options = a.draft.opts;
    spec.options.adaptive = !a.draft.no_adaptive;
  }
  auto scheduler = Scheduler::create(*engine.value(), eo.n_parallel, eo.max_batch, spec);
  if (!scheduler) return fail(scheduler.status());
  ApiServer server(*engine.value(), std::move(scheduler).value(), so);
  std::string bind_error;
  const int port = server.bind(a.host, a.port, &bind_error);
  if (port < 0) return fail("--host/--port " + bind_error + ": cannot listen (in use, or not a local address)");
  std::fprintf(stderr, "pocket serve: %s, %d parallel sequences x %d positions, chat template: %s%s\n", so.model_id.c_str(), eo.n_parallel,
               engine.value()->n_ctx(), so.chat->describe().c_str(), jinja.empty() ? " (none in the file)" : "");
  if (a.draft.spec.any()) std::fprintf(stderr, "pocket serve: speculative decoding on every sequence\n");
  std::fprintf(stderr, "pocket serve: listening on http://%s:%d\n", a.host.c_str(), port);
  std::fflush(stderr);
  server.listen();  // until SIGINT or SIGTERM
  std::fprintf(stderr, "pocket serve: stopped\n");
  return 0;
}

}  // namespace

Runner register_serve(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* sub = app.add_subcommand("serve", "OpenAI-compatible HTTP server with a chat page (/v1/chat/completions, /v1/completions)");
  sub->add_option("-m,--model", a->model, "GGUF model file")->required()->check(CLI::ExistingFile);
  sub->add_option("--host", a->host, "address to bind (default 127.0.0.1: this machine only)");
  sub->add_option("--port", a->port, "port (0: any free port, printed)")->check(CLI::Range(0, 65535));
  sub->add_option("--parallel", a->engine.n_parallel, "sequences generated at once (more requests wait in a queue)")->check(CLI::Range(1, 64));
  sub->add_option("-c,--ctx", a->engine.n_ctx, "context per sequence (0: the model's, at most 4096)")->check(CLI::Range(0, 1 << 20));
  sub->add_option("-t,--threads", a->engine.n_threads, "threads")->check(CLI::Range(1, 256));
  sub->add_option("-b,--batch", a->engine.max_batch, "tokens per forward step across all sequences")->check(CLI::Range(1, 4096));
  sub->add_option("--chat-template-file", a->chat_template_file, "a Jinja chat template to use instead of the file's")->check(CLI::ExistingFile);
  sub->add_option("--chat-template", a->chat_template, "plain, llama2, llama3, chatml, zephyr, phi3, gemma (default: from the file)");
  sub->add_option("--api-key", a->api_key, "require Authorization: Bearer KEY on /v1/* and /metrics");
  sub->add_flag("--metrics-public", a->metrics_public, "/metrics without the API key");
  sub->add_option("--cors-origin", a->cors_origin, "allow browser pages from this origin (\"*\": any) to call the API");
  sub->add_option("--max-queue", a->max_queue, "requests waiting for a sequence beyond this get 503 with Retry-After")->check(CLI::Range(0, 1 << 20));
  sub->add_option("--timeout", a->timeout, "seconds a whole request may take, generation included (then 504)")->check(CLI::Range(0.1, 1e6));
  sub->add_option("--read-timeout", a->read_timeout, "seconds for a request's headers to arrive, and again for its body (then 408)")
      ->check(CLI::Range(0.1, 3600.0));
  sub->add_option("--idle-timeout", a->idle_timeout, "seconds an idle connection (new or keep-alive) is kept")->check(CLI::Range(0.1, 3600.0));
  sub->add_option("--max-body", a->max_body, "largest request body in bytes (then 413)")->check(CLI::Range((size_t)1024, (size_t)1 << 30));
  sub->add_option("--name", a->name, "model id reported and accepted (default: the file name)");
  add_kv_flags(sub, &a->kv);
  add_draft_flags(sub, &a->draft);
  return [a] { return serve(*a); };
}

}  // namespace pocket::cli
