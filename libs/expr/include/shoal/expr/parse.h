#pragma once
// Parsing DynamoDB expressions into the Protobuf AST (proto/shoal/expr/v1/expr.proto).
//
// Runs in the router. Every function validates as DynamoDB does and returns
// Code::kInvalidArgument with DynamoDB's exact message (the router turns it into a
// ValidationException). Placeholders are substituted here: the AST carries attribute names
// and encoded values only. Parsing is depth-limited and never recurses without bound, so any
// input (up to the 4 KB expression limit, checked first) is safe.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "shoal/common/status.h"
#include "shoal/expr/v1/expr.pb.h"
#include "shoal/item/item.h"

namespace shoal::expr {

// ExpressionAttributeNames / ExpressionAttributeValues of one request, shared by all of its
// expressions; each parse marks what it used so check_all_used can run at the end.
struct Placeholders {
  std::map<std::string, std::string> names;             // "#n" -> "name"
  std::map<std::string, item::AttributeValue> values;   // ":v" -> value
  std::set<std::string> used_names;
  std::set<std::string> used_values;

  // Copies the string members of a JSON object (ExpressionAttributeNames) into `names`.
  // Non-string members are ignored (the router validates the request shape first).
  void add_names(const rapidjson::Value& object);
};

// "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}", then the
// same for ExpressionAttributeValues. Call after parsing every expression of the request.
Status check_all_used(const Placeholders& placeholders);

// `which` names the request field in messages: "ConditionExpression" or "FilterExpression".
Result<v1::Condition> parse_condition(std::string_view text, Placeholders& placeholders,
                                      std::string_view which = "ConditionExpression");

// `key_names` are the table's key attributes: updating one (or a path under one) is refused
// with "One or more parameter values were invalid: Cannot update attribute pk. This attribute
// is part of the key".
Result<v1::Update> parse_update(std::string_view text, Placeholders& placeholders,
                                const std::vector<std::string>& key_names = {});

Result<v1::Projection> parse_projection(std::string_view text, Placeholders& placeholders);

// The table's key schema, for KeyConditionExpression. Types are optional: when set, a value of
// another type is refused ("Condition parameter type does not match schema type").
struct KeySchema {
  std::string pk_name;
  std::optional<item::Type> pk_type;
  std::string sk_name;   // empty: the table has no sort key
  std::optional<item::Type> sk_type;
};

Result<v1::KeyCondition> parse_key_condition(std::string_view text, Placeholders& placeholders,
                                             const KeySchema& schema);

// "[a, b, [0]]": a path as DynamoDB prints it in messages.
std::string path_to_string(const v1::Path& path);

// True if `name` is on DynamoDB's reserved-word list (case-insensitive).
bool is_reserved_word(std::string_view name);

// Expression limits (DynamoDB's, plus our own nesting bound).
inline constexpr size_t kMaxExpressionBytes = 4096;
inline constexpr int kMaxOperators = 300;
inline constexpr int kMaxInOperands = 100;
inline constexpr int kMaxPathDepth = 32;
// Parentheses / NOT / function nesting. DynamoDB documents no figure; ours keeps the AST far
// below Protobuf's recursion limit.
inline constexpr int kMaxNesting = 20;

}  // namespace shoal::expr
