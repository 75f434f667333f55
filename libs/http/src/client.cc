#include "shoal/http/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <optional>

namespace shoal::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

struct Client::Impl {
  std::string host;
  uint16_t port;
  ClientOptions options;
  net::io_context ioc{1};
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
  bool connected = false;

  void close() {
    error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    buffer.clear();
    connected = false;
  }

  // Runs the io_context until the pending operation completes or `deadline` passes, in
  // which case the socket is closed (cancelling it). Returns false on timeout.
  bool run_until(Clock::time_point deadline, const bool& done) {
    ioc.restart();
    ioc.run_until(deadline);
    if (done) return true;
    close();
    ioc.restart();
    ioc.run();  // let the cancelled handler run
    return false;
  }

  Status connect(Clock::time_point deadline) {
    tcp::resolver resolver(ioc);
    error_code ec;
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return unavailable("resolve " + host + ": " + ec.message());
    bool done = false;
    net::async_connect(socket, endpoints, [&](const error_code& e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    if (!run_until(deadline, done)) return {Code::kDeadlineExceeded, "connect timed out"};
    if (ec) {
      close();
      return unavailable("connect " + host + ":" + std::to_string(port) + ": " + ec.message());
    }
    socket.set_option(tcp::no_delay(true), ec);
    connected = true;
    return Status::ok();
  }

  // One attempt on the current connection. `retryable` says the failure happened before any
  // byte of a response arrived on a reused connection.
  Result<Response> attempt(const bhttp::request<bhttp::string_body>& req, bool head,
                           Clock::time_point deadline, bool* retryable) {
    *retryable = false;
    error_code ec;
    bool done = false;
    bhttp::async_write(socket, req, [&](const error_code& e, size_t) {
      ec = e;
      done = true;
    });
    if (!run_until(deadline, done)) return Status(Code::kDeadlineExceeded, "request timed out");
    if (ec) {
      close();
      *retryable = true;
      return unavailable("send: " + ec.message());
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options.body_limit);
    if (head) parser.skip(true);
    done = false;
    bhttp::async_read(socket, buffer, parser, [&](const error_code& e, size_t) {
      ec = e;
      done = true;
    });
    if (!run_until(deadline, done)) return Status(Code::kDeadlineExceeded, "response timed out");
    if (ec) {
      *retryable = !parser.got_some();
      close();
      return unavailable("receive: " + ec.message());
    }
    auto msg = parser.release();
    Response out;
    out.status = msg.result_int();
    for (const auto& f : msg) {
      out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    out.body = std::move(msg.body());
    if (!msg.keep_alive() || !options.keep_alive) close();
    return out;
  }
};

Client::Client(std::string host, uint16_t port, ClientOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->options = options;
}

Client::~Client() { close(); }

bool Client::connected() const { return impl_->connected; }

void Client::close() {
  if (impl_->connected) impl_->close();
}

Result<Response> Client::request(std::string_view method, std::string_view target,
                                 const Fields& headers, std::string_view body) {
  auto& im = *impl_;
  auto deadline = Clock::now() + im.options.timeout;
  bhttp::request<bhttp::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  bool has_host = false;
  for (const auto& [name, value] : headers) {
    if (iequals(name, "Host")) has_host = true;
    req.insert(name, value);
  }
  if (!has_host) req.set(bhttp::field::host, im.host + ":" + std::to_string(im.port));
  req.body().assign(body.data(), body.size());
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.content_length(body.size());
  }
  req.keep_alive(im.options.keep_alive);
  bool head = method == "HEAD";

  for (int round = 0;; ++round) {
    bool reused = im.connected;
    if (!im.connected) {
      if (auto s = im.connect(deadline); !s.is_ok()) return s;
    }
    bool retryable = false;
    auto r = im.attempt(req, head, deadline, &retryable);
    if (r.ok() || !(retryable && reused) || round > 0) return r;
  }
}

Result<Response> Client::get(std::string_view target, const Fields& headers) {
  return request("GET", target, headers);
}

Result<Response> Client::post(std::string_view target, const Fields& headers,
                              std::string_view body) {
  return request("POST", target, headers, body);
}

Result<Response> get(const std::string& host, uint16_t port, std::string_view target,
                     const Fields& headers, ClientOptions options) {
  options.keep_alive = false;
  Client c(host, port, options);
  return c.get(target, headers);
}

Result<Response> post(const std::string& host, uint16_t port, std::string_view target,
                      const Fields& headers, std::string_view body, ClientOptions options) {
  options.keep_alive = false;
  Client c(host, port, options);
  return c.post(target, headers, body);
}

}  // namespace shoal::http
