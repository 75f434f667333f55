#include "shoal/api/json_codec.h"

#include <gtest/gtest.h>

#include <set>

#include "shoal/api/protocol.h"

namespace shoal::api {
namespace {

std::optional<ApiError> parse(const std::string& json, item::AttributeValue* out) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  EXPECT_FALSE(d.HasParseError()) << json;
  return parse_value(d, out);
}

std::string roundtrip(const std::string& json) {
  item::AttributeValue v;
  auto err = parse(json, &v);
  EXPECT_FALSE(err.has_value()) << json << " -> " << (err ? err->message : "");
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  write_value(w, v);
  return sb.GetString();
}

std::string error_message(const std::string& json) {
  item::AttributeValue v;
  auto err = parse(json, &v);
  EXPECT_TRUE(err.has_value()) << json;
  return err ? err->message : "";
}

TEST(Codec, RoundTripsEveryType) {
  EXPECT_EQ(roundtrip(R"({"S":"héllo"})"), R"({"S":"héllo"})");
  EXPECT_EQ(roundtrip(R"({"N":"1.50"})"), R"({"N":"1.5"})");
  EXPECT_EQ(roundtrip(R"({"N":"12345678901234567890123456789012345678"})"),
            R"({"N":"12345678901234567890123456789012345678"})");
  EXPECT_EQ(roundtrip(R"({"B":"AAEC/w=="})"), R"({"B":"AAEC/w=="})");
  EXPECT_EQ(roundtrip(R"({"BOOL":false})"), R"({"BOOL":false})");
  EXPECT_EQ(roundtrip(R"({"NULL":true})"), R"({"NULL":true})");
  EXPECT_EQ(roundtrip(R"({"M":{"a":{"L":[{"S":"x"},{"N":"2"}]}}})"),
            R"({"M":{"a":{"L":[{"S":"x"},{"N":"2"}]}}})");
  EXPECT_EQ(roundtrip(R"({"SS":["a","b"]})"), R"({"SS":["a","b"]})");
  EXPECT_EQ(roundtrip(R"({"NS":["1","2.0"]})"), R"({"NS":["1","2"]})");
  EXPECT_EQ(roundtrip(R"({"BS":["YQ==","Yg=="]})"), R"({"BS":["YQ==","Yg=="]})");
  EXPECT_EQ(roundtrip(R"({"S":""})"), R"({"S":""})");
}

TEST(Codec, RejectsWhatDynamoDbRejects) {
  EXPECT_EQ(error_message("{}"),
            "Supplied AttributeValue is empty, must contain exactly one of the supported "
            "datatypes");
  EXPECT_EQ(error_message(R"({"S":"a","N":"1"})"),
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes");
  EXPECT_EQ(error_message(R"({"NULL":false})"),
            "One or more parameter values were invalid: Null attribute value types must have "
            "the value of true");
  EXPECT_EQ(error_message(R"({"SS":[]})"),
            "One or more parameter values were invalid: An string set  may not be empty");
  EXPECT_EQ(error_message(R"({"NS":[]})"),
            "One or more parameter values were invalid: An number set  may not be empty");
  EXPECT_EQ(error_message(R"({"BS":[]})"),
            "One or more parameter values were invalid: Binary sets should not be empty");
  EXPECT_EQ(error_message(R"({"SS":["a","a"]})"),
            "One or more parameter values were invalid: Input collection [a, a] contains "
            "duplicates.");
  EXPECT_EQ(error_message(R"({"NS":["1","1.0"]})"), "Input collection contains duplicates");
  EXPECT_EQ(error_message(R"({"N":"b"})"), "The parameter cannot be converted to a numeric value: b");
  EXPECT_EQ(error_message(R"({"N":""})"), "The parameter cannot be converted to a numeric value");
  EXPECT_EQ(error_message(R"({"N":"1e126"})"),
            "Number overflow. Attempting to store a number with magnitude larger than supported "
            "range");
  EXPECT_EQ(error_message(R"({"N":"1e-131"})"),
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range");
  EXPECT_EQ(error_message(R"({"N":"123456789012345678901234567890123456789"})"),
            "Attempting to store more than 38 significant digits in a Number");
}

TEST(Codec, NestingLimitIs32) {
  std::string ok = R"({"S":"x"})", deep;
  for (int i = 0; i < 31; ++i) ok = R"({"L":[)" + ok + "]}";
  item::AttributeValue v;
  EXPECT_FALSE(parse(ok, &v).has_value());
  deep = ok;
  for (int i = 0; i < 2; ++i) deep = R"({"L":[)" + deep + "]}";
  EXPECT_EQ(error_message(deep), "Nesting Levels have exceeded supported limits");
}

TEST(Codec, Base64) {
  std::string out;
  EXPECT_TRUE(base64_decode("", &out));
  EXPECT_EQ(out, "");
  EXPECT_TRUE(base64_decode("Zm9vYmE=", &out));
  EXPECT_EQ(out, "fooba");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(base64_decode("Zm9", &out));
  EXPECT_FALSE(base64_decode("Zm=v", &out));
  EXPECT_FALSE(base64_decode("Z!9v", &out));
}

TEST(Protocol, TargetsRequestIdsAndCrc) {
  EXPECT_EQ(operation_from_target("DynamoDB_20120810.PutItem"), "PutItem");
  EXPECT_EQ(operation_from_target("DynamoDB_20111205.PutItem"), "");
  auto a = new_request_id(), b = new_request_id();
  EXPECT_EQ(a.size(), 52u);
  EXPECT_NE(a, b);
  // zlib's CRC32 of "{}" (checked with python: zlib.crc32(b"{}")).
  EXPECT_EQ(crc32_of("{}"), 2745614147u);
}

TEST(Protocol, RequestIdsAreUniqueUppercaseAlphanumeric) {
  std::set<std::string> seen;
  std::set<std::string> prefixes;
  for (int i = 0; i < 100000; ++i) {
    std::string id = new_request_id();
    ASSERT_EQ(id.size(), 52u);
    for (char ch : id) ASSERT_TRUE((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) << id;
    ASSERT_TRUE(seen.insert(id).second) << "repeated " << id;
    prefixes.insert(id.substr(0, 4));
  }
  EXPECT_GT(prefixes.size(), 1000u);  // not a visibly serial counter
}

}  // namespace
}  // namespace shoal::api
