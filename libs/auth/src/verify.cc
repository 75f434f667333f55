#include "shoal/auth/verify.h"

#include <openssl/crypto.h>

#include <vector>

#include "shoal/auth/errors.h"

namespace shoal::auth {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    size_t p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) return out;
    s.remove_prefix(p + 1);
  }
}

struct AuthorizationHeader {
  std::string_view algorithm, credential, signed_headers, signature;
  bool has_credential = false, has_signed_headers = false, has_signature = false;
};

// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."; nullopt-like error on a
// pair without '='.
std::optional<api::ApiError> parse_authorization(std::string_view auth, AuthorizationHeader& out) {
  std::string_view rest = trim(auth);
  size_t sp = rest.find_first_of(" \t");
  out.algorithm = rest.substr(0, sp);
  rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
  for (std::string_view part : split(rest, ',')) {
    part = trim(part);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) return errors::missing_equal_sign(part, auth);
    std::string_view key = trim(part.substr(0, eq)), value = trim(part.substr(eq + 1));
    if (key == "Credential") {
      out.credential = value;
      out.has_credential = !value.empty();
    } else if (key == "SignedHeaders") {
      out.signed_headers = value;
      out.has_signed_headers = true;  // may be empty here; Host is required later
    } else if (key == "Signature") {
      out.signature = value;
      out.has_signature = !value.empty();
    }
  }
  return std::nullopt;
}

bool signs_host(std::string_view signed_headers) {
  for (std::string_view name : split(signed_headers, ';')) {
    if (http::iequals(name, "host")) return true;
  }
  return false;
}

// Constant time for equal lengths; `provided` may be in either case.
bool same_hex(std::string_view computed, std::string_view provided) {
  if (computed.size() != provided.size()) return false;
  std::string lowered(provided);
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c + 32);
  }
  return CRYPTO_memcmp(computed.data(), lowered.data(), computed.size()) == 0;
}

}  // namespace

std::optional<api::ApiError> verify(const http::Request& req, const KeyStore& keys,
                                    const VerifyOptions& opts,
                                    std::chrono::system_clock::time_point now_tp) {
  // 1. Present and AWS4-something, else DynamoDB says the token is missing.
  const std::string_view auth = req.header("authorization");
  if (trim(auth).substr(0, 5) != "AWS4-") return api::errors::missing_authentication_token();

  // 2. Well-formed parameters and a date.
  AuthorizationHeader a;
  if (auto err = parse_authorization(auth, a)) return err;
  std::string_view date = req.header("x-amz-date");
  if (date.empty()) date = req.header("date");
  std::vector<std::string_view> missing;
  if (!a.has_credential) missing.push_back("Credential");
  if (!a.has_signature) missing.push_back("Signature");
  if (!a.has_signed_headers) missing.push_back("SignedHeaders");
  if (!missing.empty() || date.empty()) {
    return errors::missing_parameters(missing, date.empty(), auth);
  }
  const auto request_time = parse_request_time(trim(date));
  if (!request_time) return errors::bad_date(date);
  const std::string amz_date = format_amz_date(*request_time);

  // 3. The clock, then Host among the signed headers.
  const auto now = std::chrono::floor<std::chrono::seconds>(now_tp);
  if (!opts.accept_any) {
    if (*request_time < now - opts.max_skew) {
      return errors::signature_expired(*request_time, now, opts.max_skew);
    }
    if (*request_time > now + opts.max_skew) {
      return errors::signature_not_yet_current(*request_time, now, opts.max_skew);
    }
    if (!signs_host(a.signed_headers)) return errors::host_not_signed();
  }

  // 4. The algorithm and the shape of the credential (trailing slashes are ignored).
  if (a.algorithm != kAlgorithm) return errors::unsupported_algorithm(a.algorithm);
  std::string_view credential = a.credential;
  while (!credential.empty() && credential.back() == '/') credential.remove_suffix(1);
  const std::vector<std::string_view> scope_parts = split(credential, '/');
  if (scope_parts.size() != 5) return errors::credential_elements(a.credential);
  if (opts.accept_any) return std::nullopt;

  // 5. The scope: region, service, terminator, day.
  const std::string_view key_id = scope_parts[0], scope_date = scope_parts[1],
                         region = scope_parts[2], service = scope_parts[3],
                         terminator = scope_parts[4];
  errors::BadScope bad;
  bad.request_time = amz_date;
  if (region.empty() || (!opts.region.empty() && region != opts.region)) bad.region = region;
  if (service != opts.service) bad.service = opts.service;
  if (terminator != kTerminator) bad.terminator = terminator;
  if (scope_date != std::string_view(amz_date).substr(0, 8)) bad.date = scope_date;
  if (bad.region || bad.service || bad.terminator || bad.date) return errors::bad_scope(bad);

  // 6. The key, then the signature.
  const std::optional<Digest> key = keys.signing_key(key_id, scope_date, region, service);
  if (!key) return errors::unrecognized_client();

  const std::string body_hash = sha256_hex(req.body);
  const std::string_view content_sha = trim(req.header("x-amz-content-sha256"));
  const std::string_view payload_hash = content_sha.empty() ? body_hash : content_sha;
  const std::string scope(credential.substr(key_id.size() + 1));
  const std::string sts =
      string_to_sign(amz_date, scope, canonical_request(req, a.signed_headers, payload_hash));
  const std::string expected =
      hex(hmac_sha256(std::string_view(reinterpret_cast<const char*>(key->data()), key->size()),
                      sts));
  bool ok = same_hex(expected, a.signature);
  // A declared payload hash must be the body's: otherwise a signed header would vouch for any
  // body.
  ok &= content_sha.empty() || same_hex(body_hash, content_sha);
  if (!ok) return errors::signature_mismatch();
  return std::nullopt;
}

}  // namespace shoal::auth
