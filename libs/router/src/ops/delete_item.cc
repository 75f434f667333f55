// DeleteItem: route by key, remove on the leader, optionally return the old image.
#include "../expressions.h"

namespace shoal::router {

namespace errors = api::errors;

void handle_delete_item(Router::Impl& r, const CallPtr& call) {
  const auto& body = call->body;
  errors::ConstraintErrors c;
  std::string table;
  check_table_name(body, "TableName", "tableName", &c, &table);
  const auto* key_json = member(body, "Key");
  if (!key_json) c.null_member("key");
  if (!c.empty()) return call->fail(c.to_error());
  SingleWriteOptions opts;
  if (auto e = parse_single_write(body, &opts)) return call->fail(*e);
  bool return_old = opts.return_old;
  ConsumedMode consumed = opts.consumed;
  WriteCondition cond = std::move(opts.cond);
  auto key_item = std::make_shared<item::Item>();
  if (auto e = api::parse_item(*key_json, key_item.get())) return call->fail(*e);

  auto on_table = [&r, call, table, key_item, return_old, consumed,
                   cond = std::move(cond)](const TableInfoPtr& info) {
    const TableInfo& t = *info;
    ItemKey key;
    if (auto e = key_from_key(t, *key_item, &key)) return call->fail(*e);
    auto req = make_data_request(storage::v1::DATA_OP_DELETE, t, std::move(key));
    req->set_return_old(return_old);
    req->set_want_old_size(true);  // consumed capacity is always counted (metrics)
    cond.apply_to(req.get());
    r.data_rpc(call, table, req, [call, table, return_old, consumed,
                                  units = t.write_units](storage::v1::DataResponse&& resp) {
      // A write whose condition failed consumes capacity too, as in DynamoDB.
      uint64_t half = write_half_units(resp.old_item_size());
      count_units(units, half);
      if (resp.condition_failed()) return call->fail(condition_failed_error(resp));
      ExtraMembers extra;
      if (consumed != ConsumedMode::kNone) {
        extra = [=](api::JsonWriter& w, uint64_t) { write_consumed(w, consumed, table, half); };
      }
      reply_stored_item(call, return_old && resp.found(), resp.item(), "Attributes", nullptr,
                        extra);
    });
  };
  with_active_table(r, call, table, std::move(on_table));
}

}  // namespace shoal::router
