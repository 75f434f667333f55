#pragma once
// Asynchronous HTTP/1.1 server (Boost.Beast parser, Asio sockets): the front door of the
// DynamoDB gateway.
//
//   Server server({.port = 8000, .threads = 4}, [](Request&& req, Responder resp) {
//     resp.send(Response::make(200, "hello"));          // now, or later from any thread
//   });
//   if (auto s = server.start(); !s.is_ok()) ...;
//   ...
//   server.stop();
//
// Threading: a fixed pool of `threads` I/O threads, each running its own io_context; every
// connection is pinned to one of them (round-robin at accept), so a connection's handlers
// never run concurrently without any strand. No thread per connection, no blocking.
//
// Per connection, one request at a time: the next request is read (or taken from bytes the
// client pipelined) only after the response to the previous one was written. Keep-alive is
// the HTTP/1.1 default; "Connection: close" and HTTP/1.0 without keep-alive close after the
// response. Protocol errors answer and close: malformed request 400, body over body_limit
// 413, header over header_limit 431. "Expect: 100-continue" is answered before the body is
// read. A connection waiting longer than idle_timeout for a complete request (or for a
// client to accept a response) is closed. Handler time is not limited here.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "shoal/common/status.h"
#include "shoal/http/message.h"

namespace shoal::http {

namespace detail {
class Connection;
struct Worker;
}  // namespace detail

// Sends the response to one request, exactly once.
//
// send() may be called from any thread: it runs inline when called on the connection's I/O
// thread (e.g. inside the handler) and is posted to that thread otherwise. Move-only and
// cheap to move (two pointers). Calls after the first send() are ignored. A Responder
// destroyed without send() sends "500 Internal Server Error", so no request ever hangs.
// A Responder may outlive its Server: sending then does nothing (the connection is gone).
class Responder {
 public:
  Responder() = default;  // empty: send() does nothing
  Responder(Responder&&) noexcept = default;
  // A pending Responder assigned over first sends its 500.
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  void send(Response response);
  // True until send() (or a move-from).
  bool pending() const { return conn_ != nullptr; }

 private:
  friend class detail::Connection;
  Responder(std::shared_ptr<detail::Worker> worker, std::shared_ptr<detail::Connection> conn);
  // Declared before conn_ so the connection (and its socket) dies before the io_context.
  std::shared_ptr<detail::Worker> worker_;
  std::shared_ptr<detail::Connection> conn_;
};

// Called on an I/O thread for every complete request. Must not block: hand slow work to
// another thread and send through the Responder when done. An exception escaping the
// handler is logged and the request answered 500.
using Handler = std::function<void(Request&&, Responder)>;

struct ServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 8000;  // 0 picks a free port; see Server::port()
  int threads = 2;       // I/O threads (at least 1)
  size_t body_limit = 16 * 1024 * 1024 + 65536;  // larger bodies get 413
  std::chrono::seconds idle_timeout{60};  // max wait for a complete request / a slow reader
  size_t header_limit = 16 * 1024;        // request line + fields; larger gets 431
  // stop() lets requests in flight finish for this long before closing their connections.
  std::chrono::milliseconds shutdown_timeout{5000};
};

// Thread-safety: start(), stop() and port() may be called from any thread but not from an
// I/O thread of this server (stop() joins them). The handler runs on the I/O threads.
class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the I/O threads. Fails if the address cannot be bound (or if
  // already started).
  Status start();
  // The bound port (the chosen one when options.port was 0); 0 before start().
  uint16_t port() const;
  // Graceful: stops accepting, closes idle connections, lets requests in flight be answered
  // (with Connection: close) for up to shutdown_timeout, then closes the rest and joins the
  // I/O threads. Idempotent.
  void stop();
  // Open connections now (for tests and gauges).
  size_t connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shoal::http
