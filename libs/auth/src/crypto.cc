// SHA-256 and HMAC-SHA256 through OpenSSL's EVP interfaces (the low-level SHA256()/HMAC() ones
// are deprecated in OpenSSL 3).

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

#include "shoal/auth/sigv4.h"

namespace shoal::auth {

Digest sha256(std::string_view data) {
  Digest out{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != out.size()) {
    throw std::runtime_error("EVP_Digest(SHA-256) failed");
  }
  return out;
}

Digest hmac_sha256(std::string_view key, std::string_view data) {
  Digest out{};
  unsigned int size = 0;
  // HMAC() (one-shot, EVP_MD based) is not deprecated in OpenSSL 3.
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &size) == nullptr ||
      size != out.size()) {
    throw std::runtime_error("HMAC(SHA-256) failed");
  }
  return out;
}

std::string hex(const Digest& d) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(d.size() * 2, '0');
  for (size_t i = 0; i < d.size(); ++i) {
    s[2 * i] = kDigits[d[i] >> 4];
    s[2 * i + 1] = kDigits[d[i] & 0xf];
  }
  return s;
}

std::string sha256_hex(std::string_view data) { return hex(sha256(data)); }

Digest signing_key(std::string_view secret, std::string_view date, std::string_view region,
                   std::string_view service) {
  std::string k("AWS4");
  k.append(secret);
  Digest d = hmac_sha256(k, date);
  auto view = [](const Digest& x) {
    return std::string_view(reinterpret_cast<const char*>(x.data()), x.size());
  };
  d = hmac_sha256(view(d), region);
  d = hmac_sha256(view(d), service);
  return hmac_sha256(view(d), kTerminator);
}

}  // namespace shoal::auth
