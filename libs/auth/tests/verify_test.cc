// verify(): requests signed by botocore, and every error DynamoDB sends for a bad signature.

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "shoal/auth/errors.h"
#include "shoal/auth/verify.h"

namespace shoal::auth {
namespace {

using Header = std::pair<std::string, std::string>;

// Fixtures made once, offline, with botocore 1.43.11 (the exact request the SDK sends; Host is
// what urllib3 adds on the wire):
//
//   import datetime; from unittest import mock; import botocore.session
//   from botocore.awsrequest import AWSResponse
//   captured = []
//   class Raw:
//       def stream(self, **kw): yield b'{}'
//   def before_send(request, **kw):
//       captured.append(request); return AWSResponse(request.url, 200, {}, Raw())
//   c = botocore.session.get_session().create_client(
//       'dynamodb', region_name='us-east-1', endpoint_url='http://localhost:8000',
//       aws_access_key_id='AKIDSHOALTEST',
//       aws_secret_access_key='shoal/Test+Secret/0123456789abcdefEXAMPLE')
//   c.meta.events.register('before-send', before_send)
//   with mock.patch('botocore.auth.get_current_datetime',
//                   return_value=datetime.datetime(2026, 1, 1, 0, 0, 0)):
//       c.put_item(TableName='Music', Item={'Artist': {'S': 'No One You Know'},
//                                           'Song': {'S': 'Call Me Today'}})
//   r = captured[0]; print(r.headers, r.body)
//
// The second is the same with region 'eu-west-1', endpoint 'http://127.0.0.1:8000', key
// 'ASIASHOALTEMP' / 'tempSecret/Key+Value', aws_session_token='FwoGZXIvYXdzEXAMPLETOKEN',
// datetime(2026, 3, 4, 5, 6, 7) and c.list_tables(Limit=10).
constexpr std::string_view kPutKeyId = "AKIDSHOALTEST";
constexpr std::string_view kPutSecret = "shoal/Test+Secret/0123456789abcdefEXAMPLE";
constexpr std::string_view kPutTime = "20260101T000000Z";
const std::vector<Header> kPutHeaders = {
    {"Host", "localhost:8000"},
    {"X-Amz-Target", "DynamoDB_20120810.PutItem"},
    {"Content-Type", "application/x-amz-json-1.0"},
    {"User-Agent",
     "Botocore/1.43.11 ua/2.1 os/linux#6.18.44-fc-v769 md/arch#x86_64 lang/python#3.11.7 "
     "md/pyimpl#CPython m/Z,b,e,P,D,N cfg/retry-mode#legacy"},
    {"X-Amz-Date", "20260101T000000Z"},
    {"Authorization",
     "AWS4-HMAC-SHA256 Credential=AKIDSHOALTEST/20260101/us-east-1/dynamodb/aws4_request, "
     "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
     "Signature=1d66697908bd0fd83c7a2e8a93640a6158e65ce2dae67d4e2589b04880d5a2de"},
    {"amz-sdk-invocation-id", "c4840b84-22b5-4b7e-9633-0c81db92a46d"},
    {"amz-sdk-request", "attempt=1"},
    {"Content-Length", "100"},
};
constexpr std::string_view kPutBody =
    R"({"TableName": "Music", "Item": {"Artist": {"S": "No One You Know"}, )"
    R"("Song": {"S": "Call Me Today"}}})";

constexpr std::string_view kListKeyId = "ASIASHOALTEMP";
constexpr std::string_view kListSecret = "tempSecret/Key+Value";
const std::vector<Header> kListHeaders = {
    {"Host", "127.0.0.1:8000"},
    {"X-Amz-Target", "DynamoDB_20120810.ListTables"},
    {"Content-Type", "application/x-amz-json-1.0"},
    {"User-Agent",
     "Botocore/1.43.11 ua/2.1 os/linux#6.18.44-fc-v769 md/arch#x86_64 lang/python#3.11.7 "
     "md/pyimpl#CPython m/e,b,N,P,D,Z cfg/retry-mode#legacy"},
    {"X-Amz-Date", "20260304T050607Z"},
    {"X-Amz-Security-Token", "FwoGZXIvYXdzEXAMPLETOKEN"},
    {"Authorization",
     "AWS4-HMAC-SHA256 Credential=ASIASHOALTEMP/20260304/eu-west-1/dynamodb/aws4_request, "
     "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
     "Signature=b23d36c5e65cba759977c48433a7000716d86cbaf2f632575918f27e0593ab8a"},
    {"amz-sdk-invocation-id", "641e3d18-259d-451e-967f-23c6b8191787"},
    {"amz-sdk-request", "attempt=1"},
    {"Content-Length", "13"},
};
constexpr std::string_view kListBody = R"({"Limit": 10})";

constexpr std::string_view kMismatch =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";
constexpr std::string_view kIncomplete = "com.amazon.coral.service#IncompleteSignatureException";
constexpr std::string_view kInvalid = "com.amazon.coral.service#InvalidSignatureException";

http::Request make(const std::vector<Header>& headers, std::string_view body) {
  http::Request r;
  r.method = "POST";
  r.target = "/";
  for (const auto& [n, v] : headers) r.headers.add(n, v);
  r.body = body;
  return r;
}

std::chrono::system_clock::time_point at(std::string_view amz_date) {
  return *parse_request_time(amz_date);
}

// Replaces (or, with an empty value, removes) header `name`.
std::vector<Header> with(std::vector<Header> h, std::string_view name, std::string value) {
  std::vector<Header> out;
  bool done = false;
  for (auto& [n, v] : h) {
    if (http::iequals(n, name)) {
      if (!value.empty() && !done) out.emplace_back(n, value);
      done = true;
    } else {
      out.emplace_back(std::move(n), std::move(v));
    }
  }
  if (!done && !value.empty()) out.emplace_back(std::string(name), std::move(value));
  return out;
}

class VerifyTest : public testing::Test {
 protected:
  VerifyTest()
      : keys_({{std::string(kPutKeyId), std::string(kPutSecret)},
               {std::string(kListKeyId), std::string(kListSecret)}}) {}

  std::optional<api::ApiError> put(const std::vector<Header>& headers,
                                   std::string_view body = kPutBody,
                                   std::string_view now = "20260101T000100Z") {
    return verify(make(headers, body), keys_, opts_, at(now));
  }

  // The error's type and message, or "ok".
  static std::string str(const std::optional<api::ApiError>& e) {
    return e ? e->type + ": " + e->message : "ok";
  }
  static std::string invalid(std::string_view m) {
    return std::string(kInvalid) + ": " + std::string(m);
  }
  static std::string incomplete(std::string_view m) {
    return std::string(kIncomplete) + ": " + std::string(m);
  }

  KeyStore keys_;
  VerifyOptions opts_;
};

TEST_F(VerifyTest, BotocoreRequestsPass) {
  EXPECT_EQ(str(put(kPutHeaders)), "ok");
  EXPECT_EQ(str(verify(make(kListHeaders, kListBody), keys_, opts_, at("20260304T050000Z"))),
            "ok");
}

TEST_F(VerifyTest, OneByteChangesFail) {
  std::string body(kPutBody);
  body[body.size() - 3] = 'y';  // "Call Me Todyy"
  EXPECT_EQ(str(put(kPutHeaders, body)), invalid(kMismatch));
  EXPECT_EQ(str(put(kPutHeaders, std::string(kPutBody) + " ")), invalid(kMismatch));
  EXPECT_EQ(str(put(with(kPutHeaders, "X-Amz-Target", "DynamoDB_20120810.PutIten"))),
            invalid(kMismatch));
  EXPECT_EQ(str(put(with(kPutHeaders, "Host", "localhost:8001"))), invalid(kMismatch));
  EXPECT_EQ(str(put(with(kPutHeaders, "Content-Type", "application/x-amz-json-1.1"))),
            invalid(kMismatch));
  // Another secret for the same key.
  std::string secret(kPutSecret);
  secret[0] = 'S';
  keys_.put({std::string(kPutKeyId), secret});
  EXPECT_EQ(str(put(kPutHeaders)), invalid(kMismatch));
}

TEST_F(VerifyTest, MethodAndPathAreSigned) {
  auto req = make(kPutHeaders, kPutBody);
  req.target = "/x";
  EXPECT_EQ(str(verify(req, keys_, opts_, at("20260101T000100Z"))), invalid(kMismatch));
  req.target = "/?a=b";
  EXPECT_EQ(str(verify(req, keys_, opts_, at("20260101T000100Z"))), invalid(kMismatch));
  req.target = "/";
  req.method = "PUT";
  EXPECT_EQ(str(verify(req, keys_, opts_, at("20260101T000100Z"))), invalid(kMismatch));
}

TEST_F(VerifyTest, UnsignedHeadersMayChange) {
  EXPECT_EQ(str(put(with(kPutHeaders, "User-Agent", "something else"))), "ok");
  EXPECT_EQ(str(put(with(kPutHeaders, "amz-sdk-request", "attempt=2"))), "ok");
}

TEST_F(VerifyTest, HeaderNamesAnyCaseAndValuesCollapsed) {
  std::vector<Header> h;
  for (const auto& [n, v] : kPutHeaders) {
    std::string name = n;
    for (char& c : name) {
      if (std::isalpha(static_cast<unsigned char>(c))) c = static_cast<char>(c ^ 0x20);
    }
    h.emplace_back(name, v);  // hOST, x-aMZ-tARGET, ...
  }
  EXPECT_EQ(str(put(h)), "ok");
  // Extra spaces around and inside a signed value, and in the Authorization header.
  h = with(kPutHeaders, "Content-Type", "  application/x-amz-json-1.0  ");
  EXPECT_EQ(str(put(h)), "ok");
  EXPECT_EQ(str(put(with(kPutHeaders, "Host", "localhost:8000   "))), "ok");
  std::string auth(kPutHeaders[5].second);
  auth.replace(auth.find(" Credential"), 1, "   ");
  auth.replace(auth.find(", Signature"), 2, " ,\t  ");
  auth.replace(auth.find(", SignedHeaders"), 2, ",");
  EXPECT_EQ(str(put(with(kPutHeaders, "Authorization", auth))), "ok") << auth;
  // A signed value whose inner spaces differ only in number.
  http::Request req;
  req.method = "POST";
  req.target = "/";
  req.headers.add("Host", "localhost:8000");
  req.headers.add("X-Thing", "a b  c");
  req.body = "{}";
  sign(req, {std::string(kPutKeyId), std::string(kPutSecret)}, "us-east-1", "dynamodb",
       std::chrono::floor<std::chrono::seconds>(at(kPutTime)));
  http::Request spaced;
  spaced.method = "POST";
  spaced.target = "/";
  for (size_t i = 0; i < req.headers.size(); ++i) {
    auto [n, v] = req.headers[i];
    spaced.headers.add(n, http::iequals(n, "x-thing") ? std::string_view("a    b \t c") : v);
  }
  spaced.body = "{}";
  EXPECT_EQ(str(verify(req, keys_, opts_, at(kPutTime))), "ok");
  EXPECT_EQ(str(verify(spaced, keys_, opts_, at(kPutTime))), "ok");
}

TEST_F(VerifyTest, DeclaredPayloadHashMustBeTheBodys) {
  // Sign with x-amz-content-sha256 = the body's hash; then change the body only.
  http::Request req;
  req.method = "POST";
  req.target = "/";
  req.headers.add("Host", "localhost:8000");
  req.headers.add("x-amz-content-sha256", sha256_hex(kPutBody));
  req.body = kPutBody;
  sign(req, {std::string(kPutKeyId), std::string(kPutSecret)}, "us-east-1", "dynamodb",
       std::chrono::floor<std::chrono::seconds>(at(kPutTime)));
  EXPECT_EQ(str(verify(req, keys_, opts_, at(kPutTime))), "ok");
  req.body.back() = ']';
  EXPECT_EQ(str(verify(req, keys_, opts_, at(kPutTime))), invalid(kMismatch));
}

TEST_F(VerifyTest, MissingAuthenticationToken) {
  const std::string missing =
      "com.amazon.coral.service#MissingAuthenticationTokenException: Request is missing "
      "Authentication Token";
  EXPECT_EQ(str(put(with(kPutHeaders, "Authorization", ""))), missing);
  EXPECT_EQ(str(put(with(kPutHeaders, "Authorization", "AWS4"))), missing);
  EXPECT_EQ(str(put(with(kPutHeaders, "Authorization", "Basic dXNlcjpwYXNz"))), missing);
}

TEST_F(VerifyTest, IncompleteSignature) {
  // dynalite's test (checked against DynamoDB): "AWS4-" and no date header.
  auto h = with(with(kPutHeaders, "Authorization", "AWS4-"), "X-Amz-Date", "");
  EXPECT_EQ(str(put(h)),
            incomplete("Authorization header requires 'Credential' parameter. Authorization "
                       "header requires 'Signature' parameter. Authorization header requires "
                       "'SignedHeaders' parameter. Authorization header requires existence of "
                       "either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-"));
  const std::string no_sig =
      "AWS4-HMAC-SHA256 Credential=AKIDSHOALTEST/20260101/us-east-1/dynamodb/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-target";
  EXPECT_EQ(str(put(with(kPutHeaders, "Authorization", no_sig))),
            incomplete("Authorization header requires 'Signature' parameter. Authorization=" +
                       no_sig));
  const std::string no_eq = "AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders";
  EXPECT_EQ(str(put(with(kPutHeaders, "Authorization", no_eq))),
            incomplete("'Credential' not a valid key=value pair (missing equal-sign) in "
                       "Authorization header: '" +
                       no_eq + "'."));
  EXPECT_EQ(str(put(with(kPutHeaders, "X-Amz-Date", "201"))),
            incomplete("Date must be in ISO-8601 'basic format'. Got '201'. See "
                       "http://en.wikipedia.org/wiki/ISO_8601"));
  const std::string auth(kPutHeaders[5].second);
  EXPECT_EQ(str(put(with(kPutHeaders, "Authorization", "AWS4-HMAC-SHA25" + auth.substr(16)))),
            incomplete("Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 "
                       "for now). "));
  std::string four = auth;
  four.replace(four.find("/aws4_request"), 13, "");
  EXPECT_EQ(str(put(with(kPutHeaders, "Authorization", four))),
            incomplete("Credential must have exactly 5 slash-delimited elements, e.g. "
                       "keyid/date/region/service/term, got "
                       "'AKIDSHOALTEST/20260101/us-east-1/dynamodb'"));
}

TEST_F(VerifyTest, Clock) {
  // 15 minutes either side pass, one second more does not.
  EXPECT_EQ(str(put(kPutHeaders, kPutBody, "20260101T001500Z")), "ok");
  EXPECT_EQ(str(put(kPutHeaders, kPutBody, "20251231T234500Z")), "ok");
  EXPECT_EQ(str(put(kPutHeaders, kPutBody, "20260101T002000Z")),
            invalid("Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z "
                    "(20260101T002000Z - 15 min.)"));
  EXPECT_EQ(str(put(kPutHeaders, kPutBody, "20251231T233000Z")),
            invalid("Signature not yet current: 20260101T000000Z is still later than "
                    "20251231T234500Z (20251231T233000Z + 15 min.)"));
  opts_.max_skew = std::chrono::minutes(5);
  EXPECT_EQ(str(put(kPutHeaders, kPutBody, "20260101T000501Z")),
            invalid("Signature expired: 20260101T000000Z is now earlier than 20260101T000001Z "
                    "(20260101T000501Z - 5 min.)"));
}

TEST_F(VerifyTest, DateHeader) {
  // No X-Amz-Date: the Date header (RFC 1123) is the request time, in ISO form in the string to
  // sign. Signed by hand with the building blocks.
  http::Request req;
  req.method = "POST";
  req.target = "/";
  req.headers.add("Host", "localhost:8000");
  req.headers.add("Date", "Thu, 01 Jan 2026 00:00:00 GMT");
  req.body = "{}";
  const std::string scope = "20260101/us-east-1/dynamodb/aws4_request";
  const std::string sts = string_to_sign(
      "20260101T000000Z", scope, canonical_request(req, "date;host", sha256_hex(req.body)));
  const Digest key = signing_key(kPutSecret, "20260101", "us-east-1", "dynamodb");
  const std::string sig =
      hex(hmac_sha256(std::string_view(reinterpret_cast<const char*>(key.data()), 32), sts));
  req.headers.add("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDSHOALTEST/" + scope +
                                       ", SignedHeaders=date;host, Signature=" + sig);
  EXPECT_EQ(str(verify(req, keys_, opts_, at("20260101T000100Z"))), "ok");
}

TEST_F(VerifyTest, HostMustBeSigned) {
  std::string auth(kPutHeaders[5].second);
  auth.replace(auth.find("host;"), 5, "");
  EXPECT_EQ(str(put(with(kPutHeaders, "Authorization", auth))),
            invalid("'Host' must be a 'SignedHeader' in the AWS Authorization."));
}

TEST_F(VerifyTest, CredentialScope) {
  std::string auth(kPutHeaders[5].second);
  auto scoped = [&](std::string_view scope) {
    std::string a = auth;
    a.replace(a.find("20260101/us-east-1/dynamodb/aws4_request"), 40, scope);
    return a;
  };
  EXPECT_EQ(str(put(with(kPutHeaders, "Authorization",
                         scoped("20260102/us-east-1/dynamo/aws4_reques")))),
            invalid("Credential should be scoped to correct service: 'dynamodb'. Credential "
                    "should be scoped with a valid terminator: 'aws4_request', not "
                    "'aws4_reques'. Date in Credential scope does not match YYYYMMDD from "
                    "ISO-8601 version of date from HTTP: '20260102' != '20260101', from "
                    "'20260101T000000Z'."));
  EXPECT_EQ(str(put(with(kPutHeaders, "Authorization",
                         scoped("20260101//dynamodb/aws4_request")))),
            invalid("Credential should be scoped to a valid region, not ''."));
  opts_.region = "eu-west-1";
  EXPECT_EQ(str(put(kPutHeaders)),
            invalid("Credential should be scoped to a valid region, not 'us-east-1'."));
  opts_.region = "us-east-1";
  EXPECT_EQ(str(put(kPutHeaders)), "ok");
  // Trailing slashes after the terminator are ignored.
  EXPECT_EQ(str(put(with(kPutHeaders, "Authorization",
                         scoped("20260101/us-east-1/dynamodb/aws4_request//")))),
            "ok");
}

TEST_F(VerifyTest, UnknownKey) {
  KeyStore other({{"AKIDOTHER", std::string(kPutSecret)}});
  auto e = verify(make(kPutHeaders, kPutBody), other, opts_, at(kPutTime));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->to_json(),
            R"({"__type":"com.amazon.coral.service#UnrecognizedClientException",)"
            R"("message":"The security token included in the request is invalid."})");
  EXPECT_EQ(e->http_status, 400u);
  EXPECT_EQ(e->short_type(), "UnrecognizedClientException");
}

TEST_F(VerifyTest, AcceptAny) {
  KeyStore none;
  opts_.accept_any = true;
  std::string auth(kPutHeaders[5].second);
  auth.replace(auth.size() - 4, 4, "0000");
  // Wrong signature, unknown key, a year later: all pass.
  EXPECT_FALSE(verify(make(with(kPutHeaders, "Authorization", auth), kPutBody), none, opts_,
                      at("20270101T000000Z")));
  // Malformed ones still fail, as DynamoDB Local's own parser would.
  auto e = verify(make(with(kPutHeaders, "Authorization", ""), kPutBody), none, opts_,
                  at(kPutTime));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->short_type(), "MissingAuthenticationTokenException");
  e = verify(make(with(kPutHeaders, "Authorization", "AWS4-"), kPutBody), none, opts_,
             at(kPutTime));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->short_type(), "IncompleteSignatureException");
}

TEST(KeyStoreTest, ReplacePutLookup) {
  KeyStore keys;
  EXPECT_FALSE(keys.secret("a"));
  keys.replace({{"a", "1"}, {"b", "2"}, {"a", "3"}});
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.secret("a"), "3");
  keys.put({"c", "4"});
  keys.put({"b", "5"});
  EXPECT_EQ(keys.secret("b"), "5");
  EXPECT_EQ(keys.secret("c"), "4");
  keys.replace({{"d", "6"}});
  EXPECT_FALSE(keys.secret("a"));
  EXPECT_EQ(keys.size(), 1u);
}

TEST(KeyStoreTest, DerivedSigningKeysFollowTheSecret) {
  KeyStore keys(std::vector<Credentials>{{"a", "s1"}});
  EXPECT_FALSE(keys.signing_key("nobody", "20260101", "us-east-1", "dynamodb"));
  const auto k1 = keys.signing_key("a", "20260101", "us-east-1", "dynamodb");
  ASSERT_TRUE(k1);
  EXPECT_EQ(*k1, signing_key("s1", "20260101", "us-east-1", "dynamodb"));
  // Same scope again: the cached key, still equal to a fresh derivation.
  EXPECT_EQ(keys.signing_key("a", "20260101", "us-east-1", "dynamodb"), k1);
  // Another day / region / service: another key.
  EXPECT_EQ(*keys.signing_key("a", "20260102", "us-east-1", "dynamodb"),
            signing_key("s1", "20260102", "us-east-1", "dynamodb"));
  EXPECT_EQ(*keys.signing_key("a", "20260101", "eu-west-1", "dynamodb"),
            signing_key("s1", "20260101", "eu-west-1", "dynamodb"));
  // A rotated secret is never answered with the key derived from the old one.
  keys.put({"a", "s2"});
  EXPECT_EQ(*keys.signing_key("a", "20260101", "us-east-1", "dynamodb"),
            signing_key("s2", "20260101", "us-east-1", "dynamodb"));
  keys.replace({{"b", "s3"}});
  EXPECT_FALSE(keys.signing_key("a", "20260101", "us-east-1", "dynamodb"));
  // Past the bound the cache starts over and stays correct.
  for (size_t i = 0; i < KeyStore::kMaxDerived + 10; ++i) {
    const std::string day = "2026" + std::to_string(100000 + i);
    ASSERT_EQ(*keys.signing_key("b", day, "r", "dynamodb"), signing_key("s3", day, "r", "dynamodb"));
  }
}

TEST(KeyStoreTest, ConcurrentReadersAndWriters) {
  KeyStore keys(std::vector<Credentials>{{"k", "v0"}});
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop) {
        auto s = keys.secret("k");
        if (!s || s->empty() || (*s)[0] != 'v') ++bad;
      }
    });
  }
  for (int i = 0; i < 2000; ++i) {
    if (i % 2) {
      keys.put({"k", "v" + std::to_string(i)});
    } else {
      keys.replace({{"k", "v" + std::to_string(i)}, {"x", "y"}});
    }
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad, 0);
}

}  // namespace
}  // namespace shoal::auth
