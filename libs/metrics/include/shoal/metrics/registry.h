#pragma once
// Registry: the set of metric families one process exposes on /metrics, and the builders
// that register families in it. The API follows prometheus-cpp:
//
//   auto& requests = BuildCounter().Name("shoal_router_requests_total").Help("...")
//                        .Register(registry);
//   requests.Add({{"op", "PutItem"}}).Increment();
//
// Ownership: the Registry owns its families (which own their metrics); every reference it
// hands out lives as long as the Registry. Families are never removed.
// Thread-safety: all members are safe to call concurrently.
// Errors: invalid names and a name registered twice with different types throw
// std::invalid_argument (programming errors, raised at startup).

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "shoal/metrics/counter.h"
#include "shoal/metrics/family.h"
#include "shoal/metrics/gauge.h"
#include "shoal/metrics/histogram.h"
#include "shoal/metrics/labels.h"

namespace shoal::metrics {

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Returns the family `name`, creating it if absent. Registering an existing name again
  // with the same type returns the existing family (its help and constant labels win);
  // with another type it throws std::invalid_argument.
  template <class T>
  Family<T>& Add(const std::string& name, const std::string& help,
                 const Labels& constant_labels = {}) {
    check_family(name, constant_labels, MetricTraits<T>::kType);
    std::lock_guard lock(mu_);
    for (auto& e : families_) {
      if (e.name != name) continue;
      if (e.type != MetricTraits<T>::kType) {
        throw std::invalid_argument("metric " + name + " already registered with another type");
      }
      return static_cast<Family<T>&>(*e.family);
    }
    auto family = std::make_unique<Family<T>>(name, help, constant_labels);
    auto& ref = *family;
    families_.push_back(Entry{name, MetricTraits<T>::kType, std::move(family)});
    return ref;
  }

  // A snapshot of every family, in registration order. Runs callback series.
  std::vector<MetricFamily> Collect() const;

 private:
  static void check_family(const std::string& name, const Labels& constant_labels,
                           MetricType type);
  struct Entry {
    std::string name;
    MetricType type;
    std::unique_ptr<Collectable> family;
  };
  mutable std::mutex mu_;
  std::vector<Entry> families_;
};

// Fluent registration, as prometheus-cpp's BuildCounter()/BuildGauge()/BuildHistogram().
template <class T>
class Builder {
 public:
  Builder& Name(std::string name) {
    name_ = std::move(name);
    return *this;
  }
  Builder& Help(std::string help) {
    help_ = std::move(help);
    return *this;
  }
  // Constant labels, added to every series of the family.
  Builder& Labels(const ::shoal::metrics::Labels& labels) {
    labels_ = labels;
    return *this;
  }
  Family<T>& Register(Registry& registry) const {
    return registry.Add<T>(name_, help_, labels_);
  }

 private:
  std::string name_;
  std::string help_;
  ::shoal::metrics::Labels labels_;
};

inline Builder<Counter> BuildCounter() { return {}; }
inline Builder<Gauge> BuildGauge() { return {}; }
inline Builder<Histogram> BuildHistogram() { return {}; }

}  // namespace shoal::metrics
