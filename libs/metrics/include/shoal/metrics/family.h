#pragma once
// Family<T>: all series of one metric name, one per distinct label set, plus what a scrape
// sees of them (MetricFamily).
//
// Ownership: a Family owns its metrics; the Registry owns the Family. References returned by
// Add() stay valid until Remove() of that metric or destruction of the Registry.
//
// Thread-safety: every member is safe to call concurrently. Add() of an existing series
// takes a shared lock (map lookup); creating a series takes the exclusive lock. Hot paths
// should keep the returned reference rather than call Add() per event.
//
// Callback series (Counter and Gauge families only): a function evaluated at scrape time,
// for values another component already keeps (e.g. items per partition). Callbacks run on
// the scraping thread under the family's shared lock, so they must be cheap, must not block
// and must not call into this family (Add/Remove/AddCallback/RemoveCallback would deadlock).
// Once RemoveCallback() returns, the callback is not running and will not run again.

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "shoal/metrics/counter.h"
#include "shoal/metrics/gauge.h"
#include "shoal/metrics/histogram.h"
#include "shoal/metrics/labels.h"

namespace shoal::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// One series as scraped.
struct ClientMetric {
  Labels labels;                  // the family's constant labels merged with the series'
  double value = 0;               // counter and gauge
  Histogram::Snapshot histogram;  // histogram only
};

// One family as scraped: what the text serializer writes.
struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<ClientMetric> metrics;  // sorted by labels
};

// What the Registry holds: anything that can be scraped.
class Collectable {
 public:
  virtual ~Collectable() = default;
  virtual MetricFamily Collect() const = 0;
};

template <class T>
struct MetricTraits;
template <>
struct MetricTraits<Counter> {
  static constexpr MetricType kType = MetricType::kCounter;
};
template <>
struct MetricTraits<Gauge> {
  static constexpr MetricType kType = MetricType::kGauge;
};
template <>
struct MetricTraits<Histogram> {
  static constexpr MetricType kType = MetricType::kHistogram;
};

namespace detail {
// Throws std::invalid_argument unless every label name is valid (and not "le" for a
// histogram).
void check_labels(const Labels& labels, MetricType type);
}  // namespace detail

template <class T>
class Family final : public Collectable {
 public:
  static constexpr MetricType kType = MetricTraits<T>::kType;

  // Use BuildCounter()/BuildGauge()/BuildHistogram() (registry.h) rather than this.
  Family(std::string name, std::string help, Labels constant_labels)
      : name_(std::move(name)), help_(std::move(help)),
        constant_labels_(std::move(constant_labels)) {}
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // Returns the series with these labels, creating it with T(args...) if absent (for a
  // Histogram, args is the BucketBoundaries; an existing series keeps its buckets).
  // Throws std::invalid_argument for an invalid label name, or for labels that name a
  // callback series.
  template <class... Args>
  T& Add(const Labels& labels, Args&&... args) {
    {
      std::shared_lock lock(mu_);
      if (auto it = metrics_.find(labels); it != metrics_.end()) return *it->second;
    }
    detail::check_labels(labels, kType);
    std::unique_lock lock(mu_);
    if (auto it = metrics_.find(labels); it != metrics_.end()) return *it->second;
    if (callbacks_.count(labels) != 0) {
      throw std::invalid_argument("metric " + name_ + ": labels already used by a callback");
    }
    auto [it, inserted] =
        metrics_.emplace(labels, std::make_unique<T>(std::forward<Args>(args)...));
    return *it->second;
  }

  // Removes a series returned by Add(); the reference dies. Unknown pointers are ignored.
  void Remove(T* metric) {
    std::unique_lock lock(mu_);
    for (auto it = metrics_.begin(); it != metrics_.end(); ++it) {
      if (it->second.get() == metric) {
        metrics_.erase(it);
        return;
      }
    }
  }

  // True if a series (plain or callback) has exactly these labels.
  bool Has(const Labels& labels) const {
    std::shared_lock lock(mu_);
    return metrics_.count(labels) != 0 || callbacks_.count(labels) != 0;
  }

  // Adds (or replaces) a series whose value is `fn()` at scrape time. Throws
  // std::invalid_argument for an invalid label name or labels used by a plain series.
  void AddCallback(const Labels& labels, std::function<double()> fn)
    requires(!std::is_same_v<T, Histogram>)
  {
    detail::check_labels(labels, kType);
    std::unique_lock lock(mu_);
    if (metrics_.count(labels) != 0) {
      throw std::invalid_argument("metric " + name_ + ": labels already used by a series");
    }
    callbacks_[labels] = std::move(fn);
  }

  // Removes a callback series; returns whether it existed.
  bool RemoveCallback(const Labels& labels)
    requires(!std::is_same_v<T, Histogram>)
  {
    std::unique_lock lock(mu_);
    return callbacks_.erase(labels) != 0;
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const Labels& constant_labels() const { return constant_labels_; }

  MetricFamily Collect() const override {
    MetricFamily out{name_, help_, kType, {}};
    std::shared_lock lock(mu_);
    out.metrics.reserve(metrics_.size() + callbacks_.size());
    for (const auto& [labels, metric] : metrics_) {
      ClientMetric m{merged(labels), 0, {}};
      if constexpr (std::is_same_v<T, Histogram>) {
        m.histogram = metric->Collect();
      } else {
        m.value = metric->Value();
      }
      out.metrics.push_back(std::move(m));
    }
    if constexpr (!std::is_same_v<T, Histogram>) {
      for (const auto& [labels, fn] : callbacks_) {
        out.metrics.push_back(ClientMetric{merged(labels), fn ? fn() : 0.0, {}});
      }
    }
    lock.unlock();
    std::sort(out.metrics.begin(), out.metrics.end(),
              [](const ClientMetric& a, const ClientMetric& b) { return a.labels < b.labels; });
    return out;
  }

 private:
  Labels merged(const Labels& labels) const {
    if (constant_labels_.empty()) return labels;
    Labels all = constant_labels_;
    for (const auto& [k, v] : labels) all[k] = v;
    return all;
  }

  const std::string name_;
  const std::string help_;
  const Labels constant_labels_;
  mutable std::shared_mutex mu_;
  std::map<Labels, std::unique_ptr<T>> metrics_;
  std::map<Labels, std::function<double()>> callbacks_;
};

}  // namespace shoal::metrics
