// AWS's published SigV4 vectors, checked through verify() (and the building blocks).
//
// Sources: the AWS General Reference worked example ("Signature Version 4 signing process":
// IAM ListUsers, secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z, us-east-1,
// iam), and the aws-sig-v4-test-suite (2015-08-30 edition, as shipped in
// awslabs/aws-c-auth tests/aws-signing-test-suite/v4/<name>/header-signed-request.txt).
// Not used: get-header-value-multiline (the suite reads folded lines as separate values, a
// property of its HTTP parser, not of SigV4) and the path-normalization cases (DynamoDB's path
// is "/"; a non-normalized path simply fails to verify).

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "shoal/auth/sigv4.h"
#include "shoal/auth/verify.h"

namespace shoal::auth {
namespace {

using Header = std::pair<std::string, std::string>;

constexpr std::string_view kKeyId = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kEmptySha =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

http::Request make(std::string method, std::string target, const std::vector<Header>& headers,
                   std::string body = {}) {
  http::Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  for (const auto& [n, v] : headers) r.headers.add(n, v);
  r.body = std::move(body);
  return r;
}

std::chrono::system_clock::time_point at(std::string_view amz_date) {
  return *parse_request_time(amz_date);
}

std::string authorization(std::string_view service, std::string_view signed_headers,
                          std::string_view signature) {
  std::string a = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/";
  a.append(service).append("/aws4_request, SignedHeaders=").append(signed_headers);
  a.append(", Signature=").append(signature);
  return a;
}

// verify() with the example key, service and clock; "" on success, else the error's type+message.
std::string check(const http::Request& req, std::string_view service = "service") {
  KeyStore keys({{std::string(kKeyId), std::string(kSecret)}});
  VerifyOptions opts;
  opts.service = service;
  auto err = verify(req, keys, opts, at("20150830T123600Z"));
  return err ? err->type + ": " + err->message : "";
}

TEST(Sigv4Primitives, Hashes) {
  EXPECT_EQ(sha256_hex(""), kEmptySha);
  // RFC 4231 test case 2.
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Sigv4Primitives, Dates) {
  auto t = parse_request_time("20150830T123600Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_amz_date(*t), "20150830T123600Z");
  auto rfc = parse_request_time("Sun, 30 Aug 2015 12:36:00 GMT");
  ASSERT_TRUE(rfc);
  EXPECT_EQ(*rfc, *t);
  EXPECT_FALSE(parse_request_time("201"));
  EXPECT_FALSE(parse_request_time("20150830T123600"));
  EXPECT_FALSE(parse_request_time("20150230T123600Z"));  // 30 February
  EXPECT_FALSE(parse_request_time("20150830T243600Z"));
  EXPECT_FALSE(parse_request_time("2015-08-30T12:36:00Z"));
  EXPECT_FALSE(parse_request_time("Sun, 30 Foo 2015 12:36:00 GMT"));
}

// AWS General Reference, "Signature Version 4 signing process", the IAM ListUsers example:
// canonical request hash, derived key and signature as published there.
TEST(Sigv4Vectors, GeneralReferenceIamExample) {
  auto req = make("GET", "/?Action=ListUsers&Version=2010-05-08",
                  {{"Host", "iam.amazonaws.com"},
                   {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                   {"X-Amz-Date", "20150830T123600Z"}});
  const std::string creq = canonical_request(req, "content-type;host;x-amz-date", kEmptySha);
  EXPECT_EQ(creq,
            "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
            "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
            "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n" +
                std::string(kEmptySha));
  EXPECT_EQ(sha256_hex(creq), "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  EXPECT_EQ(hex(signing_key(kSecret, "20150830", "us-east-1", "iam")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  EXPECT_EQ(string_to_sign("20150830T123600Z", "20150830/us-east-1/iam/aws4_request", creq),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");

  const std::string good = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
  req.headers.add("Authorization", authorization("iam", "content-type;host;x-amz-date", good));
  EXPECT_EQ(check(req, "iam"), "");
}

struct SuiteCase {
  const char* name;
  std::string method, target;
  std::vector<Header> headers;  // without Authorization and X-Amz-Date
  std::string signed_headers, signature, body;
};

class Sigv4Suite : public testing::TestWithParam<SuiteCase> {};

TEST_P(Sigv4Suite, Verifies) {
  const SuiteCase& c = GetParam();
  auto headers = c.headers;
  headers.emplace_back("Authorization", authorization("service", c.signed_headers, c.signature));
  headers.emplace_back("X-Amz-Date", "20150830T123600Z");
  EXPECT_EQ(check(make(c.method, c.target, headers, c.body)), "") << c.name;

  // The same request with the last signature digit changed fails.
  std::string bad = c.signature;
  bad.back() = bad.back() == '0' ? '1' : '0';
  headers[headers.size() - 2].second = authorization("service", c.signed_headers, bad);
  EXPECT_NE(check(make(c.method, c.target, headers, c.body)), "") << c.name;
}

const std::vector<Header> kHost = {{"Host", "example.amazonaws.com"}};

INSTANTIATE_TEST_SUITE_P(
    AwsSuite, Sigv4Suite,
    testing::Values(
        SuiteCase{"get-vanilla", "GET", "/", kHost, "host;x-amz-date",
                  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", ""},
        SuiteCase{"get-vanilla-query-order-key-case", "GET", "/?Param2=value2&Param1=value1",
                  kHost, "host;x-amz-date",
                  "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500", ""},
        SuiteCase{"get-vanilla-query-unreserved", "GET",
                  "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
                  "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                  kHost, "host;x-amz-date",
                  "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197", ""},
        SuiteCase{"get-vanilla-utf8-query", "GET", "/?\xe1\x88\xb4=bar", kHost,
                  "host;x-amz-date",
                  "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04", ""},
        SuiteCase{"get-utf8", "GET", "/\xe1\x88\xb4", kHost, "host;x-amz-date",
                  "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85", ""},
        SuiteCase{"get-header-value-trim",
                  "GET",
                  "/",
                  {{"Host", "example.amazonaws.com"},
                   {"My-Header1", " value1"},
                   {"My-Header2", " \"a   b   c\""}},
                  "host;my-header1;my-header2;x-amz-date",
                  "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
                  ""},
        SuiteCase{"get-header-key-duplicate",
                  "GET",
                  "/",
                  {{"Host", "example.amazonaws.com"},
                   {"My-Header1", "value2"},
                   {"My-Header1", "value2"},
                   {"My-Header1", "value1"}},
                  "host;my-header1;x-amz-date",
                  "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
                  ""},
        SuiteCase{"get-header-value-order",
                  "GET",
                  "/",
                  {{"Host", "example.amazonaws.com"},
                   {"My-Header1", "value4"},
                   {"My-Header1", "value1"},
                   {"My-Header1", "value3"},
                   {"My-Header1", "value2"}},
                  "host;my-header1;x-amz-date",
                  "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
                  ""},
        // The declared x-amz-content-sha256 is the payload hash (sha256 of "Param1=value1").
        SuiteCase{"post-x-www-form-urlencoded", "POST", "/",
                  {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Host", "example.amazonaws.com"},
                   {"Content-Length", "13"},
                   {"x-amz-content-sha256",
                    "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"}},
                  "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
                  "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
                  "Param1=value1"}),
    [](const testing::TestParamInfo<SuiteCase>& info) {
      std::string n = info.param.name;
      for (char& ch : n) {
        if (ch == '-') ch = '_';
      }
      return n;
    });

// The signer and the verifier agree (and sign() follows the vectors: get-vanilla).
TEST(Sigv4Sign, MatchesGetVanilla) {
  auto req = make("GET", "/", kHost);
  sign(req, {std::string(kKeyId), std::string(kSecret)}, "us-east-1", "service",
       std::chrono::floor<std::chrono::seconds>(at("20150830T123600Z")));
  EXPECT_EQ(req.header("authorization"),
            authorization("service", "host;x-amz-date",
                          "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
  EXPECT_EQ(check(req), "");
}

TEST(Sigv4Canonical, DynamoDbPathAndEncoding) {
  auto req = make("POST", "/", {{"Host", "localhost:8000"}}, "{}");
  EXPECT_EQ(canonical_request(req, "host", "h"), "POST\n/\n\nhost:localhost:8000\n\nhost\nh");
  req.target = "";
  EXPECT_EQ(canonical_request(req, "host", "h"), "POST\n/\n\nhost:localhost:8000\n\nhost\nh");
  // An encoded path is encoded again (as botocore does); the query is decoded and re-encoded.
  req.target = "/a%20b/c?b=%7e&a=x+y&a=%2F";
  EXPECT_EQ(canonical_request(req, "host", "h"),
            "POST\n/a%2520b/c\na=%2F&a=x%2By&b=~\nhost:localhost:8000\n\nhost\nh");
  // Header names match in any case; whitespace is trimmed and collapsed.
  auto req2 = make("POST", "/", {{"hOsT", "  localhost:8000 "}, {"X-Thing", "a  \t b"}});
  EXPECT_EQ(canonical_request(req2, "host;x-thing", "h"),
            "POST\n/\n\nhost:localhost:8000\nx-thing:a b\n\nhost;x-thing\nh");
}

}  // namespace
}  // namespace shoal::auth
