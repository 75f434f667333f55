#pragma once
// Histogram: counts observations (latencies, sizes) into buckets with fixed upper bounds.
//
// Thread-safety: Observe() is safe from any thread and lock-free (two relaxed atomic RMWs).
// A scrape reads the buckets one by one, so it may see an observation in some counters and
// not yet in others; the exposed _count always equals the +Inf bucket of the same scrape.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace shoal::metrics {

class Histogram {
 public:
  // Upper bounds ("le") of the finite buckets; +Inf is implicit.
  using BucketBoundaries = std::vector<double>;

  struct Snapshot {
    std::vector<double> upper_bounds;       // finite bounds, ascending
    std::vector<uint64_t> cumulative;       // size upper_bounds.size() + 1; last is +Inf
    double sum = 0;
    uint64_t count = 0;                     // == cumulative.back()
  };

  // `buckets` are sorted and de-duplicated; NaN and +Inf entries are dropped.
  explicit Histogram(const BucketBoundaries& buckets);
  // DefaultBuckets().
  Histogram();
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts `v` in the first bucket whose upper bound is >= v (Prometheus "le" semantics).
  void Observe(double v);
  Snapshot Collect() const;
  const BucketBoundaries& bounds() const { return bounds_; }

 private:
  BucketBoundaries bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; +Inf last
  std::atomic<double> sum_{0.0};
};

// `count` bounds: start, start*factor, start*factor^2, ... (start > 0, factor > 1).
Histogram::BucketBoundaries ExponentialBuckets(double start, double factor, int count);
// `count` bounds: start, start+width, start+2*width, ...
Histogram::BucketBoundaries LinearBuckets(double start, double width, int count);
// The Prometheus client default: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 (seconds).
Histogram::BucketBoundaries DefaultBuckets();

}  // namespace shoal::metrics
