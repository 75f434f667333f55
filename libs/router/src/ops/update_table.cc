// UpdateTable: billing mode, provisioned throughput and deletion protection. The request's
// shape is checked here; metadata checks it against the table (same throughput, mode) and
// applies it atomically.
#include <string>
#include <vector>

#include "control.h"

namespace shoal::router {

namespace errors = api::errors;

namespace {

constexpr long long kMaxCapacityUnits = 1000000000000LL;  // above: "out of bounds"

// UpdateTable members DynamoDB knows that Shoal does not implement yet.
constexpr const char* kUnsupported[] = {
    "GlobalSecondaryIndexUpdates", "StreamSpecification", "SSESpecification",
    "ReplicaUpdates",              "TableClass",          "OnDemandThroughput",
    "WarmThroughput",              "MultiRegionConsistency", "GlobalTableWitnessUpdates"};

// Reads one capacity member of ProvisionedThroughput: false if it is not a Long.
bool capacity(const rapidjson::Value& pt, const char* json_name, const char* path,
              errors::ConstraintErrors* c, std::optional<long long>* out) {
  const auto* v = member(pt, json_name);
  if (!v) {
    c->null_member(path);
    return true;
  }
  if (!v->IsInt64()) return false;
  *out = v->GetInt64();
  if (**out < 1) c->min_value(path, **out, 1);
  return true;
}

}  // namespace

void handle_update_table(Router::Impl& r, const CallPtr& call) {
  const auto& body = call->body;
  errors::ConstraintErrors c;
  std::string name;
  check_table_name(body, "TableName", "tableName", &c, &name);

  meta::v1::UpdateTableRequest req;
  req.set_name(name);
  const auto* billing = member(body, "BillingMode");
  if (billing) {
    if (!billing->IsString()) return call->fail(errors::wrong_json_type("String"));
    std::string_view mode(billing->GetString(), billing->GetStringLength());
    if (mode == "PROVISIONED") {
      req.set_billing_mode(meta::v1::BILLING_MODE_PROVISIONED);
    } else if (mode == "PAY_PER_REQUEST") {
      req.set_billing_mode(meta::v1::BILLING_MODE_PAY_PER_REQUEST);
    } else {
      c.enum_value("billingMode", mode, {"PROVISIONED", "PAY_PER_REQUEST"});
    }
  }
  const auto* pt = member(body, "ProvisionedThroughput");
  std::optional<long long> rcu, wcu;
  if (pt) {
    if (!pt->IsObject()) return call->fail(errors::wrong_json_type("ProvisionedThroughput"));
    // DynamoDB lists the write member's violation first.
    if (!capacity(*pt, "WriteCapacityUnits", "provisionedThroughput.writeCapacityUnits", &c,
                  &wcu) ||
        !capacity(*pt, "ReadCapacityUnits", "provisionedThroughput.readCapacityUnits", &c,
                  &rcu)) {
      return call->fail(errors::wrong_json_type("Long"));
    }
  }
  const auto* protection = member(body, "DeletionProtectionEnabled");
  if (protection) {
    if (!protection->IsBool()) return call->fail(errors::wrong_json_type("Boolean"));
    req.set_deletion_protection_enabled(protection->GetBool());
  }
  if (!c.empty()) return call->fail(c.to_error());

  for (const char* m : kUnsupported) {
    if (member(body, m)) {
      return call->fail(errors::validation(std::string("UpdateTable ") + m +
                                           " is not supported by Shoal yet"));
    }
  }
  if (!billing && !pt && !protection) {
    return call->fail(errors::validation(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, "
        "MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, "
        "DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is "
        "required"));
  }
  if (protection && (billing || pt)) {
    return call->fail(errors::validation(
        "One or more parameter values were invalid: DeletionProtection modification must be "
        "the only operation in the request"));
  }
  if (req.billing_mode() == meta::v1::BILLING_MODE_PROVISIONED && !pt) {
    return call->fail(errors::validation(
        "One or more parameter values were invalid: ProvisionedThroughput must be specified "
        "when BillingMode is PROVISIONED"));
  }
  if (req.billing_mode() == meta::v1::BILLING_MODE_PAY_PER_REQUEST && pt) {
    return call->fail(errors::provisioned_throughput_forbidden());
  }
  if (pt) {
    if (*rcu > kMaxCapacityUnits) {
      return call->fail(errors::validation("Given value " + std::to_string(*rcu) +
                                           " for ReadCapacityUnits is out of bounds"));
    }
    if (*wcu > kMaxCapacityUnits) {
      return call->fail(errors::validation("Given value " + std::to_string(*wcu) +
                                           " for WriteCapacityUnits is out of bounds"));
    }
    req.mutable_provisioned_throughput()->set_read_capacity_units(*rcu);
    req.mutable_provisioned_throughput()->set_write_capacity_units(*wcu);
  }

  r.meta_rpc(subjects::Subjects::kUpdateTable, req, [&r, call, name](Result<std::string> reply) {
    with_meta_reply<meta::v1::UpdateTableResponse>(
        reply,
        [&](const meta::v1::UpdateTableResponse& resp) {
          r.cache.invalidate(name);
          reply_table_description(call, resp.table(), r);
        },
        [&](const Status& st) {
          if (st.code() == Code::kNotFound) return call->fail(errors::table_not_found(name));
          if (st.code() == Code::kFailedPrecondition) {
            return call->fail(errors::table_in_use(name, st.message()));
          }
          // kInvalidArgument carries DynamoDB's message (e.g. "will not change").
          call->fail(errors::from_status(st));
        });
  });
}

}  // namespace shoal::router
