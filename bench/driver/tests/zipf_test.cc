#include "zipf.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

namespace shoal::bench {
namespace {

// YCSB's first record is "user6284781860667377211": fnvhash64(0).
TEST(Zipf, FnvHashMatchesYcsb) {
  EXPECT_EQ(fnv_hash64(0), 6284781860667377211ULL);
  EXPECT_EQ(fnv_hash64(1), 8517097267634966620ULL);
  EXPECT_EQ(fnv_hash64(2), 1820151046732198393ULL);
}

TEST(Zipf, ZetaOfSmallN) {
  EXPECT_DOUBLE_EQ(zeta(1, 0.99), 1.0);
  EXPECT_NEAR(zeta(2, 0.99), 1.0 + 1.0 / std::pow(2.0, 0.99), 1e-12);
}

TEST(Zipf, MostPopularItemGetsExpectedShare) {
  constexpr uint64_t kItems = 1000;
  constexpr int kDraws = 400'000;
  ZipfianGenerator gen(0, kItems - 1);
  Rng rng(3);
  std::vector<int> counts(kItems);
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t v = gen.next(rng);
    ASSERT_LT(v, kItems);
    ++counts[v];
  }
  // P(item i) = 1 / ((i+1)^theta * zeta(n)): item 0 about 13.4%, item 1 about half of that.
  const double p0 = 1.0 / zeta(kItems, kZipfianConstant);
  EXPECT_NEAR(counts[0] / double(kDraws), p0, 0.01);
  EXPECT_NEAR(counts[1] / double(kDraws), p0 / std::pow(2.0, kZipfianConstant), 0.01);
  EXPECT_GT(counts[0], counts[10]);
  EXPECT_GT(counts[10], counts[500]);
}

TEST(Zipf, ScrambledStaysInRangeAndIsSkewed) {
  constexpr uint64_t kMin = 100, kItems = 10'000;
  constexpr int kDraws = 400'000;
  ScrambledZipfianGenerator gen(kMin, kMin + kItems - 1);
  Rng rng(5);
  std::map<uint64_t, int> counts;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t v = gen.next(rng);
    ASSERT_GE(v, kMin);
    ASSERT_LT(v, kMin + kItems);
    ++counts[v];
  }
  std::vector<int> sorted;
  for (const auto& [_, c] : counts) sorted.push_back(c);
  std::sort(sorted.rbegin(), sorted.rend());
  // The top item of YCSB's 10^10-item Zipfian has 1/zeta(10^10, 0.99) = 1/26.469 = 3.78%,
  // plus what hash collisions add (well under 1% here).
  EXPECT_NEAR(sorted[0] / double(kDraws), 1 / 26.46902820178302, 0.008);
  // Skewed: the hottest 1% of the keys get at least what the 100 most popular Zipfian items
  // have, zeta(100) / zeta(10^10) = 19.4% (collisions only add to it), not 1%.
  int top = 0;
  for (size_t i = 0; i < kItems / 100 && i < sorted.size(); ++i) top += sorted[i];
  EXPECT_GT(top / double(kDraws), zeta(100, kZipfianConstant) / 26.46902820178302 - 0.01);
  EXPECT_LT(top / double(kDraws), 0.30);
  // Not clustered at the low ids (that is the point of scrambling): the hottest key is
  // Zipfian item 0 hashed into the range.
  auto hottest = std::max_element(counts.begin(), counts.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
  EXPECT_EQ(hottest->first, kMin + fnv_hash64(0) % kItems);
}

TEST(Zipf, KeyChooserRanges) {
  Rng rng(9);
  for (auto d : {Distribution::kUniform, Distribution::kZipfian}) {
    KeyChooser one(d, 1);
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(one.next(rng), 0u);
    KeyChooser many(d, 50);
    std::vector<int> seen(50);
    for (int i = 0; i < 20'000; ++i) {
      const uint64_t v = many.next(rng);
      ASSERT_LT(v, 50u);
      ++seen[v];
    }
    if (d == Distribution::kUniform) {
      for (int c : seen) EXPECT_NEAR(c, 400, 120);
    }
  }
}

}  // namespace
}  // namespace shoal::bench
