// `pocket serve`: the OpenAI-compatible API over the continuous-batching scheduler and the event-driven
// HTTP front (server/http_server.h): /v1/completions, /v1/chat/completions (JSON or server-sent events),
// /v1/models[/{id}], /health, /metrics and the chat page at /. API keys, CORS, the queue limit and the
// per-request deadline live here; a generation is an HttpPending fed by its scheduler Job, so no
// thread waits for a client and a client that leaves cancels its generation.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "engine/engine.h"
#include "chat/chat_format.h"
#include "server/http_server.h"

namespace pocket {

class Scheduler;

struct ServerOptions {
  std::string model_id;                               // what /v1/models lists and requests may name
  ChatTemplate chat_template = ChatTemplate::kPlain;  // used when chat is null
  std::shared_ptr<const ChatFormatter> chat;          // the model's Jinja template or a hand-written family
  std::string api_key;                                // non-empty: /v1/* and /metrics need "Authorization: Bearer <key>"
  bool metrics_public = false;                        // /metrics without the key
  std::string cors_origin;                            // non-empty: CORS headers for this origin ("*": any), preflight answered
  int max_queue = 64;                                 // requests waiting for a sequence beyond this get 503 + Retry-After
  HttpLimits http;                                    // body and header limits, deadlines, connection caps
};

class ApiServer {
 public:
  // engine: created with EngineOptions::n_parallel > 0 (a paged cache); scheduler: Scheduler::create over it.
  ApiServer(Engine& engine, std::unique_ptr<Scheduler> scheduler, const ServerOptions& opts);
  ~ApiServer();
  // Binds host:port (port 0: any free port); returns the port, or -1 with *error set.
  int bind(const std::string& host, int port, std::string* error);
  void listen();  // blocks until stop(), SIGINT or SIGTERM
  void stop();

 private:
  HttpResponse handle(const HttpRequest& req);
  HttpResponse completion(const HttpRequest& req, bool chat);
  HttpResponse embeddings(const HttpRequest& req);
  // GBNF compiled against the vocabulary, cached by its text (a client repeats its schemas).
  Result<std::shared_ptr<Grammar>> grammar_for(const std::string& gbnf);
  HttpResponse metrics() const;
  HttpResponse with_cors(HttpResponse res) const;  // the --cors-origin headers on every reply
  Engine& engine_;
  ServerOptions opts_;
  std::unique_ptr<Scheduler> scheduler_;
  size_t max_piece_bytes_ = 1;  // the longest token's text: a prompt of more bytes than n_ctx of these is too long
  std::unique_ptr<HttpServer> http_;
  std::mutex grammar_mu_;
  std::list<std::pair<std::string, std::shared_ptr<Grammar>>> grammars_;  // most recent first, a few kept
  std::mutex embed_mu_;
  std::unique_ptr<Engine> embed_engine_;  // its own cache over the shared model: /v1/embeddings beside generation
};

}  // namespace pocket
