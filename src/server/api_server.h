// `pocket serve`: an OpenAI-compatible HTTP server (cpp-httplib) over the continuous-batching
// scheduler: /v1/completions, /v1/chat/completions (JSON or server-sent events), /v1/models,
// /health, /metrics, and the chat page at /.
#pragma once

#include <memory>
#include <string>

#include "engine/engine.h"
#include "server/chat_template.h"

namespace httplib {
class Server;
}

namespace pocket {

class Scheduler;

struct ServerOptions {
  std::string model_id;  // what /v1/models lists and requests may name
  ChatTemplate chat_template = ChatTemplate::kPlain;
  std::string api_key;  // non-empty: /v1/* need "Authorization: Bearer <key>"
  size_t max_body_bytes = 1 << 20;
  int max_queue = 256;  // requests waiting beyond this get 503
};

class ApiServer {
 public:
  // engine: created with EngineOptions::n_parallel > 0 (a paged cache); scheduler: Scheduler::create over it.
  ApiServer(Engine& engine, std::unique_ptr<Scheduler> scheduler, const ServerOptions& opts);
  ~ApiServer();
  // Binds host:port (port 0: any free port); returns the port, or -1.
  int bind(const std::string& host, int port);
  void listen();  // blocks until stop()
  void stop();

 private:
  void routes();
  Engine& engine_;
  ServerOptions opts_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<httplib::Server> http_;
};

}  // namespace pocket
