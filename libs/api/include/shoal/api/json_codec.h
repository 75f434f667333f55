#pragma once
// DynamoDB JSON <-> the item model.
//
// Parsing validates exactly what DynamoDB validates on an AttributeValue (one type per value,
// NULL true, non-empty duplicate-free sets, numbers, base64, nesting depth) and reports the
// first problem as the ApiError DynamoDB would send. Writing never fails.

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <string>
#include <string_view>

#include "shoal/api/errors.h"
#include "shoal/item/item.h"

namespace shoal::api {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr int kMaxNestingDepth = 32;

// Returns std::nullopt on success.
std::optional<ApiError> parse_value(const rapidjson::Value& json, item::AttributeValue* out,
                                    int depth = 0);
// A JSON object of attribute name -> AttributeValue (Item, Key, ...).
std::optional<ApiError> parse_item(const rapidjson::Value& json, item::Item* out);

void write_value(JsonWriter& w, const item::AttributeValue& v);
void write_item(JsonWriter& w, const item::Item& item);

std::string base64_encode(std::string_view raw);
bool base64_decode(std::string_view text, std::string* out);

}  // namespace shoal::api
