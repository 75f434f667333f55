// The signature errors, worded as DynamoDB words them. Sources of each message are in
// libs/auth/README.md.

#include "shoal/auth/errors.h"


#include "shoal/auth/sigv4.h"

namespace shoal::auth::errors {
namespace {

constexpr std::string_view kCoralService = "com.amazon.coral.service#";

api::ApiError make(std::string_view type, std::string message) {
  api::ApiError e;
  e.type.append(kCoralService).append(type);
  e.message = std::move(message);
  e.http_status = 400;
  return e;
}

api::ApiError incomplete(std::string message) {
  return make("IncompleteSignatureException", std::move(message));
}

api::ApiError invalid(std::string message) {
  return make("InvalidSignatureException", std::move(message));
}

std::string quoted(std::string_view s) {
  std::string out("'");
  out.append(s).append("'");
  return out;
}

// "<a> is now earlier than <b> (<c> - 15 min.)"
std::string skew_message(std::string_view head, std::chrono::sys_seconds request,
                         std::string_view relation, std::chrono::sys_seconds bound,
                         std::chrono::sys_seconds now, char sign, std::chrono::minutes skew) {
  std::string m(head);
  m.append(format_amz_date(request)).append(relation).append(format_amz_date(bound));
  m.append(" (").append(format_amz_date(now)).append(" ");
  m.push_back(sign);
  m.append(" ").append(std::to_string(skew.count())).append(" min.)");
  return m;
}

}  // namespace

api::ApiError missing_parameters(const std::vector<std::string_view>& missing, bool missing_date,
                                 std::string_view authorization) {
  std::string m;
  for (std::string_view p : missing) {
    m.append("Authorization header requires ").append(quoted(p)).append(" parameter. ");
  }
  if (missing_date) {
    m.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
             "header. ");
  }
  m.append("Authorization=").append(authorization);
  return incomplete(std::move(m));
}

api::ApiError missing_equal_sign(std::string_view pair, std::string_view authorization) {
  std::string m(quoted(pair));
  m.append(" not a valid key=value pair (missing equal-sign) in Authorization header: ");
  m.append(quoted(authorization)).append(".");
  return incomplete(std::move(m));
}

api::ApiError bad_date(std::string_view date) {
  std::string m("Date must be in ISO-8601 'basic format'. Got ");
  m.append(quoted(date)).append(". See http://en.wikipedia.org/wiki/ISO_8601");
  return incomplete(std::move(m));
}

api::ApiError unsupported_algorithm(std::string_view algorithm) {
  std::string m("Unsupported AWS 'algorithm': ");
  m.append(quoted(algorithm)).append(" (only AWS4-HMAC-SHA256 for now). ");
  return incomplete(std::move(m));
}

api::ApiError credential_elements(std::string_view credential) {
  std::string m(
      "Credential must have exactly 5 slash-delimited elements, e.g. "
      "keyid/date/region/service/term, got ");
  m.append(quoted(credential));
  return incomplete(std::move(m));
}

api::ApiError signature_expired(std::chrono::sys_seconds request, std::chrono::sys_seconds now,
                                std::chrono::minutes skew) {
  return invalid(skew_message("Signature expired: ", request, " is now earlier than ",
                              now - skew, now, '-', skew));
}

api::ApiError signature_not_yet_current(std::chrono::sys_seconds request,
                                        std::chrono::sys_seconds now, std::chrono::minutes skew) {
  return invalid(skew_message("Signature not yet current: ", request, " is still later than ",
                              now + skew, now, '+', skew));
}

api::ApiError host_not_signed() {
  return invalid("'Host' must be a 'SignedHeader' in the AWS Authorization.");
}

api::ApiError bad_scope(const BadScope& bad) {
  std::vector<std::string> parts;
  if (bad.region) {
    parts.push_back("Credential should be scoped to a valid region, not " + quoted(*bad.region) +
                    ".");
  }
  if (bad.service) {
    parts.push_back("Credential should be scoped to correct service: " + quoted(*bad.service) +
                    ".");
  }
  if (bad.terminator) {
    parts.push_back("Credential should be scoped with a valid terminator: 'aws4_request', not " +
                    quoted(*bad.terminator) + ".");
  }
  if (bad.date) {
    std::string day(bad.request_time.substr(0, 8));
    parts.push_back(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: " +
        quoted(*bad.date) + " != " + quoted(day) + ", from " + quoted(bad.request_time) + ".");
  }
  std::string m;
  for (const auto& p : parts) {
    if (!m.empty()) m.push_back(' ');
    m.append(p);
  }
  return invalid(std::move(m));
}

api::ApiError signature_mismatch() {
  return invalid(
      "The request signature we calculated does not match the signature you provided. Check "
      "your AWS Secret Access Key and signing method. Consult the service documentation for "
      "details.");
}

api::ApiError unrecognized_client() {
  return make("UnrecognizedClientException",
              "The security token included in the request is invalid.");
}

}  // namespace shoal::auth::errors
