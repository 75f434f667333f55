#pragma once
// Gauge: a value that goes up and down (queue depth, items stored).
//
// Thread-safety: every member is safe to call from any thread, concurrently, and lock-free.
// Gauges are created and owned by a Family<Gauge> (see registry.h). A gauge whose value is
// better computed when scraped (e.g. read from another component) is a callback series:
// Family<Gauge>::AddCallback.

#include <atomic>

namespace shoal::metrics {

class alignas(64) Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Increment(double v = 1.0) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Decrement(double v = 1.0) { value_.fetch_sub(v, std::memory_order_relaxed); }
  // Sets the gauge to the current Unix time in seconds.
  void SetToCurrentTime();
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

}  // namespace shoal::metrics
