#pragma once
// DynamoDB JSON 1.0 protocol details shared by every handler: target parsing, request ids,
// and the response envelope (content type, x-amzn-RequestId, x-amz-crc32).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shoal::api {

constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";
constexpr std::string_view kContentType = "application/x-amz-json-1.0";

// "DynamoDB_20120810.PutItem" -> "PutItem"; "" if the prefix does not match.
std::string_view operation_from_target(std::string_view target);

// A 52-character request id in AWS's alphabet (upper-case letters and digits).
std::string new_request_id();

// CRC32 (IEEE, as zlib computes it) of the body, as botocore checks it.
uint32_t crc32_of(std::string_view body);

// Headers every DynamoDB response carries.
std::vector<std::pair<std::string, std::string>> response_headers(std::string_view request_id,
                                                                   std::string_view body);

}  // namespace shoal::api
