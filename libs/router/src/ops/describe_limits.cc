// DescribeLimits and DescribeEndpoints: static answers, no metadata round trip.
#include "control.h"

namespace shoal::router {

namespace {
// DynamoDB's default quotas; Shoal does not reserve capacity, so nothing enforces them yet.
constexpr int64_t kAccountMaxCapacityUnits = 80000;
constexpr int64_t kTableMaxCapacityUnits = 40000;
// How long a client may cache the endpoint list, as DynamoDB answers.
constexpr int64_t kEndpointCacheMinutes = 1440;
}  // namespace

void handle_describe_limits(Router::Impl&, const CallPtr& call) {
  reply_json(call, [](api::JsonWriter& w) {
    w.StartObject();
    w.Key("AccountMaxReadCapacityUnits");
    w.Int64(kAccountMaxCapacityUnits);
    w.Key("AccountMaxWriteCapacityUnits");
    w.Int64(kAccountMaxCapacityUnits);
    w.Key("TableMaxReadCapacityUnits");
    w.Int64(kTableMaxCapacityUnits);
    w.Key("TableMaxWriteCapacityUnits");
    w.Int64(kTableMaxCapacityUnits);
    w.EndObject();
  });
}

void handle_describe_endpoints(Router::Impl& r, const CallPtr& call) {
  // The endpoint is the one the client used (its Host header).
  std::string address = call->host.empty() ? "dynamodb." + r.options.region + ".amazonaws.com"
                                           : call->host;
  reply_json(call, [&](api::JsonWriter& w) {
    w.StartObject();
    w.Key("Endpoints");
    w.StartArray();
    w.StartObject();
    w.Key("Address");
    w.String(address.data(), static_cast<rapidjson::SizeType>(address.size()));
    w.Key("CachePeriodInMinutes");
    w.Int64(kEndpointCacheMinutes);
    w.EndObject();
    w.EndArray();
    w.EndObject();
  });
}

}  // namespace shoal::router
