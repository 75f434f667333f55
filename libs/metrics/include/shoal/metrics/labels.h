#pragma once
// Labels of a time series, and the naming rules of the Prometheus data model.
//
// Labels are an ordered map so that a series has one canonical form: two Labels values
// naming the same series compare equal, and exposition output is deterministic.

#include <map>
#include <string>
#include <string_view>

namespace shoal::metrics {

using Labels = std::map<std::string, std::string>;

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool is_valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]* and not starting with "__" (reserved for Prometheus itself).
bool is_valid_label_name(std::string_view name);

}  // namespace shoal::metrics
