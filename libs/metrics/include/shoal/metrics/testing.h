#pragma once
// Test support: reading series back out of a Registry (what a scrape would show).
// Header-only; for tests.

#include <optional>
#include <string>
#include <vector>

#include "shoal/metrics/registry.h"

namespace shoal::metrics::testing {

// Every series of family `name` in a scrape of `registry` (empty if none or no such family).
inline std::vector<ClientMetric> series(const Registry& registry, const std::string& name) {
  for (auto& f : registry.Collect()) {
    if (f.name == name) return std::move(f.metrics);
  }
  return {};
}

// The counter or gauge value of `name` with exactly `labels`, if that series exists.
inline std::optional<double> value(const Registry& registry, const std::string& name,
                                   const Labels& labels = {}) {
  for (const auto& m : series(registry, name)) {
    if (m.labels == labels) return m.value;
  }
  return std::nullopt;
}

// The observation count of histogram `name` with exactly `labels`, if that series exists.
inline std::optional<uint64_t> histogram_count(const Registry& registry, const std::string& name,
                                               const Labels& labels = {}) {
  for (const auto& m : series(registry, name)) {
    if (m.labels == labels) return m.histogram.count;
  }
  return std::nullopt;
}

}  // namespace shoal::metrics::testing
