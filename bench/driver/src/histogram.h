#pragma once
// An HDR-style latency histogram (after Gil Tene's HdrHistogram): log-linear buckets, so every
// recorded value is kept to `significant_digits` decimal digits of precision from 1 unit up to
// `highest`, in a fixed array of counters (no allocation after construction).
//
// Values are integers in whatever unit the caller picks (the driver records microseconds).
// Values above `highest` are counted in the top bucket; max() still reports the true value.
//
// Thread-safety: none. The driver keeps one histogram per I/O thread and merges them at the
// end (or once a second for the progress line), so the hot path takes no lock.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shoal::bench {

class Histogram {
 public:
  // 1 <= significant_digits <= 5; highest >= 2.
  explicit Histogram(int64_t highest = 60'000'000, int significant_digits = 3);

  void record(int64_t value) { record_n(value, 1); }
  void record_n(int64_t value, uint64_t n);
  // Adds every count of `other`, which must have been built with the same parameters.
  void merge(const Histogram& other);
  void reset();

  uint64_t count() const { return total_; }
  int64_t min() const { return total_ ? min_ : 0; }
  int64_t max() const { return total_ ? max_ : 0; }
  double mean() const;
  // The smallest recorded value v (reported as the highest value equivalent to v at this
  // precision) such that at least `percentile`% of all values are <= v. 0 when empty.
  int64_t percentile(double percentile) const;

  int64_t highest() const { return highest_; }
  int significant_digits() const { return digits_; }
  // The range of values counted together with `value`: [lowest_equivalent, highest_equivalent].
  int64_t lowest_equivalent(int64_t value) const;
  int64_t highest_equivalent(int64_t value) const;

 private:
  size_t index_of(int64_t value) const;
  int64_t value_at_index(size_t index) const;
  int bucket_of(int64_t value) const;

  int64_t highest_;
  int digits_;
  int sub_bucket_count_magnitude_;
  int sub_bucket_half_count_magnitude_;
  int64_t sub_bucket_count_;
  int64_t sub_bucket_half_count_;
  int64_t sub_bucket_mask_;
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace shoal::bench
