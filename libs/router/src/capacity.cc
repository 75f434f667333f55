#include "capacity.h"

namespace shoal::router {

std::optional<api::ApiError> parse_return_consumed(const rapidjson::Value& body,
                                                   ConsumedMode* mode) {
  *mode = ConsumedMode::kNone;
  const auto* v = member(body, "ReturnConsumedCapacity");
  if (!v) return std::nullopt;
  if (!v->IsString()) return api::errors::wrong_json_type("String");
  std::string_view s(v->GetString(), v->GetStringLength());
  if (s == "TOTAL") *mode = ConsumedMode::kTotal;
  else if (s == "INDEXES") *mode = ConsumedMode::kIndexes;
  else if (s != "NONE") {
    api::errors::ConstraintErrors c;
    c.enum_value("returnConsumedCapacity", s, {"INDEXES", "TOTAL", "NONE"});
    return c.to_error();
  }
  return std::nullopt;
}

std::string units_text(uint64_t half_units) {
  return std::to_string(half_units / 2) + (half_units % 2 ? ".5" : ".0");
}

namespace {

void write_units(api::JsonWriter& w, uint64_t half_units) {
  std::string t = units_text(half_units);
  w.RawValue(t.data(), t.size(), rapidjson::kNumberType);
}

void write_entry(api::JsonWriter& w, ConsumedMode mode, const std::string& table,
                 uint64_t half_units) {
  w.StartObject();
  w.Key("TableName");
  w.String(table.data(), static_cast<rapidjson::SizeType>(table.size()));
  w.Key("CapacityUnits");
  write_units(w, half_units);
  if (mode == ConsumedMode::kIndexes) {
    w.Key("Table");
    w.StartObject();
    w.Key("CapacityUnits");
    write_units(w, half_units);
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

void write_consumed(api::JsonWriter& w, ConsumedMode mode, const std::string& table,
                    uint64_t half_units) {
  if (mode == ConsumedMode::kNone) return;
  w.Key("ConsumedCapacity");
  write_entry(w, mode, table, half_units);
}

void write_consumed_list(api::JsonWriter& w, ConsumedMode mode,
                         const std::vector<std::pair<std::string, uint64_t>>& per_table) {
  if (mode == ConsumedMode::kNone) return;
  w.Key("ConsumedCapacity");
  w.StartArray();
  for (const auto& [table, half] : per_table) write_entry(w, mode, table, half);
  w.EndArray();
}

}  // namespace shoal::router
