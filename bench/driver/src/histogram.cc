#include "histogram.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace shoal::bench {

Histogram::Histogram(int64_t highest, int significant_digits)
    : highest_(highest), digits_(significant_digits) {
  assert(significant_digits >= 1 && significant_digits <= 5 && highest >= 2);
  // Values up to 2 * 10^digits are kept exactly; above, each bucket doubles the unit.
  int64_t single_unit = 2;
  for (int i = 0; i < digits_; ++i) single_unit *= 10;
  sub_bucket_count_magnitude_ =
      static_cast<int>(std::ceil(std::log2(static_cast<double>(single_unit))));
  sub_bucket_half_count_magnitude_ = sub_bucket_count_magnitude_ - 1;
  sub_bucket_count_ = int64_t{1} << sub_bucket_count_magnitude_;
  sub_bucket_half_count_ = sub_bucket_count_ / 2;
  sub_bucket_mask_ = sub_bucket_count_ - 1;
  int buckets = 1;
  for (int64_t untrackable = sub_bucket_count_; untrackable <= highest_; untrackable <<= 1) {
    ++buckets;
    if (untrackable > INT64_MAX / 2) break;
  }
  counts_.assign(static_cast<size_t>(buckets + 1) * sub_bucket_half_count_, 0);
}

int Histogram::bucket_of(int64_t value) const {
  const int pow2ceiling = 64 - __builtin_clzll(static_cast<uint64_t>(value | sub_bucket_mask_));
  return pow2ceiling - (sub_bucket_half_count_magnitude_ + 1);
}

size_t Histogram::index_of(int64_t value) const {
  const int bucket = bucket_of(value);
  const int64_t sub = value >> bucket;
  return (static_cast<size_t>(bucket + 1) << sub_bucket_half_count_magnitude_) +
         static_cast<size_t>(sub - sub_bucket_half_count_);
}

int64_t Histogram::value_at_index(size_t index) const {
  int bucket = static_cast<int>(index >> sub_bucket_half_count_magnitude_) - 1;
  int64_t sub = static_cast<int64_t>(index & (sub_bucket_half_count_ - 1)) + sub_bucket_half_count_;
  if (bucket < 0) {
    sub -= sub_bucket_half_count_;
    bucket = 0;
  }
  return sub << bucket;
}

int64_t Histogram::lowest_equivalent(int64_t value) const {
  const int bucket = bucket_of(value);
  return (value >> bucket) << bucket;
}

int64_t Histogram::highest_equivalent(int64_t value) const {
  const int bucket = bucket_of(value);
  const int64_t sub = value >> bucket;
  const int adjusted = sub >= sub_bucket_count_ ? bucket + 1 : bucket;
  return lowest_equivalent(value) + (int64_t{1} << adjusted) - 1;
}

void Histogram::record_n(int64_t value, uint64_t n) {
  if (n == 0) return;
  if (value < 0) value = 0;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value) * n;
  total_ += n;
  counts_[index_of(std::min(value, highest_))] += n;
}

void Histogram::merge(const Histogram& other) {
  assert(other.counts_.size() == counts_.size() && other.digits_ == digits_);
  if (other.total_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
  min_ = INT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double Histogram::mean() const {
  return total_ ? static_cast<double>(sum_ / static_cast<long double>(total_)) : 0.0;
}

int64_t Histogram::percentile(double percentile) const {
  if (total_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  const auto wanted = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::llround(percentile / 100.0 * static_cast<double>(total_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) {
      // Never report past the extremes actually seen.
      return std::clamp(highest_equivalent(value_at_index(i)), min_, max_);
    }
  }
  return max_;
}

}  // namespace shoal::bench
