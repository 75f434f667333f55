#pragma once
// AWS Signature Version 4 building blocks: hashes, the canonical request, the string to sign,
// the derived signing key, and a signer (for tests and tools). `verify.h` checks requests.
//
// Thread-safety: every function is reentrant.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shoal/http/message.h"

namespace shoal::auth {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kTerminator = "aws4_request";

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

using Digest = std::array<uint8_t, 32>;

// SHA-256 and HMAC-SHA256 (OpenSSL EVP).
Digest sha256(std::string_view data);
Digest hmac_sha256(std::string_view key, std::string_view data);
std::string hex(const Digest& d);  // lowercase
std::string sha256_hex(std::string_view data);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
Digest signing_key(std::string_view secret, std::string_view date, std::string_view region,
                   std::string_view service);

// The request time: ISO 8601 basic ("20150830T123600Z", X-Amz-Date) or, for the Date header,
// also RFC 1123 ("Sun, 30 Aug 2015 12:36:00 GMT"). nullopt if neither.
std::optional<std::chrono::sys_seconds> parse_request_time(std::string_view text);
std::string format_amz_date(std::chrono::sys_seconds t);  // "20150830T123600Z"

// The canonical request: method, canonical URI (the received path, each byte outside
// A-Za-z0-9-._~/ percent-encoded, so an encoded path is encoded twice as the SDKs do),
// canonical query (decoded, re-encoded, sorted), one line per name of `signed_headers`
// (';'-separated, lowercase; values of repeated fields joined by ',', trimmed, runs of spaces
// collapsed), `signed_headers` itself and `payload_hash`.
std::string canonical_request(const http::Request& req, std::string_view signed_headers,
                              std::string_view payload_hash);

// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical_request>".
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

// Signs `req` in place: sets X-Amz-Date to `time` and Authorization, signing every header
// present (the Host header must already be there) and the SHA-256 of the body.
void sign(http::Request& req, const Credentials& credentials, std::string_view region,
          std::string_view service, std::chrono::sys_seconds time);

}  // namespace shoal::auth
