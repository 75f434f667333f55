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
  std::string id(52, 'A');
  uint64_t c = counter.fetch_add(1, std::memory_order_relaxed);
  for (int i = 0; i < 12; ++i) {  // first 12 chars encode the counter (base 36)
    id[11 - i] = kAlphabet[c % 36];
    c /= 36;
  }
  for (size_t i = 12; i < id.size(); i += 10) {
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
