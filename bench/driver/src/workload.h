#pragma once
// What the driver sends: the YCSB core workloads mapped onto DynamoDB operations, the JSON
// bodies, the signed HTTP request, and how a response is classified.
//
//   workload  reads  updates  inserts  read-modify-write   (YCSB core workloads)
//   load       -       -       100%        -                 records 0..N-1, once each
//   a         50%     50%       -          -
//   b         95%      5%       -          -
//   c        100%      -        -          -
//   f         50%      -        -         50%                GetItem, then UpdateItem
//   put        -       -      100%         -                 PutItem of existing ids (overwrite)
//
// Records follow YCSB: key "user<fnvhash64(id)>", `fields` attributes field0..fieldN-1 of
// item_size/fields bytes each; an update (UpdateItem SET) rewrites one random field.
//
// Thread-safety: free functions are reentrant; a ValuePool is read-only after construction.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shoal/auth/sigv4.h"
#include "shoal/http/message.h"
#include "zipf.h"

namespace shoal::bench {

enum class Workload { kLoad, kA, kB, kC, kF, kPut };
std::optional<Workload> parse_workload(std::string_view name);
std::string_view workload_name(Workload w);

// Operation types as reported (YCSB's names).
enum class Op { kRead, kUpdate, kInsert, kReadModifyWrite };
inline constexpr int kOpCount = 4;
std::string_view op_name(Op op);

// Proportions of each operation; they add up to 1.
struct Mix {
  double read = 0, update = 0, insert = 0, read_modify_write = 0;
};
Mix mix_of(Workload w);
// Picks the next operation for `mix` given u uniform in [0, 1).
Op choose_op(const Mix& mix, double u);

std::string record_key(uint64_t id);

struct ItemShape {
  int fields = 10;
  size_t item_size = 1024;  // bytes of attribute values in total, key excluded
  size_t field_size() const { return fields > 0 ? std::max<size_t>(1, item_size / fields) : 1; }
};

// Random printable bytes, cut into values without generating new randomness per request.
class ValuePool {
 public:
  explicit ValuePool(size_t size = 1 << 20, uint64_t seed = 42);
  std::string_view take(Rng& rng, size_t n) const;

 private:
  std::string data_;
};

// DynamoDB JSON 1.0 bodies. Keys and values are JSON-safe by construction (no escaping).
std::string put_item_body(std::string_view table, std::string_view key, const ItemShape& shape,
                          const ValuePool& pool, Rng& rng);
std::string get_item_body(std::string_view table, std::string_view key, bool consistent);
std::string update_item_body(std::string_view table, std::string_view key, int field,
                             std::string_view value);
std::string create_table_body(std::string_view table);
std::string describe_table_body(std::string_view table);

struct Endpoint {
  std::string host;
  uint16_t port = 80;
  std::string host_header;  // "host:port" as sent (and signed)
};
// "http://host:port" (the port defaults to 80; a trailing "/" is allowed). nullopt otherwise.
std::optional<Endpoint> parse_endpoint(std::string_view url);

struct SigningConfig {
  auth::Credentials credentials;
  std::string region = "us-east-1";
  std::string service = "dynamodb";
};

// A request with Host first, then `headers`, then the body; not yet signed.
http::Request build_request(std::string_view method, std::string_view target,
                            std::string_view host_header, const http::Fields& headers,
                            std::string body);
// POST / with Content-Type application/x-amz-json-1.0 and X-Amz-Target
// DynamoDB_20120810.<operation>, as the AWS SDKs send it.
http::Request dynamodb_request(std::string_view host_header, std::string_view operation,
                               std::string body);
// Adds X-Amz-Date and Authorization (libs/auth sign(), every header present is signed).
void sign_request(http::Request& req, const SigningConfig& config,
                  std::chrono::sys_seconds time);

// "" for a 2xx response; else the short DynamoDB error type (after '#' in "__type", e.g.
// "ProvisionedThroughputExceededException") or "HTTP <status>" when the body has none.
std::string classify_error(unsigned status, std::string_view body);

}  // namespace shoal::bench
