#include "shoal/auth/sigv4.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

namespace shoal::auth {
namespace {

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

// AWS's URI encoding: every byte outside the unreserved set as %XX (uppercase hex).
void uri_encode(std::string_view s, bool keep_slash, std::string& out) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xf]);
    }
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX -> byte; anything else (including '+' and a stray '%') is kept as is.
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key, value;
    uri_encode(percent_decode(pair.substr(0, eq)), false, key);
    if (eq != std::string_view::npos) uri_encode(percent_decode(pair.substr(eq + 1)), false, value);
    params.emplace_back(std::move(key), std::move(value));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out.append(k).push_back('=');
    out.append(v);
  }
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trimmed, every run of whitespace (folded lines included) as one space.
void append_header_value(std::string_view v, std::string& out) {
  bool pending_space = false, any = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = any;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    any = true;
    out.push_back(c);
  }
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool parse_digits(std::string_view s, int& out) {
  if (s.empty()) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

std::optional<std::chrono::sys_seconds> make_time(int y, int mo, int d, int h, int mi, int s) {
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return sys_days(ymd) + hours(h) + minutes(mi) + seconds(s);
}

}  // namespace

std::optional<std::chrono::sys_seconds> parse_request_time(std::string_view t) {
  int y, mo, d, h, mi, s;
  // ISO 8601 basic: 20150830T123600Z
  if (t.size() == 16 && t[8] == 'T' && t[15] == 'Z') {
    if (parse_digits(t.substr(0, 4), y) && parse_digits(t.substr(4, 2), mo) &&
        parse_digits(t.substr(6, 2), d) && parse_digits(t.substr(9, 2), h) &&
        parse_digits(t.substr(11, 2), mi) && parse_digits(t.substr(13, 2), s)) {
      return make_time(y, mo, d, h, mi, s);
    }
    return std::nullopt;
  }
  // RFC 1123: Sun, 30 Aug 2015 12:36:00 GMT
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (t.size() == 29 && t[3] == ',' && t[4] == ' ' && t[7] == ' ' && t[11] == ' ' &&
      t[16] == ' ' && t[19] == ':' && t[22] == ':' && t.substr(25) == " GMT") {
    auto m = std::find(std::begin(kMonths), std::end(kMonths), t.substr(8, 3));
    if (m == std::end(kMonths)) return std::nullopt;
    mo = static_cast<int>(m - std::begin(kMonths)) + 1;
    if (parse_digits(t.substr(5, 2), d) && parse_digits(t.substr(12, 4), y) &&
        parse_digits(t.substr(17, 2), h) && parse_digits(t.substr(20, 2), mi) &&
        parse_digits(t.substr(23, 2), s)) {
      return make_time(y, mo, d, h, mi, s);
    }
  }
  return std::nullopt;
}

std::string format_amz_date(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  auto day_start = floor<days>(t);
  year_month_day ymd(day_start);
  hh_mm_ss<seconds> tod(t - day_start);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()));
  return buf;
}

std::string canonical_request(const http::Request& req, std::string_view signed_headers,
                              std::string_view payload_hash) {
  std::string_view target(req.target);
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

  std::string out;
  out.reserve(256 + req.headers.size() * 64);
  out.append(req.method).push_back('\n');
  if (path.empty()) {
    out.push_back('/');
  } else {
    uri_encode(path, true, out);
  }
  out.push_back('\n');
  out.append(canonical_query(query)).push_back('\n');

  std::string_view names = signed_headers;
  while (!names.empty()) {
    size_t semi = names.find(';');
    std::string_view name = names.substr(0, semi);
    for (char c : name) out.push_back(lower(c));
    out.push_back(':');
    bool first = true;
    for (size_t i = 0; i < req.headers.size(); ++i) {
      auto [n, v] = req.headers[i];
      if (!http::iequals(n, name)) continue;
      if (!first) out.push_back(',');
      first = false;
      append_header_value(v, out);
    }
    out.push_back('\n');
    if (semi == std::string_view::npos) break;
    names = names.substr(semi + 1);
  }
  out.push_back('\n');
  out.append(signed_headers).push_back('\n');
  out.append(payload_hash);
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.push_back('\n');
  out.append(amz_date).push_back('\n');
  out.append(scope).push_back('\n');
  out.append(sha256_hex(canonical_request));
  return out;
}

void sign(http::Request& req, const Credentials& credentials, std::string_view region,
          std::string_view service, std::chrono::sys_seconds time) {
  const std::string amz_date = format_amz_date(time);
  // Rebuild the headers without Authorization and X-Amz-Date, then add the new date.
  http::Headers headers;
  std::vector<std::string> names;
  for (size_t i = 0; i < req.headers.size(); ++i) {
    auto [n, v] = req.headers[i];
    if (http::iequals(n, "authorization") || http::iequals(n, "x-amz-date")) continue;
    headers.add(n, v);
    std::string lowered;
    for (char c : n) lowered.push_back(lower(c));
    names.push_back(std::move(lowered));
  }
  headers.add("X-Amz-Date", amz_date);
  names.push_back("x-amz-date");
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string signed_headers;
  for (const auto& n : names) {
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers.append(n);
  }
  req.headers = std::move(headers);

  std::string scope = amz_date.substr(0, 8);
  scope.append("/").append(region).append("/").append(service).append("/").append(kTerminator);
  const std::string sts =
      string_to_sign(amz_date, scope, canonical_request(req, signed_headers,
                                                        sha256_hex(req.body)));
  const Digest key = signing_key(credentials.secret_access_key, amz_date.substr(0, 8), region,
                                 service);
  const std::string signature =
      hex(hmac_sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()),
                      sts));
  std::string authorization(kAlgorithm);
  authorization.append(" Credential=").append(credentials.access_key_id).append("/").append(scope);
  authorization.append(", SignedHeaders=").append(signed_headers);
  authorization.append(", Signature=").append(signature);
  req.headers.add("Authorization", authorization);
}

}  // namespace shoal::auth
