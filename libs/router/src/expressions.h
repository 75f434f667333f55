#pragma once
// The expression parameters of one request, parsed with libs/expr. Every expression of a
// request shares ExpressionAttributeNames / ExpressionAttributeValues; once all are parsed,
// finish() reports placeholders nobody used, as DynamoDB does.

#include <optional>
#include <string>
#include <vector>

#include "capacity.h"
#include "shoal/expr/eval.h"
#include "shoal/expr/parse.h"

namespace shoal::router {

class RequestExpressions {
 public:
  // Reads and validates ExpressionAttributeNames / ExpressionAttributeValues.
  std::optional<api::ApiError> load(const rapidjson::Value& body);

  // Each parses its parameter if present (the optional stays empty otherwise).
  std::optional<api::ApiError> condition(const rapidjson::Value& body, const char* param,
                                         std::optional<expr::v1::Condition>* out);
  std::optional<api::ApiError> update(const rapidjson::Value& body,
                                      const std::vector<std::string>& key_names,
                                      std::optional<expr::v1::Update>* out);
  // ProjectionExpression, or the legacy AttributesToGet as top-level paths.
  std::optional<api::ApiError> projection(const rapidjson::Value& body,
                                          std::optional<expr::v1::Projection>* out);
  std::optional<api::ApiError> key_condition(const rapidjson::Value& body,
                                             const expr::KeySchema& schema,
                                             std::optional<expr::v1::KeyCondition>* out);

  // Names/values given but no expression, or given and unused. `value_expressions` are the
  // parameters of this operation that can use ExpressionAttributeValues, as DynamoDB names
  // them in its message ("...: UpdateExpression and ConditionExpression are null").
  std::optional<api::ApiError> finish(const std::vector<const char*>& value_expressions) const;

 private:
  const rapidjson::Value* body_ = nullptr;
  expr::Placeholders placeholders_;
  bool has_names_ = false, has_values_ = false;
  bool used_expression_ = false;
};

// The condition of a write (PutItem, DeleteItem, UpdateItem): ConditionExpression and
// ReturnValuesOnConditionCheckFailure. Parsed into `ex` (the caller calls ex.finish()).
struct WriteCondition {
  std::optional<expr::v1::Condition> condition;
  bool return_old_on_failure = false;
  void apply_to(storage::v1::DataRequest* req) const;
};
std::optional<api::ApiError> parse_write_condition(const rapidjson::Value& body,
                                                   RequestExpressions& ex, WriteCondition* out);
// What PutItem and DeleteItem share: the condition (with its names/values), ReturnValues
// (NONE or ALL_OLD) and ReturnConsumedCapacity.
struct SingleWriteOptions {
  WriteCondition cond;
  bool return_old = false;
  ConsumedMode consumed = ConsumedMode::kNone;
};
std::optional<api::ApiError> parse_single_write(const rapidjson::Value& body,
                                                SingleWriteOptions* out);

// ConditionalCheckFailedException, with the current item when it was asked for.
api::ApiError condition_failed_error(const storage::v1::DataResponse& resp);

// "Can not use both expression and non-expression parameters..." when the request mixes
// them; nullopt otherwise.
std::optional<api::ApiError> refuse_mixed(const rapidjson::Value& body,
                                          const std::vector<const char*>& legacy,
                                          const std::vector<const char*>& expressions);

}  // namespace shoal::router
