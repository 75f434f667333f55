#include "shoal/metrics/labels.h"

#include <stdexcept>
#include <string>

#include "shoal/metrics/family.h"

namespace shoal::metrics {

namespace {
bool is_alpha_(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

bool is_valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  if (!is_alpha_(name[0]) && name[0] != ':') return false;
  for (char c : name) {
    if (!is_alpha_(c) && !is_digit(c) && c != ':') return false;
  }
  return true;
}

bool is_valid_label_name(std::string_view name) {
  if (name.empty() || !is_alpha_(name[0])) return false;
  if (name.size() >= 2 && name[0] == '_' && name[1] == '_') return false;
  for (char c : name) {
    if (!is_alpha_(c) && !is_digit(c)) return false;
  }
  return true;
}

namespace detail {
void check_labels(const Labels& labels, MetricType type) {
  for (const auto& [name, value] : labels) {
    if (!is_valid_label_name(name)) throw std::invalid_argument("invalid label name: " + name);
    if (type == MetricType::kHistogram && name == "le") {
      throw std::invalid_argument("label name 'le' is reserved for histograms");
    }
  }
}
}  // namespace detail

}  // namespace shoal::metrics
