#include <gtest/gtest.h>

#include "shoal/http/message.h"

namespace shoal::http {
namespace {

TEST(Headers, CaseInsensitiveLookupKeepsOrderAndSpelling) {
  Headers h;
  h.add("Content-Type", "application/x-amz-json-1.0");
  h.add("X-Amz-Target", "DynamoDB_20120810.PutItem");
  h.add("x-amz-target", "second");
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.get("x-amz-target"), "DynamoDB_20120810.PutItem");
  EXPECT_EQ(h.get("CONTENT-TYPE"), "application/x-amz-json-1.0");
  EXPECT_TRUE(h.contains("content-type"));
  EXPECT_FALSE(h.contains("content-typ"));
  EXPECT_EQ(h.get("missing"), "");
  EXPECT_EQ(h[0].first, "Content-Type");
  EXPECT_EQ(h[2].second, "second");
  Headers moved = std::move(h);
  EXPECT_EQ(moved.get("X-AMZ-TARGET"), "DynamoDB_20120810.PutItem");
  moved.clear();
  EXPECT_TRUE(moved.empty());
}

TEST(Headers, IequalsOnlyFoldsLetters) {
  EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(iequals("a-b", "a\rb"));  // '-' | 0x20 == '\r' | 0x20 is not a letter
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("abc", "abcd"));
}

TEST(Response, MakeAndLookup) {
  Response r = Response::make(404, "nope");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.body, "nope");
  EXPECT_EQ(r.header("x"), "");
}

}  // namespace
}  // namespace shoal::http
