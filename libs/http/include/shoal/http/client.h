#pragma once
// A small synchronous HTTP/1.1 client, for tests and tools (not for the data path).
//
//   Client c("127.0.0.1", port);
//   auto r = c.post("/", {{"X-Amz-Target", "DynamoDB_20120810.ListTables"}}, "{}");
//   if (r.ok()) use(r->status, r->body);
//
// A Client keeps one connection open between calls (keep-alive) unless options say not to,
// reconnects when the server has closed it, and retries a request once if a reused
// connection turns out to be dead before any response byte arrived. Every call is bounded
// by options.timeout (connect + send + receive); errors come back as kUnavailable (kDeadline
// Exceeded for timeouts).
//
// Thread-safety: a Client is used by one thread at a time. The free functions are
// independent and thread-safe (one connection per call).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "shoal/common/status.h"
#include "shoal/http/message.h"

namespace shoal::http {

struct ClientOptions {
  std::chrono::milliseconds timeout{10000};  // per call
  bool keep_alive = true;
  size_t body_limit = 64 * 1024 * 1024;  // largest response body accepted
};

class Client {
 public:
  Client(std::string host, uint16_t port, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Adds Host (unless given) and Content-Length. `method` is any token ("GET", "POST", ...).
  Result<Response> request(std::string_view method, std::string_view target,
                           const Fields& headers = {}, std::string_view body = {});
  Result<Response> get(std::string_view target, const Fields& headers = {});
  Result<Response> post(std::string_view target, const Fields& headers, std::string_view body);

  // True while a connection is open (it may still have been closed by the peer).
  bool connected() const;
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One request on a fresh connection, closed afterwards.
Result<Response> get(const std::string& host, uint16_t port, std::string_view target,
                     const Fields& headers = {}, ClientOptions options = {});
Result<Response> post(const std::string& host, uint16_t port, std::string_view target,
                      const Fields& headers, std::string_view body, ClientOptions options = {});

}  // namespace shoal::http
