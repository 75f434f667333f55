#include "shoal/metrics/registry.h"

namespace shoal::metrics {

void Registry::check_family(const std::string& name, const Labels& constant_labels,
                            MetricType type) {
  if (!is_valid_metric_name(name)) throw std::invalid_argument("invalid metric name: '" + name + "'");
  detail::check_labels(constant_labels, type);
}

std::vector<MetricFamily> Registry::Collect() const {
  // Families are never removed and never move (unique_ptr), so the pointers outlive the
  // lock; collecting outside it keeps registration from waiting on scrape callbacks.
  std::vector<const Collectable*> families;
  {
    std::lock_guard lock(mu_);
    families.reserve(families_.size());
    for (const auto& e : families_) families.push_back(e.family.get());
  }
  std::vector<MetricFamily> out;
  out.reserve(families.size());
  for (const auto* f : families) out.push_back(f->Collect());
  return out;
}

}  // namespace shoal::metrics
