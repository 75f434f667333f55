#include "response_head.h"

#include <ostream>  // Boost 1.74 beast/http/status.hpp needs it first

#include <boost/beast/http/status.hpp>

#include <charconv>
#include <cstring>
#include <ctime>

namespace shoal::http::detail {

namespace {

// The Date header value, formatted at most once per second per thread.
std::string_view http_date() {
  thread_local std::time_t cached_second = -1;
  thread_local char buf[64];
  thread_local size_t len = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return {buf, len};
}

bool has_crlf(std::string_view s) {
  return std::memchr(s.data(), '\r', s.size()) != nullptr ||
         std::memchr(s.data(), '\n', s.size()) != nullptr;
}

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

bool wants_close(const Response& r) {
  for (const auto& [name, value] : r.headers) {
    if (iequals(name, "Connection") && iequals(value, "close")) return true;
  }
  return false;
}

void format_head(std::string& out, const Response& r, HeadOptions options) {
  out.clear();
  unsigned status = (r.status >= 100 && r.status <= 999) ? r.status : 500;
  out += "HTTP/1.1 ";
  append_number(out, status);
  out += ' ';
  auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  if (!reason.empty() && reason[0] != '<') out.append(reason.data(), reason.size());
  out += "\r\n";
  bool has_date = false;
  for (const auto& [name, value] : r.headers) {
    if (name.empty() || has_crlf(name) || has_crlf(value)) continue;
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
        iequals(name, "Connection")) {
      continue;
    }
    if (iequals(name, "Date")) has_date = true;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  bool bodyless = status < 200 || status == 204 || status == 304;
  if (!bodyless) {
    out += "Content-Length: ";
    append_number(out, r.body.size());
    out += "\r\n";
  }
  if (!has_date) {
    out += "Date: ";
    out += http_date();
    out += "\r\n";
  }
  if (options.close) {
    out += "Connection: close\r\n";
  } else if (options.keep_alive) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
}

}  // namespace shoal::http::detail
