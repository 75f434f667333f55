#pragma once
// Key choosers as in YCSB's core workload (site.ycsb.generator): uniform, Zipfian (Gray et
// al., "Quickly Generating Billion-Record Synthetic Databases", SIGMOD 1994) and scrambled
// Zipfian, which spreads the popular items over the key space with an FNV-1a hash.
//
// Thread-safety: none; each connection owns its generator and random engine.

#include <cstdint>
#include <random>

namespace shoal::bench {

using Rng = std::mt19937_64;

inline constexpr double kZipfianConstant = 0.99;

// YCSB's Utils.fnvhash64: FNV-1a over the 8 little-endian bytes of `value`, made non-negative.
uint64_t fnv_hash64(uint64_t value);

// zeta(n, theta) = sum_{i=1..n} 1 / i^theta.
double zeta(uint64_t n, double theta);

// Integers in [min, max], item min the most popular, P(min + i) proportional to 1/(i+1)^theta.
class ZipfianGenerator {
 public:
  ZipfianGenerator(uint64_t min, uint64_t max, double theta = kZipfianConstant);
  // With zeta(max - min + 1, theta) precomputed (YCSB does this for its 10^10-item space).
  ZipfianGenerator(uint64_t min, uint64_t max, double theta, double zetan);
  uint64_t next(Rng& rng);
  double zetan() const { return zetan_; }

 private:
  uint64_t base_, items_;
  double theta_, zetan_, zeta2theta_, alpha_, eta_;
};

// YCSB's ScrambledZipfianGenerator: draws from a Zipfian over 10^10 items and hashes the
// result into [min, max], so the popular keys are not clustered at the low ids.
class ScrambledZipfianGenerator {
 public:
  ScrambledZipfianGenerator(uint64_t min, uint64_t max);
  uint64_t next(Rng& rng);

 private:
  uint64_t min_, items_;
  ZipfianGenerator gen_;
};

enum class Distribution { kUniform, kZipfian };

// Chooses record ids in [0, records).
class KeyChooser {
 public:
  KeyChooser(Distribution d, uint64_t records);
  uint64_t next(Rng& rng);

 private:
  Distribution d_;
  std::uniform_int_distribution<uint64_t> uniform_;
  ScrambledZipfianGenerator zipf_;
};

}  // namespace shoal::bench
