#pragma once
// DynamoDB's legacy conditional parameters, which older SDKs and code still send, turned into
// the same expression AST the expressions produce (so the storage node knows one form):
//   Expected (+ ConditionalOperator)        -> a Condition      (PutItem, DeleteItem, UpdateItem)
//   QueryFilter / ScanFilter (+ Cond.Op.)   -> a Condition      (Query, Scan)
//   AttributeUpdates                        -> an Update        (UpdateItem)
// Attribute names here are literal top-level names (no document paths).

#include <optional>
#include <string>
#include <vector>

#include "impl.h"

namespace shoal::router {

// `param` is "Expected", "QueryFilter" or "ScanFilter"; `body` holds it and
// ConditionalOperator. Returns nullopt and leaves `out` empty if `param` is absent.
std::optional<api::ApiError> legacy_condition(const rapidjson::Value& body, const char* param,
                                              std::optional<expr::v1::Condition>* out);

std::optional<api::ApiError> legacy_update(const rapidjson::Value& attribute_updates,
                                           const std::vector<std::string>& key_names,
                                           expr::v1::Update* out);

}  // namespace shoal::router
