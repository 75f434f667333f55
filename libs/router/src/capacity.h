#pragma once
// ReturnConsumedCapacity: DynamoDB's unit arithmetic, exact (counted in half units, since an
// eventually consistent read costs half a read unit; never floating point).
//
//   read:  ceil(size / 4 KB) units, at least 1; eventually consistent: half of that.
//          Query/Scan round the total size of the items read, not each item.
//   write: ceil(size / 1 KB) units, at least 1; an overwrite counts the larger of the old
//          and the new item.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "impl.h"

namespace shoal::router {

enum class ConsumedMode { kNone, kTotal, kIndexes };

std::optional<api::ApiError> parse_return_consumed(const rapidjson::Value& body,
                                                   ConsumedMode* mode);

inline uint64_t read_half_units(uint64_t bytes, bool consistent) {
  uint64_t units = std::max<uint64_t>(1, (bytes + 4095) / 4096);
  return consistent ? 2 * units : units;
}
inline uint64_t write_half_units(uint64_t bytes) {
  return 2 * std::max<uint64_t>(1, (bytes + 1023) / 1024);
}

// Adds consumed half units to a table's capacity counter (TableInfo::read_units or
// write_units; null without metrics). Every request that consumed capacity counts, whether
// or not it asked for ReturnConsumedCapacity.
inline void count_units(metrics::Counter* units, uint64_t half_units) {
  if (units) units->Increment(static_cast<double>(half_units) / 2);
}

// "1.0", "0.5", "12.5": half units as the JSON number DynamoDB sends.
std::string units_text(uint64_t half_units);

// Writes "ConsumedCapacity": {...} for one table (single-item ops, Query, Scan).
void write_consumed(api::JsonWriter& w, ConsumedMode mode, const std::string& table,
                    uint64_t half_units);
// Writes "ConsumedCapacity": [{...}, ...] (batch ops), one entry per table.
void write_consumed_list(api::JsonWriter& w, ConsumedMode mode,
                         const std::vector<std::pair<std::string, uint64_t>>& per_table);

}  // namespace shoal::router
