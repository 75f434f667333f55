#pragma once
// Prometheus text exposition format 0.0.4: what /metrics returns.
//
// Per family: "# HELP", "# TYPE", then one line per sample. Label values escape \ " and
// newline; HELP text escapes \ and newline. Histograms expand to <name>_bucket{...,le="..."}
// (cumulative, ending with le="+Inf"), <name>_sum and <name>_count. Numbers: integral
// values print as integers, others in the shortest form that parses back exactly; +Inf,
// -Inf and NaN as Prometheus spells them.
//
// Thread-safety: stateless; safe from any thread.

#include <string>
#include <string_view>
#include <vector>

#include "shoal/metrics/family.h"
#include "shoal/metrics/registry.h"

namespace shoal::metrics {

// The Content-Type of the text format.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4";

class TextSerializer {
 public:
  std::string Serialize(const std::vector<MetricFamily>& families) const;
  // Appends to `out`.
  void Serialize(const std::vector<MetricFamily>& families, std::string& out) const;
};

// Collects `registry` and serializes it.
std::string serialize(const Registry& registry);

// The sample-value spelling used above (exposed for tests).
std::string format_value(double v);

}  // namespace shoal::metrics
