// Raw HTTP/1.1 on loopback for the server's hostile-client tests: a non-blocking socket whose every
// call has a deadline, a response reader (Content-Length, chunked, or up to the close) and request
// builders. No HTTP library: these clients must be able to misbehave (send a byte a second, announce
// a body and never send it, hang up mid-reply).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace pocket::raw_http {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return (int)std::clamp<long long>(left, 0, 60'000);
}
inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

inline std::string lower(std::string s) {
  for (char& ch : s) ch = (char)std::tolower((unsigned char)ch);
  return s;
}
inline std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// A non-blocking TCP connection to 127.0.0.1: every call waits at most until its deadline; bytes
// received wait in inbox() for read_response. Closed on destruction.
class RawSocket {
 public:
  enum class Read { kData, kClosed, kTimeout };   // kClosed: end of stream or a reset
  enum class Send { kSent, kAnswered, kFailed };  // kAnswered: the server spoke (or closed) first

  explicit RawSocket(int port, Clock::duration connect_timeout = 2s) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, (const sockaddr*)&addr, sizeof addr) == 0) return;
    if (errno != EINPROGRESS || (wait_for(POLLOUT, Clock::now() + connect_timeout) & POLLOUT) == 0 || socket_error() != 0) close();
  }
  RawSocket(RawSocket&& o) noexcept : fd_(std::exchange(o.fd_, -1)), inbox_(std::move(o.inbox_)) {}
  RawSocket& operator=(RawSocket&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = std::exchange(o.fd_, -1);
      inbox_ = std::move(o.inbox_);
    }
    return *this;
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  ~RawSocket() { close(); }

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  std::string& inbox() { return inbox_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool send_all(std::string_view data, Clock::time_point deadline) { return send(data, deadline, false) == Send::kSent; }
  // Sends data, but stops as soon as the server has something to say (a response, a close).
  Send send_unless_answered(std::string_view data, Clock::time_point deadline) { return send(data, deadline, true); }

  // Appends what arrives (waiting until the deadline at most) to inbox().
  Read read_more(Clock::time_point deadline) {
    if (fd_ < 0) return Read::kClosed;
    for (;;) {
      if ((wait_for(POLLIN, deadline) & (POLLIN | POLLHUP | POLLERR)) == 0) return Read::kTimeout;
      char buf[16384];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        inbox_.append(buf, (size_t)n);
        return Read::kData;
      }
      if (n == 0) return Read::kClosed;
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return Read::kClosed;
      if (Clock::now() >= deadline) return Read::kTimeout;
    }
  }
  // Waits for the server to close the connection (what arrives before is kept in inbox()).
  bool wait_for_close(Clock::time_point deadline) {
    for (;;) {
      const Read r = read_more(deadline);
      if (r == Read::kClosed) return true;
      if (r == Read::kTimeout || Clock::now() >= deadline) return false;
    }
  }
  bool readable_now() const { return (wait_for(POLLIN, Clock::now()) & (POLLIN | POLLHUP | POLLERR)) != 0; }
  // Without waiting: has the server closed its end (end of stream or reset pending)?
  bool closed_by_server_now() const {
    if (fd_ < 0 || !readable_now()) return false;
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }

 private:
  short wait_for(short events, Clock::time_point deadline) const {
    if (fd_ < 0) return POLLNVAL;
    for (int tries = 0; tries < 1000; ++tries) {
      pollfd p{fd_, events, 0};
      const int r = ::poll(&p, 1, remaining_ms(deadline));
      if (r > 0) return p.revents;
      if (r == 0 || errno != EINTR) return 0;
    }
    return 0;
  }
  int socket_error() const {
    int err = 0;
    socklen_t len = sizeof err;
    return ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) == 0 ? err : errno;
  }
  Send send(std::string_view data, Clock::time_point deadline, bool stop_on_answer) {
    if (fd_ < 0) return Send::kFailed;
    while (!data.empty()) {
      const short ev = wait_for(stop_on_answer ? (POLLIN | POLLOUT) : POLLOUT, deadline);
      if (stop_on_answer && (ev & (POLLIN | POLLHUP | POLLERR))) return Send::kAnswered;
      if ((ev & POLLOUT) == 0) return Send::kFailed;  // timed out, or the connection broke
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix((size_t)n);
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return Send::kFailed;
      if (Clock::now() >= deadline) return Send::kFailed;
    }
    return Send::kSent;
  }

  int fd_ = -1;
  std::string inbox_;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// Reads one whole response (Content-Length, chunked, or up to the close); nullopt when it has not
// arrived by the deadline. What follows it stays in the inbox (the next keep-alive response).
inline std::optional<HttpResponse> read_response(RawSocket& s, Clock::time_point deadline) {
  std::string& in = s.inbox();
  auto more = [&] { return Clock::now() < deadline && s.read_more(deadline) == RawSocket::Read::kData; };
  auto line_end = [&]() -> std::optional<size_t> {
    size_t eol;
    while ((eol = in.find("\r\n")) == std::string::npos)
      if (!more()) return std::nullopt;
    return eol;
  };
  size_t head_end;
  while ((head_end = in.find("\r\n\r\n")) == std::string::npos)
    if (!more()) return std::nullopt;
  if (in.rfind("HTTP/1.", 0) != 0 || head_end < 12) return std::nullopt;
  HttpResponse r;
  r.status = std::atoi(in.c_str() + 9);
  std::istringstream head(in.substr(0, head_end));
  in.erase(0, head_end + 4);
  std::string line;
  std::getline(head, line);  // the status line
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string& value = r.headers[lower(trim(line.substr(0, colon)))];
    value += (value.empty() ? "" : ", ") + trim(line.substr(colon + 1));
  }
  if (lower(r.header("transfer-encoding")).find("chunked") != std::string::npos) {
    for (;;) {
      const auto eol = line_end();
      if (!eol) return std::nullopt;
      const size_t size = std::strtoul(in.c_str(), nullptr, 16);  // stops at any ";extension"
      in.erase(0, *eol + 2);
      if (size == 0) break;
      while (in.size() < size + 2)
        if (!more()) return std::nullopt;
      r.body.append(in, 0, size);
      in.erase(0, size + 2);
    }
    for (;;) {  // trailers, up to the empty line
      const auto eol = line_end();
      if (!eol) return std::nullopt;
      in.erase(0, *eol + 2);
      if (*eol == 0) return r;
    }
  }
  if (!r.header("content-length").empty()) {
    const size_t n = std::stoul(r.header("content-length"));
    while (in.size() < n)
      if (!more()) return std::nullopt;
    r.body = in.substr(0, n);
    in.erase(0, n);
    return r;
  }
  if (r.status == 204 || r.status == 304 || r.status / 100 == 1) return r;
  for (;;) {  // the body runs to the close
    const RawSocket::Read got = s.read_more(deadline);
    if (got == RawSocket::Read::kClosed) break;
    if (got == RawSocket::Read::kTimeout || Clock::now() >= deadline) return std::nullopt;
  }
  r.body = std::move(in);
  in.clear();
  return r;
}

// A request as text; extra_headers are whole lines ("Name: value\r\n").
inline std::string http_request(const std::string& method, const std::string& path, const std::string& body = "",
                                const std::string& extra_headers = "") {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers;
  if (method == "POST" || !body.empty()) r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

inline std::optional<HttpResponse> exchange(RawSocket& s, const std::string& request, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  if (!s.send_all(request, deadline)) return std::nullopt;
  return read_response(s, deadline);
}

// A chunked POST of `total` bytes in 64 KiB chunks, sent as fast as the socket takes them; it stops as
// soon as the server answers (an oversized body's 413 comes mid-body) or a send fails.
inline void send_chunked_body(RawSocket& s, size_t total, Clock::time_point deadline) {
  const std::string head = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  if (s.send_unless_answered(head, deadline) != RawSocket::Send::kSent) return;
  constexpr size_t kChunk = 64 << 10;
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", kChunk);
  const std::string chunk = size_line + std::string(kChunk, 'a') + "\r\n";
  for (size_t sent = 0; sent < total; sent += kChunk)
    if (s.send_unless_answered(chunk, deadline) != RawSocket::Send::kSent) return;
  s.send_unless_answered("0\r\n\r\n", deadline);
}

// The request headers of a body far over any --max-body; the body itself never follows.
inline std::string huge_content_length_request(const std::string& length) {
  return "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n";
}

}  // namespace pocket::raw_http
