#include "shoal/common/status.h"

#include <gtest/gtest.h>

namespace shoal {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return invalid_argument("not positive");
  return x;
}

Result<int> doubled(int x) {
  SHOAL_ASSIGN_OR_RETURN(int v, parse_positive(x));
  return v * 2;
}

Status check(int x) {
  SHOAL_RETURN_IF_ERROR(parse_positive(x).status());
  return Status::ok();
}

TEST(Status, OkIsCheapAndEmpty) {
  Status s;
  EXPECT_TRUE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.to_string(), "OK");
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = not_found("table t");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.to_string(), "NOT_FOUND: table t");
}

TEST(Result, PropagatesThroughMacros) {
  EXPECT_EQ(doubled(4).value(), 8);
  auto r = doubled(-1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(check(3).is_ok());
  EXPECT_EQ(check(0).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace shoal
