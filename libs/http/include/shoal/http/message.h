#pragma once
// HTTP messages as the handler sees them. Plain values: no sockets, no Boost types.
//
// Thread-safety: none (values); move them between threads freely.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shoal::http {

// Header fields in the order received. Names keep their spelling; lookups ignore ASCII case.
// Storage is one string plus an index (two allocations per message, whatever the number of
// fields); moving is cheap and keeps every view valid only until the next add()/clear().
class Headers {
 public:
  void add(std::string_view name, std::string_view value);
  // The value of the first field named `name` (any case); empty if there is none.
  std::string_view get(std::string_view name) const;
  bool contains(std::string_view name) const;
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Field i as {name, value}; i < size().
  std::pair<std::string_view, std::string_view> operator[](size_t i) const;
  void clear();
  void reserve(size_t fields, size_t bytes);

 private:
  struct Entry {
    uint32_t name_offset, name_size, value_offset, value_size;
  };
  std::string data_;
  std::vector<Entry> entries_;
};

// ASCII case-insensitive equality (header names, tokens).
bool iequals(std::string_view a, std::string_view b);

struct Request {
  std::string method;  // as received, e.g. "POST"
  std::string target;  // request-target, e.g. "/" or "/metrics?x=1"
  int version = 11;    // 10 for HTTP/1.0, 11 for HTTP/1.1
  Headers headers;
  std::string body;    // the whole body (Content-Length or de-chunked)
  std::string remote;  // peer address, "ip:port"

  // Case-insensitive header lookup; empty if absent.
  std::string_view header(std::string_view name) const { return headers.get(name); }
};

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Response {
  unsigned status = 200;
  // Written in order. The server adds Content-Length and Date (unless present) and manages
  // Connection itself: a "Connection: close" here closes the connection after the response;
  // Content-Length / Transfer-Encoding given here are ignored. Fields containing CR or LF
  // are dropped.
  Fields headers;
  std::string body;

  // Case-insensitive lookup of the first field named `name`; empty if absent.
  std::string_view header(std::string_view name) const;

  // A response with a Content-Type and a body.
  static Response make(unsigned status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
};

}  // namespace shoal::http
