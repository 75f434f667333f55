#pragma once
// Evaluating the expression AST against items. Runs in the storage node.
//
// Nothing here trusts the AST more than Protobuf does: a malformed message (bad value bytes,
// missing fields) gives Code::kInvalidArgument, never a crash.

#include <optional>
#include <string>

#include "shoal/common/status.h"
#include "shoal/expr/v1/expr.pb.h"
#include "shoal/item/item.h"

namespace shoal::expr {

// Value of a condition against `item` (nullptr: no item, every attribute is missing).
// false is not an error: the caller maps it to ConditionalCheckFailedException or filters the
// item out.
Result<bool> evaluate(const v1::Condition& condition, const item::Item* item);

// Applies an UpdateExpression to `item` in place. A new item starts with its key attributes
// only. On error `item` is left unchanged. Errors carry DynamoDB's messages, e.g.
// "The provided expression refers to an attribute that does not exist in the item".
// The caller checks the item size limit afterwards.
Status apply_update(const v1::Update& update, item::Item* item);

// The item reduced to the projected paths, keeping their structure: a.b -> {a: {M: {b}}},
// l[1] -> {l: {L: [element 1]}} (several indexes of one list keep their relative order).
item::Item project(const item::Item& item, const v1::Projection& projection);

// Whether a sort-key value satisfies the query's sort condition (true when there is none).
bool sort_key_matches(const v1::KeyCondition& key_condition, const item::AttributeValue& sk);

// The sort-key range of a query over key-component bytes (item::key_component, whose memcmp
// order is DynamoDB's order): lower inclusive, upper exclusive; nullopt = unbounded.
struct SortKeyRange {
  std::optional<std::string> lower;
  std::optional<std::string> upper;
};
SortKeyRange sort_key_range(const v1::KeyCondition& key_condition);

// Decodes an operand/key value carried in the AST; false if the bytes are malformed.
bool decode_operand_value(const std::string& bytes, item::AttributeValue* out);

}  // namespace shoal::expr
