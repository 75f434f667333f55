#include "shoal/api/errors.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <spdlog/spdlog.h>

namespace shoal::api {
namespace {

constexpr std::string_view kDynamo = "com.amazonaws.dynamodb.v20120810#";
constexpr std::string_view kCoralService = "com.amazon.coral.service#";
constexpr std::string_view kCoralValidate = "com.amazon.coral.validate#";
constexpr std::string_view kInvalidParams = "One or more parameter values were invalid: ";

ApiError make(std::string_view ns, std::string_view type, std::string message,
              unsigned http = 400) {
  ApiError e;
  e.type.reserve(ns.size() + type.size());
  e.type.append(ns).append(type);
  e.message = std::move(message);
  e.http_status = http;
  return e;
}

std::string invalid(std::string_view rest) {
  std::string s(kInvalidParams);
  s.append(rest);
  return s;
}

}  // namespace

std::string_view ApiError::short_type() const {
  auto pos = type.rfind('#');
  return pos == std::string::npos ? std::string_view(type) : std::string_view(type).substr(pos + 1);
}

std::string ApiError::to_json() const {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("__type");
  w.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
  if (!message.empty()) {
    w.Key(capital_message ? "Message" : "message");
    w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  }
  if (!item_json.empty()) {
    w.Key("Item");
    w.RawValue(item_json.data(), item_json.size(), rapidjson::kObjectType);
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

namespace errors {

ApiError serialization(std::string message) {
  auto e = make(kCoralService, "SerializationException", std::move(message));
  e.capital_message = true;
  return e;
}
ApiError unknown_operation() { return make(kCoralService, "UnknownOperationException", ""); }
ApiError missing_authentication_token() {
  return make(kCoralService, "MissingAuthenticationTokenException",
              "Request is missing Authentication Token");
}
ApiError internal_server_error(std::string detail) {
  if (!detail.empty()) spdlog::error("internal error answered as 500: {}", detail);
  return make(kDynamo, "InternalServerError", "Internal server error", 500);
}
ApiError service_unavailable() {
  return make(kCoralService, "ServiceUnavailableException", "Service unavailable", 503);
}

ApiError resource_not_found() {
  return make(kDynamo, "ResourceNotFoundException", "Requested resource not found");
}
ApiError conditional_check_failed(std::string item_json) {
  auto e = make(kDynamo, "ConditionalCheckFailedException", "The conditional request failed");
  e.item_json = std::move(item_json);
  return e;
}
ApiError table_not_found(std::string_view table) {
  return make(kDynamo, "ResourceNotFoundException",
              "Requested resource not found: Table: " + std::string(table) + " not found");
}
ApiError table_already_exists(std::string_view table) {
  return make(kDynamo, "ResourceInUseException", "Table already exists: " + std::string(table));
}
ApiError table_in_use(std::string_view table, std::string_view status) {
  return make(kDynamo, "ResourceInUseException",
              "Attempt to change a resource which is still in use: Table is being " +
                  std::string(status) + ": " + std::string(table));
}

ApiError resource_arn_not_found(std::string_view arn) {
  // "ResourcArn" is DynamoDB's spelling.
  return make(kDynamo, "ResourceNotFoundException",
              "Requested resource not found: ResourcArn: " + std::string(arn) + " not found");
}

ApiError validation(std::string message) {
  return make(kCoralValidate, "ValidationException", std::move(message));
}

void ConstraintErrors::null_member(std::string_view path) {
  items_.push_back("Value null at '" + std::string(path) +
                   "' failed to satisfy constraint: Member must not be null");
}
void ConstraintErrors::min_length(std::string_view path, std::string_view value, size_t min) {
  items_.push_back("Value '" + std::string(value) + "' at '" + std::string(path) +
                   "' failed to satisfy constraint: Member must have length greater than or "
                   "equal to " + std::to_string(min));
}
void ConstraintErrors::max_length(std::string_view path, std::string_view value, size_t max) {
  items_.push_back("Value '" + std::string(value) + "' at '" + std::string(path) +
                   "' failed to satisfy constraint: Member must have length less than or "
                   "equal to " + std::to_string(max));
}
void ConstraintErrors::pattern(std::string_view path, std::string_view value,
                               std::string_view regex) {
  items_.push_back("Value '" + std::string(value) + "' at '" + std::string(path) +
                   "' failed to satisfy constraint: Member must satisfy regular expression "
                   "pattern: " + std::string(regex));
}
void ConstraintErrors::enum_value(std::string_view path, std::string_view value,
                                  const std::vector<std::string_view>& allowed) {
  std::string set = "[";
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (i) set += ", ";
    set += allowed[i];
  }
  set += "]";
  items_.push_back("Value '" + std::string(value) + "' at '" + std::string(path) +
                   "' failed to satisfy constraint: Member must satisfy enum value set: " + set);
}
void ConstraintErrors::min_value(std::string_view path, long long value, long long min) {
  items_.push_back("Value '" + std::to_string(value) + "' at '" + std::string(path) +
                   "' failed to satisfy constraint: Member must have value greater than or "
                   "equal to " + std::to_string(min));
}
void ConstraintErrors::max_value(std::string_view path, long long value, long long max) {
  items_.push_back("Value '" + std::to_string(value) + "' at '" + std::string(path) +
                   "' failed to satisfy constraint: Member must have value less than or "
                   "equal to " + std::to_string(max));
}
void ConstraintErrors::list_min_length(std::string_view path, size_t min) {
  items_.push_back("Value '[]' at '" + std::string(path) +
                   "' failed to satisfy constraint: Member must have length greater than or "
                   "equal to " + std::to_string(min));
}
ApiError ConstraintErrors::to_error() const {
  std::string m = std::to_string(items_.size()) +
                  (items_.size() == 1 ? " validation error detected: "
                                      : " validation errors detected: ");
  for (size_t i = 0; i < items_.size(); ++i) {
    if (i) m += "; ";
    m += items_[i];
  }
  return validation(std::move(m));
}

ApiError empty_attribute_value() {
  return validation(
      "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
}
ApiError multiple_datatypes() {
  return validation(
      "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
      "the supported datatypes");
}
ApiError null_must_be_true() {
  return validation(invalid("Null attribute value types must have the value of true"));
}
ApiError empty_set(item::Type t) {
  switch (t) {
    case item::Type::kSS: return validation(invalid("An string set  may not be empty"));
    case item::Type::kNS: return validation(invalid("An number set  may not be empty"));
    default: return validation(invalid("Binary sets should not be empty"));
  }
}
ApiError duplicate_set_members(item::Type t, const std::vector<std::string>& shown) {
  if (t == item::Type::kNS) return validation("Input collection contains duplicates");
  std::string list = "[";
  for (size_t i = 0; i < shown.size(); ++i) {
    if (i) list += ", ";
    list += shown[i];
  }
  list += "]";
  if (t == item::Type::kBS) {
    return validation(invalid("Input collection " + list + "of type BS contains duplicates."));
  }
  return validation(invalid("Input collection " + list + " contains duplicates."));
}
ApiError number(item::DecimalError e, std::string_view text) {
  switch (e) {
    case item::DecimalError::kTooPrecise:
      return validation("Attempting to store more than 38 significant digits in a Number");
    case item::DecimalError::kOverflow:
      return validation(
          "Number overflow. Attempting to store a number with magnitude larger than supported "
          "range");
    case item::DecimalError::kUnderflow:
      return validation(
          "Number underflow. Attempting to store a number with magnitude smaller than supported "
          "range");
    default:
      if (text.empty()) return validation("The parameter cannot be converted to a numeric value");
      return validation("The parameter cannot be converted to a numeric value: " +
                        std::string(text));
  }
}
ApiError nesting_too_deep() {
  return validation("Nesting Levels have exceeded supported limits");
}
ApiError invalid_base64() {
  return serialization("Base64 encoded value is not valid");
}
ApiError wrong_json_type(std::string_view expected) {
  return serialization("Unexpected value type in payload, expected " + std::string(expected));
}

ApiError key_schema_mismatch() {
  return validation("The provided key element does not match the schema");
}
ApiError missing_key_in_item(std::string_view key) {
  return validation(invalid("Missing the key " + std::string(key) + " in the item"));
}
ApiError key_type_mismatch(std::string_view key, item::Type expected, item::Type actual) {
  return validation(invalid("Type mismatch for key " + std::string(key) + " expected: " +
                            item::type_name(expected) + " actual: " + item::type_name(actual)));
}
ApiError empty_key_value(std::string_view key) {
  return validation(
      "One or more parameter values are not valid. The AttributeValue for a key attribute "
      "cannot contain an empty string value. Key: " + std::string(key));
}
ApiError hash_key_too_large() {
  return validation(invalid("Size of hashkey has exceeded the maximum size limit of2048 bytes"));
}
ApiError range_key_too_large() {
  return validation(
      invalid("Aggregated size of all range keys has exceeded the size limit of 1024 bytes"));
}
ApiError item_too_large() { return validation("Item size has exceeded the maximum allowed size"); }

ApiError key_schema_invalid(std::string detail) {
  return validation("Invalid KeySchema: " + detail);
}
ApiError attribute_definitions_mismatch() {
  return validation(invalid(
      "Number of attributes in KeySchema does not exactly match number of attributes defined "
      "in AttributeDefinitions"));
}
ApiError undefined_key_attributes(const std::vector<std::string>& keys,
                                  const std::vector<std::string>& defined) {
  auto join = [](const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) s += ", ";
      s += v[i];
    }
    return s + "]";
  };
  return validation(invalid("Some index key attributes are not defined in AttributeDefinitions. "
                            "Keys: " + join(keys) + ", AttributeDefinitions: " + join(defined)));
}
ApiError provisioned_throughput_required() {
  return validation(invalid(
      "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is "
      "PROVISIONED"));
}
ApiError provisioned_throughput_forbidden() {
  return validation(invalid(
      "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
      "PAY_PER_REQUEST"));
}
ApiError capacity_too_small(std::string_view which, long long value) {
  ConstraintErrors c;
  c.min_value("provisionedThroughput." + std::string(which), value, 1);
  return c.to_error();
}
ApiError list_tables_limit(long long value) {
  ConstraintErrors c;
  if (value < 1) c.min_value("limit", value, 1);
  else c.max_value("limit", value, 100);
  return c.to_error();
}

ApiError from_status(const Status& s) {
  switch (s.code()) {
    case Code::kNotFound: return resource_not_found();
    case Code::kInvalidArgument: return validation(s.message());
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
    case Code::kStaleRoute:
      spdlog::warn("answering 503 for {}", s.to_string());
      return service_unavailable();
    default: return internal_server_error(s.to_string());
  }
}

}  // namespace errors
}  // namespace shoal::api
