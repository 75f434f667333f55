#pragma once
// Verification of AWS Signature Version 4 on DynamoDB requests (Authorization header form).
//
//   auth::KeyStore keys;
//   keys.replace({{"AKID...", "secret"}});
//   if (auto err = auth::verify(request, keys, {}, std::chrono::system_clock::now())) {
//     return fail(*err);  // the exact error DynamoDB would send
//   }
//
// Thread-safety: KeyStore is safe to use from any thread; verify() is reentrant.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shoal/api/errors.h"
#include "shoal/auth/sigv4.h"
#include "shoal/http/message.h"

namespace shoal::auth {

// Access key id -> secret access key. Readers copy a pointer to an immutable map under a mutex
// (no reader ever holds a lock while looking up, and a writer never waits for readers).
class KeyStore {
 public:
  KeyStore() = default;
  explicit KeyStore(std::vector<Credentials> credentials) { replace(std::move(credentials)); }
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // Replaces every key (a later duplicate id wins).
  void replace(std::vector<Credentials> credentials);
  // Adds one key, or replaces its secret.
  void put(Credentials credentials);
  std::optional<std::string> secret(std::string_view access_key_id) const;
  // The SigV4 signing key of `access_key_id` for one credential scope (day, region, service),
  // or nullopt for an unknown key. Derived keys are cached (four HMACs saved per request: a
  // client signs a whole day with one scope); an entry is used only while the key's secret is
  // unchanged, and the cache is emptied past kMaxDerived entries.
  std::optional<Digest> signing_key(std::string_view access_key_id, std::string_view date,
                                    std::string_view region, std::string_view service) const;
  size_t size() const;

  static constexpr size_t kMaxDerived = 4096;

 private:
  using Map = std::map<std::string, std::string, std::less<>>;
  struct Derived {
    std::string secret;  // the secret the key was derived from
    Digest key;
  };
  std::shared_ptr<const Map> snapshot() const;

  mutable std::mutex mu_;
  std::shared_ptr<const Map> secrets_ = std::make_shared<const Map>();
  mutable std::mutex derived_mu_;
  mutable std::map<std::string, Derived, std::less<>> derived_;  // "id/date/region/service"
};

struct VerifyOptions {
  // DynamoDB Local style: any well-formed Authorization passes (the checks that give
  // MissingAuthenticationToken / IncompleteSignature still run; the clock, the credential scope,
  // the key and the signature are not checked).
  bool accept_any = false;
  std::chrono::minutes max_skew{15};
  std::string service = "dynamodb";  // the service the credential scope must name
  std::string region;                 // the region it must name; empty: any non-empty one
};

// nullopt if the request is signed by a key of `keys`; otherwise the error DynamoDB answers.
// Checks in DynamoDB's order: Authorization present and "AWS4-..." (else
// MissingAuthenticationTokenException); Credential, SignedHeaders, Signature and X-Amz-Date or
// Date present and well-formed (IncompleteSignatureException); the time within max_skew of
// `now`, Host signed, the credential scope (InvalidSignatureException); the access key known
// (UnrecognizedClientException); the signature (InvalidSignatureException). The payload hash
// is x-amz-content-sha256 when present (which must then equal the body's SHA-256).
std::optional<api::ApiError> verify(const http::Request& req, const KeyStore& keys,
                                    const VerifyOptions& opts,
                                    std::chrono::system_clock::time_point now);

}  // namespace shoal::auth
