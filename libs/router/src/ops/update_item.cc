// UpdateItem: the router parses UpdateExpression / ConditionExpression into the Protobuf AST;
// the partition leader reads the item, checks the condition, applies the update (creating
// the item from its key if absent) and logs the resulting image like any other write.
#include "../capacity.h"
#include "../expressions.h"
#include "../legacy.h"

namespace shoal::router {

namespace errors = api::errors;

namespace {

std::optional<api::ApiError> parse_return_values(const rapidjson::Value& body,
                                                 storage::v1::ReturnValues* out) {
  *out = storage::v1::RETURN_VALUES_NONE;
  const auto* rv = member(body, "ReturnValues");
  if (!rv) return std::nullopt;
  if (!rv->IsString()) return errors::wrong_json_type("String");
  std::string_view v(rv->GetString(), rv->GetStringLength());
  if (v == "NONE") return std::nullopt;
  if (v == "ALL_OLD") *out = storage::v1::RETURN_VALUES_ALL_OLD;
  else if (v == "UPDATED_OLD") *out = storage::v1::RETURN_VALUES_UPDATED_OLD;
  else if (v == "ALL_NEW") *out = storage::v1::RETURN_VALUES_ALL_NEW;
  else if (v == "UPDATED_NEW") *out = storage::v1::RETURN_VALUES_UPDATED_NEW;
  else {
    errors::ConstraintErrors c;
    c.enum_value("returnValues", v, {"ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"});
    return c.to_error();
  }
  return std::nullopt;
}

}  // namespace

void handle_update_item(Router::Impl& r, const CallPtr& call) {
  const auto& body = call->body;
  errors::ConstraintErrors c;
  std::string table;
  check_table_name(body, "TableName", "tableName", &c, &table);
  const auto* key_json = member(body, "Key");
  if (!key_json) c.null_member("key");
  if (!c.empty()) return call->fail(c.to_error());
  if (auto e = refuse_mixed(body, {"AttributeUpdates", "Expected"},
                            {"UpdateExpression", "ConditionExpression"})) {
    return call->fail(*e);
  }
  storage::v1::ReturnValues return_values;
  if (auto e = parse_return_values(body, &return_values)) return call->fail(*e);
  ConsumedMode consumed;
  if (auto e = parse_return_consumed(body, &consumed)) return call->fail(*e);
  auto key_item = std::make_shared<item::Item>();
  if (auto e = api::parse_item(*key_json, key_item.get())) return call->fail(*e);

  auto on_table = [&r, call, table, key_item, return_values,
                   consumed](const TableInfoPtr& info) {
    const TableInfo& t = *info;
    ItemKey key;
    if (auto e = key_from_key(t, *key_item, &key)) return call->fail(*e);
    // Expressions need the key names (an update may not touch them), so they are parsed
    // once the table is known.
    RequestExpressions ex;
    WriteCondition cond;
    std::optional<expr::v1::Update> update;
    std::vector<std::string> key_names = {t.hash_key};
    if (!t.range_key.empty()) key_names.push_back(t.range_key);
    if (auto e = ex.load(call->body)) return call->fail(*e);
    if (auto e = ex.update(call->body, key_names, &update)) return call->fail(*e);
    if (const auto* legacy = member(call->body, "AttributeUpdates"); legacy && !update) {
      update.emplace();
      if (auto e = legacy_update(*legacy, key_names, &*update)) return call->fail(*e);
    }
    if (auto e = parse_write_condition(call->body, ex, &cond)) return call->fail(*e);
    if (auto e = ex.finish({"UpdateExpression", "ConditionExpression"})) {
      return call->fail(*e);
    }

    auto req = make_data_request(storage::v1::DATA_OP_UPDATE, t, std::move(key));
    item::encode_item_to(*key_item, req->mutable_item());  // the new item's start
    if (update) *req->mutable_update() = std::move(*update);
    req->set_return_values(return_values);
    for (auto& n : key_names) req->add_key_names(std::move(n));
    cond.apply_to(req.get());
    r.data_rpc(call, table, req, [call, table, consumed,
                                  units = t.write_units](storage::v1::DataResponse&& resp) {
      // A write whose condition failed consumes capacity too, as in DynamoDB.
      uint64_t half = write_half_units(std::max(resp.new_item_size(), resp.old_item_size()));
      count_units(units, half);
      if (resp.condition_failed()) return call->fail(condition_failed_error(resp));
      ExtraMembers extra;
      if (consumed != ConsumedMode::kNone) {
        extra = [=](api::JsonWriter& w, uint64_t) { write_consumed(w, consumed, table, half); };
      }
      reply_stored_item(call, resp.found(), resp.item(), "Attributes", nullptr, extra);
    });
  };
  with_active_table(r, call, table, std::move(on_table));
}

}  // namespace shoal::router
