#include <chrono>
#include <cstdio>

#include "impl.h"

namespace shoal::router {

namespace {

const char* scalar_name(meta::v1::ScalarType t) {
  switch (t) {
    case meta::v1::SCALAR_TYPE_N: return "N";
    case meta::v1::SCALAR_TYPE_B: return "B";
    default: return "S";
  }
}

const char* status_name(meta::v1::TableStatus s) {
  switch (s) {
    case meta::v1::TABLE_STATUS_CREATING: return "CREATING";
    case meta::v1::TABLE_STATUS_DELETING: return "DELETING";
    case meta::v1::TABLE_STATUS_UPDATING: return "UPDATING";
    default: return "ACTIVE";
  }
}

// Epoch milliseconds as the decimal seconds DynamoDB sends ("1700000000.123"), exactly.
void write_epoch(api::JsonWriter& w, int64_t ms) {
  std::string s = std::to_string(ms / 1000) + "." + std::to_string(1000 + ms % 1000).substr(1);
  w.RawValue(s.data(), s.size(), rapidjson::kNumberType);
}

void str(api::JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace

namespace {

// Shoal's partition map of the table: what `shoalctl partitions` shows, for API users.
void write_partitions(api::JsonWriter& w, const meta::v1::Table& t, const Router::Impl& router) {
  auto hex = [&](uint64_t h) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(h));
    w.String(buf);
  };
  w.Key("ShoalPartitions");
  w.StartArray();
  for (const auto& p : t.partitions()) {
    w.StartObject();
    w.Key("PartitionId");
    str(w, p.partition_id());
    w.Key("HashRangeStart");
    hex(p.hash_lo());
    w.Key("HashRangeEnd");  // inclusive
    hex(p.hash_hi());
    w.Key("Leader");
    if (p.leader_node_id().empty()) w.Null();
    else str(w, p.leader_node_id());
    w.Key("Replicas");
    w.StartArray();
    for (int i = 0; i < p.replica_node_ids_size(); ++i) {
      w.StartObject();
      w.Key("Node");
      str(w, p.replica_node_ids(i));
      w.Key("Zone");
      str(w, i < p.replica_zones_size() ? p.replica_zones(i) : std::string());
      w.EndObject();
    }
    w.EndArray();
    if (auto size = router.partition_size(t.table_id(), p.partition_id())) {
      w.Key("SizeBytes");
      w.Int64(static_cast<int64_t>(size->first));
      w.Key("ItemCount");
      w.Int64(static_cast<int64_t>(size->second));
    }
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

void write_table_description(api::JsonWriter& w, const meta::v1::Table& t,
                             const Router::Impl& router, bool partitions) {
  w.StartObject();
  w.Key("AttributeDefinitions");
  w.StartArray();
  for (const auto& d : t.attribute_definitions()) {
    w.StartObject();
    w.Key("AttributeName");
    str(w, d.name());
    w.Key("AttributeType");
    w.String(scalar_name(d.type()));
    w.EndObject();
  }
  w.EndArray();
  w.Key("TableName");
  str(w, t.name());
  w.Key("KeySchema");
  w.StartArray();
  for (const auto& k : t.key_schema()) {
    w.StartObject();
    w.Key("AttributeName");
    str(w, k.name());
    w.Key("KeyType");
    w.String(k.key_type() == meta::v1::KEY_TYPE_RANGE ? "RANGE" : "HASH");
    w.EndObject();
  }
  w.EndArray();
  w.Key("TableStatus");
  w.String(status_name(t.status()));
  w.Key("CreationDateTime");
  write_epoch(w, t.creation_epoch_ms());
  const auto& pt = t.provisioned_throughput();
  w.Key("ProvisionedThroughput");
  w.StartObject();
  if (pt.last_increase_epoch_ms() != 0) {
    w.Key("LastIncreaseDateTime");
    write_epoch(w, pt.last_increase_epoch_ms());
  }
  if (pt.last_decrease_epoch_ms() != 0) {
    w.Key("LastDecreaseDateTime");
    write_epoch(w, pt.last_decrease_epoch_ms());
  }
  // Decreases are counted per UTC day: none today if the last one was on an earlier day.
  constexpr int64_t kDayMs = 24 * 3600 * 1000;
  int64_t today = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count() /
                  kDayMs;
  w.Key("NumberOfDecreasesToday");
  w.Int64(pt.last_decrease_epoch_ms() / kDayMs == today ? pt.number_of_decreases_today() : 0);
  w.Key("ReadCapacityUnits");
  w.Int64(t.provisioned_throughput().read_capacity_units());
  w.Key("WriteCapacityUnits");
  w.Int64(t.provisioned_throughput().write_capacity_units());
  w.EndObject();
  // DynamoDB refreshes these about every six hours; Shoal adds up what each partition's
  // leader reported in its last stats (about a second old): stored bytes (key + encoded item)
  // and items.
  const auto [bytes, items] = router.table_size(t);
  w.Key("TableSizeBytes");
  w.Int64(static_cast<int64_t>(bytes));
  w.Key("ItemCount");
  w.Int64(static_cast<int64_t>(items));
  w.Key("TableArn");
  str(w, router.table_arn(t.name()));
  w.Key("TableId");
  str(w, t.table_id());
  // Shown once the table has been on demand: a table switched back to PROVISIONED keeps the
  // time of its last switch to PAY_PER_REQUEST.
  if (t.billing_mode() == meta::v1::BILLING_MODE_PAY_PER_REQUEST ||
      t.billing_mode_last_update_epoch_ms() != 0) {
    w.Key("BillingModeSummary");
    w.StartObject();
    w.Key("BillingMode");
    w.String(t.billing_mode() == meta::v1::BILLING_MODE_PAY_PER_REQUEST ? "PAY_PER_REQUEST"
                                                                          : "PROVISIONED");
    w.Key("LastUpdateToPayPerRequestDateTime");
    write_epoch(w, t.billing_mode_last_update_epoch_ms());
    w.EndObject();
  }
  w.Key("DeletionProtectionEnabled");
  w.Bool(t.deletion_protection_enabled());
  if (partitions) write_partitions(w, t, router);
  w.EndObject();
}

void reply_table_description(const CallPtr& call, const meta::v1::Table& t,
                             const Router::Impl& router) {
  reply_json(call, [&](api::JsonWriter& w) {
    w.StartObject();
    w.Key("TableDescription");
    write_table_description(w, t, router);
    w.EndObject();
  });
}

}  // namespace shoal::router
