#pragma once
// The signature errors DynamoDB sends (namespace com.amazon.coral.service, HTTP 400), worded as
// AWS words them. A missing Authorization header is api::errors::missing_authentication_token().

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shoal/api/errors.h"

namespace shoal::auth::errors {

// -- IncompleteSignatureException ------------------------------------------------------------
// "Authorization header requires 'Credential' parameter. ... Authorization=<header>";
// `missing` lists the parameters in AWS's order (Credential, Signature, SignedHeaders).
api::ApiError missing_parameters(const std::vector<std::string_view>& missing, bool missing_date,
                                 std::string_view authorization);
api::ApiError missing_equal_sign(std::string_view pair, std::string_view authorization);
api::ApiError bad_date(std::string_view date);
api::ApiError unsupported_algorithm(std::string_view algorithm);
api::ApiError credential_elements(std::string_view credential);

// -- InvalidSignatureException ---------------------------------------------------------------
api::ApiError signature_expired(std::chrono::sys_seconds request, std::chrono::sys_seconds now,
                                std::chrono::minutes skew);
api::ApiError signature_not_yet_current(std::chrono::sys_seconds request,
                                        std::chrono::sys_seconds now, std::chrono::minutes skew);
api::ApiError host_not_signed();
// A credential scope that does not fit the request; every part set is one sentence of the
// message, in AWS's order.
struct BadScope {
  std::optional<std::string_view> region;      // the region given, when not accepted
  std::optional<std::string_view> service;     // the service expected, when another was given
  std::optional<std::string_view> terminator;  // the terminator given, when not aws4_request
  std::optional<std::string_view> date;        // the scope's date, when not the request's day
  std::string_view request_time;               // the request time, "20150830T123600Z"
};
api::ApiError bad_scope(const BadScope& bad);
api::ApiError signature_mismatch();

// -- UnrecognizedClientException -------------------------------------------------------------
api::ApiError unrecognized_client();

}  // namespace shoal::auth::errors
