#pragma once
// A Beast parser that builds a shoal::http::Request directly: each field is copied once from
// the read buffer into Request::headers, the body once into Request::body (reserved to the
// Content-Length up front, so it never reallocates). Single use: one parser per request.

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <string_view>

#include "shoal/http/message.h"

namespace shoal::http::detail {

class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  RequestParser() { request_.headers.reserve(16, 512); }

  Request& request() { return request_; }
  // The request carried "Expect: 100-continue".
  bool expect_continue() const { return expect_continue_; }

 private:
  static std::string_view sv(string_view s) { return {s.data(), s.size()}; }

  void on_request_impl(boost::beast::http::verb, string_view method, string_view target,
                       int version, error_code&) override {
    request_.method.assign(method.data(), method.size());
    request_.target.assign(target.data(), target.size());
    request_.version = version;
  }
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     error_code&) override {
    if (name == boost::beast::http::field::expect && iequals(sv(value), "100-continue")) {
      expect_continue_ = true;
    }
    request_.headers.add(sv(name_string), sv(value));
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code&) override {
    // The base class has already refused a Content-Length over body_limit.
    if (content_length) request_.body.reserve(static_cast<size_t>(*content_length));
  }
  std::size_t on_body_impl(string_view body, error_code&) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  Request request_;
  bool expect_continue_ = false;
};

}  // namespace shoal::http::detail
