#include "histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace shoal::bench {
namespace {

// Relative width of a bucket at `digits` significant digits: a reported value is within
// 10^-digits of the true one (HdrHistogram's guarantee; the buckets are in fact ~2x finer).
double tolerance(int digits) { return std::pow(10.0, -digits); }

TEST(Histogram, UniformPercentilesWithinPrecision) {
  for (int digits : {2, 3}) {
    Histogram h(60'000'000, digits);
    for (int64_t v = 1; v <= 1'000'000; ++v) h.record(v);
    EXPECT_EQ(h.count(), 1'000'000u);
    EXPECT_EQ(h.min(), 1);
    EXPECT_EQ(h.max(), 1'000'000);
    EXPECT_NEAR(h.mean(), 500'000.5, 1e-6);
    for (double p : {1.0, 25.0, 50.0, 90.0, 95.0, 99.0, 99.9, 99.99}) {
      const double expected = p / 100.0 * 1'000'000;
      EXPECT_NEAR(static_cast<double>(h.percentile(p)), expected, expected * tolerance(digits))
          << "digits " << digits << " p" << p;
    }
    EXPECT_EQ(h.percentile(100), 1'000'000);
    EXPECT_EQ(h.percentile(0), 1);
  }
}

TEST(Histogram, ExponentialPercentilesMatchSortedSample) {
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> exp(1.0 / 2000);  // mean 2 ms in microseconds
  std::vector<int64_t> values;
  Histogram h(60'000'000, 3);
  for (int i = 0; i < 200'000; ++i) {
    const auto v = static_cast<int64_t>(exp(rng)) + 1;
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {50.0, 95.0, 99.0, 99.9}) {
    const auto rank = static_cast<size_t>(std::llround(p / 100 * values.size())) - 1;
    const auto exact = static_cast<double>(values[rank]);
    EXPECT_NEAR(static_cast<double>(h.percentile(p)), exact, exact * tolerance(3) + 1) << p;
  }
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h(60'000'000, 3);
  for (int64_t v = 0; v < 2000; ++v) {
    EXPECT_EQ(h.lowest_equivalent(v), v);
    EXPECT_EQ(h.highest_equivalent(v), v);
  }
  h.record(3);
  h.record(3);
  h.record(7);
  EXPECT_EQ(h.percentile(50), 3);
  EXPECT_EQ(h.percentile(99), 7);
}

TEST(Histogram, EquivalentRangesCoverEveryValue) {
  Histogram h(60'000'000, 2);
  for (int64_t v : {int64_t{1}, int64_t{255}, int64_t{256}, int64_t{1000}, int64_t{123'456},
                    int64_t{59'999'999}, int64_t{60'000'000}}) {
    const int64_t lo = h.lowest_equivalent(v), hi = h.highest_equivalent(v);
    EXPECT_LE(lo, v);
    EXPECT_GE(hi, v);
    EXPECT_LE(static_cast<double>(hi - lo), v * tolerance(2)) << v;
    EXPECT_EQ(h.lowest_equivalent(hi + 1), hi + 1) << v;  // the next range starts right after
  }
}

TEST(Histogram, EdgeValues) {
  Histogram h(60'000'000, 3);
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(99), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0);
  h.record(0);
  h.record(60'000'000);
  h.record(3'600'000'000);  // above the highest trackable value: top bucket, true max kept
  h.record(-5);             // clamped to 0
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 3'600'000'000);
  EXPECT_EQ(h.percentile(50), 0);
  EXPECT_NEAR(static_cast<double>(h.percentile(75)), 60'000'000, 60'000'000 * tolerance(3));
  EXPECT_GE(h.percentile(100), 60'000'000);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0);
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  Histogram a(60'000'000, 3), b(60'000'000, 3), all(60'000'000, 3);
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> dist(7, 1.5);
  for (int i = 0; i < 100'000; ++i) {
    const auto v = static_cast<int64_t>(dist(rng));
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  Histogram merged(60'000'000, 3);
  merged.merge(a);
  merged.merge(b);
  merged.merge(Histogram(60'000'000, 3));  // empty: no effect on min/max
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_NEAR(merged.mean(), all.mean(), 1e-6);
  for (double p = 0; p <= 100; p += 0.5) EXPECT_EQ(merged.percentile(p), all.percentile(p)) << p;
  EXPECT_EQ(merged.percentile(99.9), all.percentile(99.9));
}

TEST(Histogram, RecordN) {
  Histogram h;
  h.record_n(1000, 99);
  h.record_n(5000, 1);
  h.record_n(7, 0);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.percentile(99), 1000);
  EXPECT_EQ(h.percentile(100), 5000);
  EXPECT_EQ(h.min(), 1000);
}

}  // namespace
}  // namespace shoal::bench
