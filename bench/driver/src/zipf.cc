#include "zipf.h"

#include <cassert>
#include <cmath>

namespace shoal::bench {

namespace {
// YCSB ScrambledZipfianGenerator.ITEM_COUNT and its precomputed zeta(ITEM_COUNT, 0.99).
constexpr uint64_t kScrambledItemCount = 10'000'000'000ULL;
constexpr double kScrambledZetan = 26.46902820178302;

double unit(Rng& rng) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }
}  // namespace

uint64_t fnv_hash64(uint64_t value) {
  uint64_t hash = 0xCBF29CE484222325ULL;
  for (int i = 0; i < 8; ++i) {
    hash ^= value & 0xff;
    value >>= 8;
    hash *= 1099511628211ULL;
  }
  // Java's Math.abs on the signed value (Long.MIN_VALUE, which stays negative, is masked).
  const auto s = static_cast<int64_t>(hash);
  return s < 0 ? (s == INT64_MIN ? 0 : static_cast<uint64_t>(-s)) : hash;
}

double zeta(uint64_t n, double theta) {
  double sum = 0;
  for (uint64_t i = 1; i <= n; ++i) sum += 1.0 / std::pow(static_cast<double>(i), theta);
  return sum;
}

ZipfianGenerator::ZipfianGenerator(uint64_t min, uint64_t max, double theta)
    : ZipfianGenerator(min, max, theta, zeta(max - min + 1, theta)) {}

ZipfianGenerator::ZipfianGenerator(uint64_t min, uint64_t max, double theta, double zetan)
    : base_(min), items_(max - min + 1), theta_(theta), zetan_(zetan) {
  assert(max >= min && theta > 0 && theta < 1);
  zeta2theta_ = zeta(2, theta_);
  alpha_ = 1.0 / (1.0 - theta_);
  eta_ = (1 - std::pow(2.0 / static_cast<double>(items_), 1 - theta_)) /
         (1 - zeta2theta_ / zetan_);
}

uint64_t ZipfianGenerator::next(Rng& rng) {
  const double u = unit(rng);
  const double uz = u * zetan_;
  if (uz < 1.0) return base_;
  if (uz < 1.0 + std::pow(0.5, theta_)) return base_ + 1;
  auto offset = static_cast<uint64_t>(static_cast<double>(items_) *
                                      std::pow(eta_ * u - eta_ + 1, alpha_));
  if (offset >= items_) offset = items_ - 1;
  return base_ + offset;
}

ScrambledZipfianGenerator::ScrambledZipfianGenerator(uint64_t min, uint64_t max)
    : min_(min),
      items_(max - min + 1),
      gen_(0, kScrambledItemCount, kZipfianConstant, kScrambledZetan) {}

uint64_t ScrambledZipfianGenerator::next(Rng& rng) {
  return min_ + fnv_hash64(gen_.next(rng)) % items_;
}

KeyChooser::KeyChooser(Distribution d, uint64_t records)
    : d_(d), uniform_(0, records ? records - 1 : 0), zipf_(0, records ? records - 1 : 0) {}

uint64_t KeyChooser::next(Rng& rng) {
  return d_ == Distribution::kUniform ? uniform_(rng) : zipf_.next(rng);
}

}  // namespace shoal::bench
