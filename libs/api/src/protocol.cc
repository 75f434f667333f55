#include "shoal/api/protocol.h"

#include <zlib.h>

#include <atomic>
#include <chrono>
#include <random>

namespace shoal::api {

std::string_view operation_from_target(std::string_view target) {
  if (target.substr(0, kTargetPrefix.size()) != kTargetPrefix) return {};
  return target.substr(kTargetPrefix.size());
}

std::string new_request_id() {
  // Unique per process without a lock: a random per-thread seed plus a global counter.
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   static_cast<uint64_t>(
                                       std::chrono::steady_clock::now().time_since_epoch().count()));
  static const uint64_t salt = std::random_device{}();
  std::string id(52, 'A');
  // The first 13 characters are a bijection of the counter (multiplying by an odd constant
  // is invertible modulo 2^64), so ids never repeat within a process yet do not look serial.
  uint64_t c = (counter.fetch_add(1, std::memory_order_relaxed) + salt) * 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 13; ++i) {
    id[12 - i] = kAlphabet[c % 36];
    c /= 36;
  }
  for (size_t i = 13; i < id.size(); i += 10) {
    uint64_t r = rng();
    for (size_t j = i; j < i + 10 && j < id.size(); ++j) {
      id[j] = kAlphabet[r % 36];
      r /= 36;
    }
  }
  return id;
}

uint32_t crc32_of(std::string_view body) {
  return static_cast<uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
}

std::vector<std::pair<std::string, std::string>> response_headers(std::string_view request_id,
                                                                   std::string_view body) {
  return {
      {"Content-Type", std::string(kContentType)},
      {"x-amzn-RequestId", std::string(request_id)},
      {"x-amz-crc32", std::to_string(crc32_of(body))},
  };
}

}  // namespace shoal::api
