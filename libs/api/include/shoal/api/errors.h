#pragma once
// The router's error module: the ONLY place where DynamoDB error types and messages exist.
//
// Every client-visible error is an ApiError built by one of the factories below; handlers
// never spell a type or message themselves. `from_status` converts an internal Status
// (from metadata or a storage node) into what DynamoDB would answer.

#include <string>
#include <string_view>
#include <vector>

#include "shoal/common/status.h"
#include "shoal/item/decimal.h"
#include "shoal/item/item.h"

namespace shoal::api {

struct ApiError {
  std::string type;       // fully qualified, e.g. "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
  std::string message;    // may be empty: then no message field is sent
  unsigned http_status = 400;
  bool capital_message = false;  // coral's SerializationException says "Message"
  // ConditionalCheckFailedException with ReturnValuesOnConditionCheckFailure=ALL_OLD: the
  // current item as DynamoDB JSON, sent as "Item".
  std::string item_json;

  // The short name clients match on (the part after '#').
  std::string_view short_type() const;
  // {"__type": ..., "message": ...}
  std::string to_json() const;
};

namespace errors {

// -- protocol level (namespace com.amazon.coral.service) -------------------------------------
ApiError serialization(std::string message = {});
ApiError unknown_operation();
ApiError missing_authentication_token();
ApiError internal_server_error(std::string detail = {});
ApiError service_unavailable();

// -- resources ---------------------------------------------------------------------------------
ApiError resource_not_found();                          // data-plane ops
ApiError conditional_check_failed(std::string item_json = {});
ApiError table_not_found(std::string_view table);       // DescribeTable / DeleteTable
ApiError table_already_exists(std::string_view table);  // CreateTable
ApiError table_in_use(std::string_view table, std::string_view status);
// TagResource / UntagResource / ListTagsOfResource on an ARN naming no table.
ApiError resource_arn_not_found(std::string_view arn);

// -- validation (namespace com.amazon.coral.validate) ------------------------------------------
ApiError validation(std::string message);

// Collects the "N validation error(s) detected: ..." constraint messages AWS joins with "; ".
class ConstraintErrors {
 public:
  void null_member(std::string_view path);
  void min_length(std::string_view path, std::string_view value, size_t min);
  void max_length(std::string_view path, std::string_view value, size_t max);
  void pattern(std::string_view path, std::string_view value, std::string_view regex);
  void enum_value(std::string_view path, std::string_view value,
                  const std::vector<std::string_view>& allowed);
  void min_value(std::string_view path, long long value, long long min);
  void max_value(std::string_view path, long long value, long long max);
  void list_min_length(std::string_view path, size_t min);
  bool empty() const { return items_.empty(); }
  ApiError to_error() const;

 private:
  std::vector<std::string> items_;
};

// Attribute values.
ApiError empty_attribute_value();
ApiError multiple_datatypes();
ApiError null_must_be_true();
ApiError empty_set(item::Type set_type);
ApiError duplicate_set_members(item::Type set_type, const std::vector<std::string>& shown);
ApiError number(item::DecimalError e, std::string_view text);
ApiError nesting_too_deep();
ApiError invalid_base64();
ApiError wrong_json_type(std::string_view expected);

// Keys and items.
ApiError key_schema_mismatch();  // "The provided key element does not match the schema"
ApiError missing_key_in_item(std::string_view key);
ApiError key_type_mismatch(std::string_view key, item::Type expected, item::Type actual);
ApiError empty_key_value(std::string_view key);
ApiError hash_key_too_large();
ApiError range_key_too_large();
ApiError item_too_large();

// Tables.
ApiError key_schema_invalid(std::string detail);  // "Invalid KeySchema: ..."
ApiError attribute_definitions_mismatch();
ApiError undefined_key_attributes(const std::vector<std::string>& keys,
                                  const std::vector<std::string>& defined);
ApiError provisioned_throughput_required();
ApiError provisioned_throughput_forbidden();
ApiError capacity_too_small(std::string_view which, long long value);
ApiError list_tables_limit(long long value);

// Internal Status (from metadata/storage) -> DynamoDB error.
ApiError from_status(const Status& s);

}  // namespace errors
}  // namespace shoal::api
