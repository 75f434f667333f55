#include "shoal/api/errors.h"

#include <gtest/gtest.h>

namespace shoal::api {
namespace {

TEST(Errors, JsonShapeAndNamespaces) {
  auto e = errors::resource_not_found();
  EXPECT_EQ(e.short_type(), "ResourceNotFoundException");
  EXPECT_EQ(e.to_json(),
            R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",)"
            R"("message":"Requested resource not found"})");
  EXPECT_EQ(errors::unknown_operation().to_json(),
            R"({"__type":"com.amazon.coral.service#UnknownOperationException"})");
  EXPECT_EQ(errors::validation("x").type, "com.amazon.coral.validate#ValidationException");
  EXPECT_EQ(errors::internal_server_error().http_status, 500u);
}

TEST(Errors, ConstraintMessagesJoinLikeAws) {
  errors::ConstraintErrors c;
  c.null_member("tableName");
  EXPECT_EQ(c.to_error().message,
            "1 validation error detected: Value null at 'tableName' failed to satisfy "
            "constraint: Member must not be null");
  c.min_length("key", "", 1);
  EXPECT_EQ(c.to_error().message.substr(0, 30), "2 validation errors detected: ");
  EXPECT_NE(c.to_error().message.find("; Value '' at 'key'"), std::string::npos);
}

TEST(Errors, InternalStatusesMapToDynamoDbTypes) {
  EXPECT_EQ(errors::from_status(not_found("x")).short_type(), "ResourceNotFoundException");
  EXPECT_EQ(errors::from_status(unavailable("x")).http_status, 503u);
  EXPECT_EQ(errors::from_status(internal_error("x")).short_type(), "InternalServerError");
}

}  // namespace
}  // namespace shoal::api
