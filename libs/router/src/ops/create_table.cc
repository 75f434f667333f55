// CreateTable: validate the definition as DynamoDB does, then ask metadata to create it.
#include <set>

#include "../impl.h"
#include "control.h"

namespace shoal::router {

namespace errors = api::errors;

namespace {

std::optional<meta::v1::ScalarType> scalar(std::string_view s) {
  if (s == "S") return meta::v1::SCALAR_TYPE_S;
  if (s == "N") return meta::v1::SCALAR_TYPE_N;
  if (s == "B") return meta::v1::SCALAR_TYPE_B;
  return std::nullopt;
}

}  // namespace

void handle_create_table(Router::Impl& r, const CallPtr& call) {
  const auto& body = call->body;
  meta::v1::CreateTableRequest req;
  auto* t = req.mutable_table();
  errors::ConstraintErrors c;
  std::string name;
  check_table_name(body, "TableName", "tableName", &c, &name);
  t->set_name(name);

  const auto* defs = member(body, "AttributeDefinitions");
  if (!defs) c.null_member("attributeDefinitions");
  else if (!defs->IsArray()) return call->fail(errors::wrong_json_type("List"));
  const auto* keys = member(body, "KeySchema");
  if (!keys) c.null_member("keySchema");
  else if (!keys->IsArray()) return call->fail(errors::wrong_json_type("List"));
  else if (keys->Size() < 1) c.list_min_length("keySchema", 1);
  else if (keys->Size() > 2) {
    return call->fail(errors::validation(
        "1 validation error detected: Value '" + std::to_string(keys->Size()) +
        " elements' at 'keySchema' failed to satisfy constraint: Member must have length less "
        "than or equal to 2"));
  }

  std::string billing = string_member(body, "BillingMode").value_or("PROVISIONED");
  if (billing != "PROVISIONED" && billing != "PAY_PER_REQUEST") {
    c.enum_value("billingMode", billing, {"PROVISIONED", "PAY_PER_REQUEST"});
  }
  if (defs && defs->IsArray()) {
    for (rapidjson::SizeType i = 0; i < defs->Size(); ++i) {
      const auto& d = (*defs)[i];
      if (!d.IsObject()) return call->fail(errors::wrong_json_type("AttributeDefinition"));
      auto an = string_member(d, "AttributeName");
      auto at = string_member(d, "AttributeType");
      std::string path = "attributeDefinitions." + std::to_string(i + 1) + ".member.";
      if (!an) c.null_member(path + "attributeName");
      if (!at) c.null_member(path + "attributeType");
      else if (!scalar(*at)) c.enum_value(path + "attributeType", *at, {"B", "N", "S"});
      if (an && at && scalar(*at)) {
        auto* ad = t->add_attribute_definitions();
        ad->set_name(*an);
        ad->set_type(*scalar(*at));
      }
    }
  }
  if (keys && keys->IsArray()) {
    for (rapidjson::SizeType i = 0; i < keys->Size() && i < 2; ++i) {
      const auto& k = (*keys)[i];
      if (!k.IsObject()) return call->fail(errors::wrong_json_type("KeySchemaElement"));
      auto an = string_member(k, "AttributeName");
      auto kt = string_member(k, "KeyType");
      std::string path = "keySchema." + std::to_string(i + 1) + ".member.";
      if (!an) c.null_member(path + "attributeName");
      if (!kt) c.null_member(path + "keyType");
      else if (*kt != "HASH" && *kt != "RANGE") c.enum_value(path + "keyType", *kt, {"HASH", "RANGE"});
      if (an && kt && (*kt == "HASH" || *kt == "RANGE")) {
        auto* ke = t->add_key_schema();
        ke->set_name(*an);
        ke->set_key_type(*kt == "HASH" ? meta::v1::KEY_TYPE_HASH : meta::v1::KEY_TYPE_RANGE);
      }
    }
  }
  const auto* pt = member(body, "ProvisionedThroughput");
  long long rcu = 0, wcu = 0;
  bool have_rcu = false, have_wcu = false;
  if (pt) {
    if (!pt->IsObject()) return call->fail(errors::wrong_json_type("ProvisionedThroughput"));
    if (const auto* v = member(*pt, "ReadCapacityUnits")) {
      if (!v->IsInt64()) return call->fail(errors::wrong_json_type("Long"));
      rcu = v->GetInt64();
      have_rcu = true;
    } else {
      c.null_member("provisionedThroughput.readCapacityUnits");
    }
    if (const auto* v = member(*pt, "WriteCapacityUnits")) {
      if (!v->IsInt64()) return call->fail(errors::wrong_json_type("Long"));
      wcu = v->GetInt64();
      have_wcu = true;
    } else {
      c.null_member("provisionedThroughput.writeCapacityUnits");
    }
  }
  if (!c.empty()) return call->fail(c.to_error());

  // Semantic checks, in the order DynamoDB reports them.
  const auto& ks = t->key_schema();
  if (ks[0].key_type() != meta::v1::KEY_TYPE_HASH) {
    return call->fail(errors::key_schema_invalid("The first KeySchemaElement is not a HASH key type"));
  }
  if (ks.size() == 2) {
    if (ks[1].key_type() != meta::v1::KEY_TYPE_RANGE) {
      return call->fail(errors::key_schema_invalid("The second KeySchemaElement is not a RANGE key type"));
    }
    if (ks[0].name() == ks[1].name()) {
      return call->fail(errors::key_schema_invalid(
          "Both the Hash Key and the Range Key element in the KeySchema have the same name"));
    }
  }
  std::set<std::string> defined;
  std::vector<std::string> defined_list;
  for (const auto& d : t->attribute_definitions()) {
    if (!defined.insert(d.name()).second) {
      return call->fail(errors::validation(
          "Cannot have two attributes with the same name. Attribute name: " + d.name()));
    }
    defined_list.push_back(d.name());
  }
  std::vector<std::string> key_names;
  bool missing = false;
  for (const auto& k : ks) {
    key_names.push_back(k.name());
    if (!defined.count(k.name())) missing = true;
  }
  if (missing) return call->fail(errors::undefined_key_attributes(key_names, defined_list));
  if (defined.size() != key_names.size()) return call->fail(errors::attribute_definitions_mismatch());

  if (billing == "PAY_PER_REQUEST") {
    if (pt) return call->fail(errors::provisioned_throughput_forbidden());
    t->set_billing_mode(meta::v1::BILLING_MODE_PAY_PER_REQUEST);
  } else {
    if (!pt || !have_rcu || !have_wcu) return call->fail(errors::provisioned_throughput_required());
    if (rcu < 1) return call->fail(errors::capacity_too_small("readCapacityUnits", rcu));
    if (wcu < 1) return call->fail(errors::capacity_too_small("writeCapacityUnits", wcu));
    t->set_billing_mode(meta::v1::BILLING_MODE_PROVISIONED);
    t->mutable_provisioned_throughput()->set_read_capacity_units(rcu);
    t->mutable_provisioned_throughput()->set_write_capacity_units(wcu);
  }
  if (auto e = create_table_extras(body, t)) return call->fail(*e);

  r.meta_rpc(subjects::Subjects::kCreateTable, req, [&r, call, name](Result<std::string> reply) {
    with_meta_reply<meta::v1::CreateTableResponse>(
        reply,
        [&](const meta::v1::CreateTableResponse& resp) {
          reply_table_description(call, resp.table(), r);
        },
        [&](const Status& st) {
          if (st.code() == Code::kAlreadyExists) return call->fail(errors::table_already_exists(name));
          call->fail(errors::from_status(st));
        });
  });
}

}  // namespace shoal::router
