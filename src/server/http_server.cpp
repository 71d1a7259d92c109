#include "server/http_server.h"

// <utility> before Asio: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <list>
#include <malloc.h>
#include <nlohmann/json.hpp>

namespace pocket {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

bool header_equals_ci(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower((unsigned char)a[i]) != std::tolower((unsigned char)b[i])) return false;
  return true;
}

std::string HttpRequest::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (header_equals_ci(k, name)) return v;
  return {};
}

namespace {

// A reply the HTTP layer itself writes (the request never reached a handler): OpenAI's error shape,
// written by nlohmann-json (escaping, no length limit) as the API layer writes its own.
HttpResponse http_error(int status, const std::string& message, const char* type = "invalid_request_error") {
  HttpResponse r;
  r.status = status;
  const nlohmann::json body = {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}};
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

// The reply to a request whose headers or body could not be read; status 0: none (the client went away).
// A plain function, not a lambda coroutine: g++ 12 miscompiles some of those (a double free was seen).
struct ReadFailure {
  int status = 0;
  std::string message;
};
ReadFailure read_failure(const error_code& ec, const char* what, const std::string& declared_length, const HttpLimits& lim) {
  if (ec == beast::error::timeout)
    return {408, std::string("request ") + what + " not received within " + std::to_string(lim.read_timeout.count() / 1000) + " s"};
  if (ec == http::error::body_limit)
    return {413, "request body larger than " + std::to_string(lim.max_body_bytes) + " bytes" +
                     (declared_length.empty() ? "" : " (Content-Length " + declared_length + ")")};
  if (ec == http::error::header_limit) return {431, "request headers larger than " + std::to_string(lim.max_header_bytes) + " bytes"};
  if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
    return {};
  return {400, std::string("malformed HTTP request ") + what + ": " + ec.message()};
}

}  // namespace

struct HttpServer::Impl {
  class Session;

  Impl(HttpHandler h, HttpQuickHandler q, const HttpLimits& l)
      : handler(std::move(h)), quick(std::move(q)), limits(l), acceptor(io), signals(io), pool((size_t)std::max(1, l.handler_threads)) {}

  HttpHandler handler;
  HttpQuickHandler quick;
  HttpLimits limits;
  asio::io_context io{1};
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::thread_pool pool;  // handlers: only requests read in full, never a socket
  HttpStats stats;
  // Idle connections, oldest first (I/O thread only). Each Session knows its own position.
  std::list<std::weak_ptr<Session>> idle;
  std::list<std::weak_ptr<Session>> all;
  bool stopping = false;

  void accept_loop();
  void close_oldest_idle();
};

// One connection: a coroutine reading requests one after another (keep-alive), and for each the handler's
// reply, waited for without a thread.
class HttpServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& srv, tcp::socket s) : srv_(srv), stream_(std::move(s)), wake_timer_(srv.io), buffer_(srv.limits.max_header_bytes + 4096) {}

  void begin() {
    ++srv_.stats.open;
    all_pos_ = srv_.all.insert(srv_.all.end(), weak_from_this());
    asio::co_spawn(srv_.io, run(shared_from_this()), asio::detached);
  }

  // Closed for a newer connection (the idle cap): it stops counting as idle at once.
  void evict() {
    set_idle(false);
    close();
  }
  // Closes the socket: every pending operation ends with an error and the coroutine returns.
  void close() {
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    wake_timer_.cancel();
  }

 private:
  asio::awaitable<void> run(std::shared_ptr<Session> self);
  asio::awaitable<bool> wait_for_request();
  asio::awaitable<bool> write(HttpResponse& r, bool keep_alive);
  asio::awaitable<bool> send_pending(HttpResponse& r, bool keep_alive, Clock::time_point deadline);
  asio::awaitable<bool> write_raw(std::string data);
  asio::awaitable<void> linger();
  void set_idle(bool idle);
  void watch_socket();
  void finish() {
    set_idle(false);
    srv_.all.erase(all_pos_);
    --srv_.stats.open;
  }

  Impl& srv_;
  beast::tcp_stream stream_;
  asio::steady_timer wake_timer_;
  beast::flat_buffer buffer_;
  bool idle_ = false;
  std::list<std::weak_ptr<Session>>::iterator idle_pos_, all_pos_;
  // While a reply is pending: woken (a wake() arrived), gone (the client closed), and the watch's generation.
  bool woken_ = false, gone_ = false, watching_ = false;
  uint64_t watch_gen_ = 0;
};

void HttpServer::Impl::Session::set_idle(bool idle) {
  if (idle == idle_) return;
  idle_ = idle;
  if (idle) {
    idle_pos_ = srv_.idle.insert(srv_.idle.end(), weak_from_this());
    ++srv_.stats.idle;
    if ((int)srv_.idle.size() > srv_.limits.max_idle_connections) srv_.close_oldest_idle();
  } else {
    srv_.idle.erase(idle_pos_);
    --srv_.stats.idle;
  }
}

void HttpServer::Impl::close_oldest_idle() {
  if (idle.empty()) return;
  std::shared_ptr<Session> s = idle.front().lock();
  ++stats.idle_closed;
  if (s)
    s->evict();
  else
    idle.pop_front();
}

// Between requests: wait for the first byte of the next one (or use what is buffered), up to the idle
// timeout. False: the connection is done.
asio::awaitable<bool> HttpServer::Impl::Session::wait_for_request() {
  if (buffer_.size() > 0) co_return true;
  set_idle(true);
  stream_.expires_after(srv_.limits.idle_timeout);
  error_code ec;
  const size_t n = co_await stream_.async_read_some(buffer_.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
  set_idle(false);
  if (ec) co_return false;
  buffer_.commit(n);
  co_return true;
}

asio::awaitable<bool> HttpServer::Impl::Session::write_raw(std::string data) {
  error_code ec;
  stream_.expires_after(srv_.limits.write_timeout);
  co_await asio::async_write(stream_, asio::buffer(data), asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

// After refusing a request whose body may still be coming: stop sending, read and drop what the client
// still sends for a moment, then close. Closing with unread data resets the connection, and a client
// still writing its body could lose the reply that says why.
asio::awaitable<void> HttpServer::Impl::Session::linger() {
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.expires_after(std::chrono::seconds(1));
  std::vector<char> sink(16 << 10);
  for (size_t total = 0; !ec && total < (64u << 20);)
    total += co_await stream_.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<bool> HttpServer::Impl::Session::write(HttpResponse& r, bool keep_alive) {
  http::response<http::string_body> res{(http::status)r.status, 11};
  res.set(http::field::server, "pocket");
  res.set(http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.insert(k, v);
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
  error_code ec;
  stream_.expires_after(srv_.limits.write_timeout);
  co_await http::async_write(stream_, res, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

// While a reply is pending the socket is watched: readable with nothing to read is the client's close.
void HttpServer::Impl::Session::watch_socket() {
  watching_ = true;
  const uint64_t gen = ++watch_gen_;
  stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(), gen](const error_code& ec) {
    if (gen != self->watch_gen_ || !self->watching_) return;
    self->watching_ = false;
    if (ec == asio::error::operation_aborted) return;
    char c;
    const ssize_t n = ec ? -1 : ::recv(self->stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && !ec && (errno == EAGAIN || errno == EWOULDBLOCK)) return self->watch_socket();
    if (n > 0) return;  // the next request, pipelined: read after this reply
    self->gone_ = true;
    self->wake_timer_.cancel();
  });
}

asio::awaitable<bool> HttpServer::Impl::Session::send_pending(HttpResponse& r, bool keep_alive, Clock::time_point deadline) {
  std::shared_ptr<HttpPending> pending = std::move(r.pending);
  std::weak_ptr<Session> weak = weak_from_this();
  asio::io_context& io = srv_.io;
  woken_ = gone_ = false;
  pending->start([weak, &io] {
    asio::post(io, [weak] {
      if (auto s = weak.lock()) {
        s->woken_ = true;
        s->wake_timer_.cancel();
      }
    });
  });
  watch_socket();
  bool timed_out = false, ok = true;
  auto stop_watching = [&] {
    if (watching_) {
      watching_ = false;
      ++watch_gen_;
      error_code ec;
      stream_.socket().cancel(ec);
    }
  };
  if (r.streamed) {
    http::response<http::empty_body> head{(http::status)r.status, 11};
    head.set(http::field::server, "pocket");
    head.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) head.insert(k, v);
    head.keep_alive(keep_alive);
    head.chunked(true);
    http::response_serializer<http::empty_body> sr{head};
    error_code ec;
    stream_.expires_after(srv_.limits.write_timeout);
    co_await http::async_write_header(stream_, sr, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) gone_ = true;
  }
  for (;;) {
    if (gone_ || srv_.stopping) {  // shutting down: the scheduler ends the job, nobody reads the reply
      if (gone_) ++srv_.stats.disconnects;
      pending->abort(HttpAbort::kClientGone);
      stop_watching();
      co_return false;
    }
    if (!timed_out && Clock::now() >= deadline) {
      timed_out = true;
      ++srv_.stats.timeouts;
      pending->abort(HttpAbort::kTimeout);
      keep_alive = false;
    }
    woken_ = false;
    HttpPoll p = pending->poll();
    if (r.streamed && !p.data.empty()) {
      // A chunk is written in full or the client is gone (write_timeout bounds a client that stops reading).
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", p.data.size());
      if (!co_await write_raw(size + p.data + "\r\n")) gone_ = true;
      if (!p.done || gone_) continue;
    }
    if (p.done) {
      stop_watching();
      if (r.streamed) {
        ok = co_await write_raw("0\r\n\r\n");
      } else {
        HttpResponse reply = p.reply ? std::move(*p.reply) : http_error(500, "internal error: no reply", "server_error");
        reply.headers.insert(reply.headers.begin(), r.headers.begin(), r.headers.end());  // the handler's (CORS ...)
        ok = co_await write(reply, keep_alive);
      }
      co_return ok&& keep_alive;
    }
    if (woken_) continue;
    // Wait for a wake, the client's close or the deadline (a 1 s tick bounds a lost wake-up).
    const Clock::time_point tick = Clock::now() + std::chrono::seconds(1);
    wake_timer_.expires_at(timed_out ? tick : std::min(deadline, tick));
    error_code ec;
    co_await wake_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> HttpServer::Impl::Session::run(std::shared_ptr<Session> self) {
  const HttpLimits& lim = srv_.limits;
  bool trim = false;  // a large body was read: give its pages back once the parser is gone
  for (;;) {
    if (srv_.stopping || !co_await wait_for_request()) break;
    const Clock::time_point deadline = Clock::now() + lim.request_timeout;
    http::request_parser<http::string_body> parser;
    parser.header_limit((uint32_t)lim.max_header_bytes);
    parser.body_limit(lim.max_body_bytes);
    error_code ec;
    stream_.expires_after(lim.read_timeout);
    co_await http::async_read_header(stream_, buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
    auto refuse = [&](int status, const std::string& msg) -> asio::awaitable<void> {
      if (status == 408)
        ++srv_.stats.timeouts;
      else
        ++srv_.stats.refused;
      HttpResponse r = http_error(status, msg);
      if (co_await write(r, false)) co_await linger();
      trim |= status == 413;  // up to a body limit was buffered
    };
    if (ec) {
      const ReadFailure f = read_failure(ec, "headers", std::string(parser.get()[http::field::content_length]), lim);
      if (f.status != 0) co_await refuse(f.status, f.message);
      break;
    }
    if (parser.get()[http::field::expect] == "100-continue" && !parser.is_done()) {
      if (!co_await write_raw("HTTP/1.1 100 Continue\r\n\r\n")) break;
    }
    if (!parser.is_done()) {
      stream_.expires_after(lim.read_timeout);
      co_await http::async_read(stream_, buffer_, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        const ReadFailure f = read_failure(ec, "body", std::string(parser.get()[http::field::content_length]), lim);
        if (f.status != 0) co_await refuse(f.status, f.message);
        break;
      }
    }
    stream_.expires_never();
    ++srv_.stats.requests;
    http::request<http::string_body> breq = parser.release();
    HttpRequest req;
    req.method = std::string(breq.method_string());
    const std::string target(breq.target());
    const size_t q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    for (const auto& f : breq) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    req.body = std::move(breq.body());
    const bool big = req.body.size() > (256 << 10);
    bool keep_alive = breq.keep_alive();
    // The quick handler answers on this thread (health probes, also while the pool is busy); the handler
    // runs on the pool (JSON, templates and tokenizing are CPU work) and this coroutine resumes here.
    std::optional<HttpResponse> quick = srv_.quick ? srv_.quick(req) : std::nullopt;
    HttpResponse res;
    if (quick) {  // (not a ?: with co_await inside: g++ 12 miscompiles that)
      res = std::move(*quick);
    } else {
      res = co_await asio::co_spawn(
          srv_.pool.get_executor(),
          [this, &req]() -> asio::awaitable<HttpResponse> {
            try {
              co_return srv_.handler(req);
            } catch (...) { co_return http_error(500, "internal error", "server_error"); }
          },
          asio::use_awaitable);
    }
    req = HttpRequest();
    if (big) asio::post(srv_.pool, [] { malloc_trim(0); });  // a large body's pages go back to the system
    if (srv_.stopping) keep_alive = false;
    bool ok;
    if (res.pending)
      ok = co_await send_pending(res, keep_alive, deadline);
    else
      ok = co_await write(res, keep_alive) && keep_alive;
    if (!ok) break;
  }
  close();
  finish();
  if (trim) asio::post(srv_.pool, [] { malloc_trim(0); });
  (void)self;
}

void HttpServer::Impl::accept_loop() {
  acceptor.async_accept(io, [this](const error_code& ec, tcp::socket s) {
    if (stopping) return;
    if (!ec) {
      ++stats.accepted;
      if (stats.open >= limits.max_connections) close_oldest_idle();
      if (stats.open >= limits.max_connections) {
        ++stats.refused;
        // Full of busy connections: say so and close (a blocking write of a few bytes to a new socket).
        const HttpResponse r = http_error(503, "too many connections", "server_error");
        const std::string msg =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
            "Content-Length: " +
            std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
        error_code wec;
        s.non_blocking(true, wec);
        s.send(asio::buffer(msg), 0, wec);
        s.close(wec);
      } else {
        error_code nec;
        s.set_option(tcp::no_delay(true), nec);
        std::make_shared<Session>(*this, std::move(s))->begin();
      }
    }
    accept_loop();
  });
}

HttpServer::HttpServer(HttpHandler handler, HttpQuickHandler quick, const HttpLimits& limits)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(quick), limits)) {}

HttpServer::~HttpServer() {
  stop();
  impl_->pool.join();
}

const HttpStats& HttpServer::stats() const { return impl_->stats; }

int HttpServer::bind(const std::string& host, int port, std::string* error) {
  error_code ec;
  const asio::ip::address addr = asio::ip::make_address(host, ec);
  if (ec) return *error = host + ": not an IP address (" + ec.message() + ")", -1;
  tcp::endpoint ep(addr, (unsigned short)port);
  Impl& m = *impl_;
  m.acceptor.open(ep.protocol(), ec);
  // SO_REUSEADDR only: never SO_REUSEPORT, which would let a second server take half the connections.
  if (!ec) m.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(ep, ec);
  if (!ec) m.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return *error = host + ":" + std::to_string(port) + ": " + ec.message(), -1;
  m.signals.add(SIGINT);
  m.signals.add(SIGTERM);
  m.signals.async_wait([this](const error_code& e, int) {
    if (!e) stop();
  });
  return m.acceptor.local_endpoint().port();
}

void HttpServer::run() {
  impl_->accept_loop();
  impl_->io.run();
}

void HttpServer::stop() {
  Impl& m = *impl_;
  asio::post(m.io, [&m] {
    if (m.stopping) return;
    m.stopping = true;
    error_code ec;
    m.acceptor.close(ec);
    m.signals.cancel(ec);
    for (auto& w : m.all)
      if (auto s = w.lock()) s->close();
  });
}

}  // namespace pocket
