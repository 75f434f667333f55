// The requests the driver builds, signed for a fixed time and key, against published SigV4
// signatures: AWS's aws-sig-v4-test-suite (2015-08-30 edition; the same vectors as
// libs/auth/tests/sigv4_test.cc) through the driver's build_request()/sign_request(), and a
// DynamoDB GetItem exactly as the driver sends it, whose signature was computed independently
// with botocore (see DynamoDbGetItemMatchesBotocore).

#include <gtest/gtest.h>

#include <string>

#include "shoal/auth/sigv4.h"
#include "workload.h"

namespace shoal::bench {
namespace {

const SigningConfig kSuite{{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
                           "us-east-1", "service"};

std::chrono::sys_seconds at_20150830T123600Z() {
  return std::chrono::floor<std::chrono::seconds>(*auth::parse_request_time("20150830T123600Z"));
}

std::string expected_authorization(std::string_view service, std::string_view signed_headers,
                                   std::string_view signature) {
  std::string a = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/";
  a.append(service).append("/aws4_request, SignedHeaders=").append(signed_headers);
  return a.append(", Signature=").append(signature);
}

struct SuiteCase {
  const char* name;
  std::string method, target;
  http::Fields headers;  // after Host
  std::string body, signed_headers, signature;
};

class DriverSigv4Suite : public testing::TestWithParam<SuiteCase> {};

TEST_P(DriverSigv4Suite, SignatureMatchesPublishedVector) {
  const SuiteCase& c = GetParam();
  auto req = build_request(c.method, c.target, "example.amazonaws.com", c.headers, c.body);
  sign_request(req, kSuite, at_20150830T123600Z());
  EXPECT_EQ(req.header("x-amz-date"), "20150830T123600Z");
  EXPECT_EQ(req.header("authorization"),
            expected_authorization("service", c.signed_headers, c.signature));
}

INSTANTIATE_TEST_SUITE_P(
    AwsSuite, DriverSigv4Suite,
    testing::Values(
        SuiteCase{"get_vanilla", "GET", "/", {}, "", "host;x-amz-date",
                  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
        SuiteCase{"get_vanilla_query_order_key_case", "GET", "/?Param2=value2&Param1=value1", {},
                  "", "host;x-amz-date",
                  "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
        SuiteCase{"get_header_value_trim", "GET", "/",
                  {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}, "",
                  "host;my-header1;my-header2;x-amz-date",
                  "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
        SuiteCase{"get_header_value_order", "GET", "/",
                  {{"My-Header1", "value4"}, {"My-Header1", "value1"}, {"My-Header1", "value3"},
                   {"My-Header1", "value2"}},
                  "", "host;my-header1;x-amz-date",
                  "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
        SuiteCase{"post_vanilla", "POST", "/", {}, "", "host;x-amz-date",
                  "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
        SuiteCase{"post_x_www_form_urlencoded", "POST", "/",
                  {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Content-Length", "13"},
                   {"x-amz-content-sha256",
                    "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"}},
                  "Param1=value1",
                  "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
                  "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"}),
    [](const testing::TestParamInfo<SuiteCase>& info) { return std::string(info.param.name); });

// A GetItem as the driver sends it (dynamodb_request + get_item_body for record 0 of
// "usertable" with ConsistentRead), signed for 20150830T123600Z with the suite's key.
// Expected value computed independently with botocore 1.43.11:
//   req = AWSRequest(method='POST', url='http://127.0.0.1:8000/', data=body.encode(),
//           headers={'Content-Type': 'application/x-amz-json-1.0',
//                    'X-Amz-Target': 'DynamoDB_20120810.GetItem'})
//   with mock.patch.object(botocore.auth, 'get_current_datetime',
//                          return_value=datetime.datetime(2015, 8, 30, 12, 36, 0)):
//       SigV4Auth(Credentials('AKIDEXAMPLE', '<suite secret>'), 'dynamodb',
//                 'us-east-1').add_auth(req)
TEST(DriverSigv4, DynamoDbGetItemMatchesBotocore) {
  const std::string body = get_item_body("usertable", record_key(0), true);
  ASSERT_EQ(body,
            R"({"TableName":"usertable","Key":{"pk":{"S":"user6284781860667377211"}},)"
            R"("ConsistentRead":true})");
  auto req = dynamodb_request("127.0.0.1:8000", "GetItem", body);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/");
  EXPECT_EQ(req.header("content-type"), "application/x-amz-json-1.0");
  EXPECT_EQ(req.header("x-amz-target"), "DynamoDB_20120810.GetItem");
  SigningConfig config = kSuite;
  config.service = "dynamodb";
  sign_request(req, config, at_20150830T123600Z());
  EXPECT_EQ(req.header("authorization"),
            expected_authorization(
                "dynamodb", "content-type;host;x-amz-date;x-amz-target",
                "439a616056495e3b4c75ba6209136afc43a04e9f7917dc98792ad4ad2291e53f"));
  EXPECT_EQ(req.body, body);  // signing leaves the body alone

  // Re-signing (a retry, or a later second) replaces the date and signature, not duplicates.
  sign_request(req, config, at_20150830T123600Z());
  size_t authorizations = 0;
  for (size_t i = 0; i < req.headers.size(); ++i) {
    if (http::iequals(req.headers[i].first, "authorization")) ++authorizations;
  }
  EXPECT_EQ(authorizations, 1u);
  EXPECT_NE(req.header("authorization").find("439a6160"), std::string_view::npos);
}

}  // namespace
}  // namespace shoal::bench
