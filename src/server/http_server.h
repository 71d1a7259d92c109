// The HTTP/1.1 front of `pocket serve`: an event-driven server (Boost.Beast over one Asio I/O thread)
// that slow, idle and hostile clients cannot starve. No connection ever holds a thread: reading,
// writing and waiting for a generation are all asynchronous on the I/O thread; handlers run on a
// small pool only once a request has been read in full. Every phase has a deadline (first byte of a
// request on an idle connection, headers, body, the whole request, each write); bodies are limited while
// they are read, for every transfer encoding; idle connections beyond a cap are closed oldest first.
// A reply that is not ready when its handler returns (a generation) is an HttpPending: the server
// polls it when it wakes the connection, watches the socket meanwhile and aborts it when the client
// goes away or the request's deadline passes.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pocket {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method, path, query;  // target "/v1/models?x=1": path "/v1/models", query "x=1"
  HttpHeaders headers;
  std::string body;
  // The value of a header (names compare case-insensitively), or "" when absent.
  std::string header(const std::string& name) const;
};

class HttpPending;

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;  // besides Content-Length, Connection, Date and Server, which the server writes
  std::string content_type = "application/json", body;
  // Set: the reply comes later. streamed = false: poll() returns the whole reply when done (headers above
  // are added to it); streamed =
  // true: status and headers above are sent at once and poll() returns the body chunk by chunk.
  std::shared_ptr<HttpPending> pending;
  bool streamed = false;
};

struct HttpPoll {
  bool done = false;
  std::string data;                   // streamed: the next bytes of the body (may be empty)
  std::optional<HttpResponse> reply;  // not streamed: the whole reply, with done
};

enum class HttpAbort {
  kClientGone,  // the connection closed or failed: nothing more will be sent
  kTimeout,     // the request's deadline passed: poll() should finish soon, with a reply that says so
};

// A reply in the making. start() and poll() are called on the I/O thread; wake() may be called from
// any thread, any number of times, also after the connection is gone.
class HttpPending {
 public:
  virtual ~HttpPending() = default;
  virtual void start(std::function<void()> wake) = 0;
  virtual HttpPoll poll() = 0;
  virtual void abort(HttpAbort why) = 0;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// Runs on the I/O thread before the handler: a reply for requests that cost nothing (a health probe),
// or nullopt. It must not block or take long: every connection waits while it runs.
using HttpQuickHandler = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

struct HttpLimits {
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 64 << 10;
  std::chrono::milliseconds read_timeout{10000};      // headers from a request's first byte; the body, again
  std::chrono::milliseconds idle_timeout{5000};       // a connection between requests (or a new one)
  std::chrono::milliseconds request_timeout{600000};  // a whole request, generation included
  std::chrono::milliseconds write_timeout{30000};     // each write of a reply (a client that stops reading)
  int max_idle_connections = 64;                      // beyond: the oldest idle connection is closed
  int max_connections = 1024;                         // beyond, with none idle: 503 and close
  int handler_threads = 2;
};

// Counters for /metrics (read from any thread).
struct HttpStats {
  std::atomic<int64_t> open{0}, idle{0}, accepted{0}, requests{0};
  std::atomic<int64_t> timeouts{0};     // 408 (slow headers or body) and 504 (a whole request)
  std::atomic<int64_t> refused{0};      // 400 (bad HTTP), 413, 431, 503 (no connection left)
  std::atomic<int64_t> idle_closed{0};  // idle connections closed for newer ones (the cap)
  std::atomic<int64_t> disconnects{0};  // clients gone while their reply was pending
};

class HttpServer {
 public:
  HttpServer(HttpHandler handler, HttpQuickHandler quick, const HttpLimits& limits);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (0: any free port) and installs SIGINT/SIGTERM handling that stops run().
  // Returns the port, or -1 with *error set.
  int bind(const std::string& host, int port, std::string* error);
  void run();   // serves on this thread until stop() or a signal
  void stop();  // any thread
  const HttpStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ASCII case-insensitive equality (header names, the `Bearer` scheme).
bool header_equals_ci(const std::string& a, const std::string& b);

}  // namespace pocket
