#include "workload.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace shoal::bench {
namespace {

TEST(Workload, NamesAndMixes) {
  for (auto w : {Workload::kLoad, Workload::kA, Workload::kB, Workload::kC, Workload::kF,
                 Workload::kPut}) {
    EXPECT_EQ(parse_workload(workload_name(w)), w);
    const Mix m = mix_of(w);
    EXPECT_NEAR(m.read + m.update + m.insert + m.read_modify_write, 1.0, 1e-12);
  }
  EXPECT_FALSE(parse_workload("d"));
  EXPECT_EQ(mix_of(Workload::kB).read, 0.95);
  int reads = 0;
  for (int i = 0; i < 1000; ++i) {
    if (choose_op(mix_of(Workload::kB), i / 1000.0) == Op::kRead) ++reads;
  }
  EXPECT_EQ(reads, 950);
  EXPECT_EQ(choose_op(mix_of(Workload::kF), 0.49), Op::kRead);
  EXPECT_EQ(choose_op(mix_of(Workload::kF), 0.51), Op::kReadModifyWrite);
  EXPECT_EQ(choose_op(mix_of(Workload::kC), 0.999999), Op::kRead);
  EXPECT_EQ(choose_op(mix_of(Workload::kPut), 1.0), Op::kInsert);
}

TEST(Workload, BodiesAreValidDynamoDbJson) {
  ValuePool pool(4096, 1);
  Rng rng(2);
  ItemShape shape{.fields = 10, .item_size = 1024};
  const std::string put = put_item_body("t", record_key(5), shape, pool, rng);
  rapidjson::Document d;
  d.Parse(put.c_str());
  ASSERT_FALSE(d.HasParseError()) << put;
  EXPECT_STREQ(d["TableName"].GetString(), "t");
  const auto& item = d["Item"];
  EXPECT_EQ(item.MemberCount(), 11u);
  EXPECT_EQ(item["pk"]["S"].GetString(), record_key(5));
  size_t bytes = 0;
  for (int i = 0; i < 10; ++i) bytes += item[("field" + std::to_string(i)).c_str()]["S"].GetStringLength();
  EXPECT_EQ(bytes, 1020u);  // 10 fields of 1024/10 bytes

  d.Parse(update_item_body("t", "k", 3, "abc").c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_STREQ(d["UpdateExpression"].GetString(), "SET #f = :v");
  EXPECT_STREQ(d["ExpressionAttributeNames"]["#f"].GetString(), "field3");
  EXPECT_STREQ(d["ExpressionAttributeValues"][":v"]["S"].GetString(), "abc");

  d.Parse(get_item_body("t", "k", false).c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_FALSE(d.HasMember("ConsistentRead"));

  d.Parse(create_table_body("t").c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_STREQ(d["BillingMode"].GetString(), "PAY_PER_REQUEST");
  EXPECT_STREQ(d["KeySchema"][0]["AttributeName"].GetString(), "pk");
}

TEST(Workload, Endpoints) {
  auto e = parse_endpoint("http://127.0.0.1:18700");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 18700);
  EXPECT_EQ(e->host_header, "127.0.0.1:18700");
  e = parse_endpoint("http://localhost/");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->port, 80);
  EXPECT_EQ(e->host_header, "localhost");
  e = parse_endpoint("http://[::1]:8000");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "::1");
  EXPECT_FALSE(parse_endpoint("https://x:1"));
  EXPECT_FALSE(parse_endpoint("http://x:0"));
  EXPECT_FALSE(parse_endpoint("http://x:99999"));
  EXPECT_FALSE(parse_endpoint("http://x:1/path"));
  EXPECT_FALSE(parse_endpoint("127.0.0.1:8000"));
}

TEST(Workload, ErrorClassification) {
  EXPECT_EQ(classify_error(200, "{}"), "");
  EXPECT_EQ(classify_error(400,
                           R"({"__type":"com.amazonaws.dynamodb.v20120810#)"
                           R"(ProvisionedThroughputExceededException","message":"slow down"})"),
            "ProvisionedThroughputExceededException");
  EXPECT_EQ(classify_error(400, R"({"__type":"com.amazon.coral.service#UnrecognizedClientException"})"),
            "UnrecognizedClientException");
  EXPECT_EQ(classify_error(500, R"({"__type":"InternalServerError"})"), "InternalServerError");
  EXPECT_EQ(classify_error(503, "<html>busy</html>"), "HTTP 503");
  EXPECT_EQ(classify_error(500, R"({"message":"x"})"), "HTTP 500");
}

}  // namespace
}  // namespace shoal::bench
