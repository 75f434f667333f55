#include "shoal/item/key.h"

#include <cstdio>
#include <cstdlib>

#include <openssl/evp.h>

namespace shoal::item {
namespace {

void put_be(uint64_t v, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

std::string key_component(const AttributeValue& v) {
  switch (v.type) {
    case Type::kS:
    case Type::kB: return v.bytes;
    case Type::kN: return v.number.encode_ordered();
    default: return std::string();  // Not a key type: caller bug.
  }
}

bool key_component_to_value(Type type, std::string_view bytes, AttributeValue* out) {
  switch (type) {
    case Type::kS: *out = AttributeValue::S(std::string(bytes)); return true;
    case Type::kB: *out = AttributeValue::B(std::string(bytes)); return true;
    case Type::kN: {
      Decimal d;
      if (!Decimal::decode_ordered(bytes, &d)) return false;
      *out = AttributeValue::N(std::move(d));
      return true;
    }
    default: return false;
  }
}

uint64_t partition_hash(std::string_view partition_key_component) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  // Fails only if MD5 is unavailable (e.g. an OpenSSL FIPS-only configuration) or memory
  // runs out. Routing with a wrong hash would silently misplace data, so stop instead.
  if (EVP_Digest(partition_key_component.data(), partition_key_component.size(), digest,
                 &digest_len, EVP_md5(), nullptr) != 1 ||
      digest_len < 8) {
    std::fprintf(stderr, "shoal::item::partition_hash: MD5 digest failed\n");
    std::abort();
  }
  uint64_t h = 0;
  for (int i = 0; i < 8; ++i) h = (h << 8) | digest[i];
  return h;
}

std::string storage_key(uint64_t hash, std::string_view pk, std::string_view sk) {
  std::string out;
  out.reserve(12 + pk.size() + sk.size());
  put_be(hash, 8, &out);
  put_be(static_cast<uint64_t>(pk.size()), 4, &out);
  out.append(pk);
  out.append(sk);
  return out;
}

}  // namespace shoal::item
