#pragma once
// Counter: a monotonically increasing value (requests served, bytes written).
//
// Thread-safety: every member is safe to call from any thread, concurrently; Increment() is
// lock-free (one atomic read-modify-write). Counters are created and owned by a
// Family<Counter> (see registry.h); callers hold references, never copies.

#include <atomic>

namespace shoal::metrics {

// Over-aligned so two counters never share a cache line (no false sharing between hot
// counters of different threads).
class alignas(64) Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds `v`. A negative or NaN `v` is ignored: a counter never goes down.
  void Increment(double v = 1.0) {
    if (!(v >= 0.0)) return;
    value_.fetch_add(v, std::memory_order_relaxed);
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

}  // namespace shoal::metrics
