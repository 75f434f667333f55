// PutItem: validate, route by partition-key hash, store the whole item on the leader.
#include "../expressions.h"

namespace shoal::router {

namespace errors = api::errors;

void handle_put_item(Router::Impl& r, const CallPtr& call) {
  const auto& body = call->body;
  errors::ConstraintErrors c;
  std::string table;
  check_table_name(body, "TableName", "tableName", &c, &table);
  const auto* item_json = member(body, "Item");
  if (!item_json) c.null_member("item");
  if (!c.empty()) return call->fail(c.to_error());
  SingleWriteOptions opts;
  if (auto e = parse_single_write(body, &opts)) return call->fail(*e);
  bool return_old = opts.return_old;
  ConsumedMode consumed = opts.consumed;
  WriteCondition cond = std::move(opts.cond);

  auto item = std::make_shared<item::Item>();
  if (auto e = api::parse_item(*item_json, item.get())) return call->fail(*e);
  uint64_t new_size = item::item_size(*item);
  if (new_size > item::kMaxItemSize) return call->fail(errors::item_too_large());

  auto on_table = [&r, call, table, item, return_old, consumed, new_size,
                   cond = std::move(cond)](const TableInfoPtr& info) {
    const TableInfo& t = *info;
    ItemKey key;
    if (auto e = key_from_item(t, *item, &key)) return call->fail(*e);
    auto req = make_data_request(storage::v1::DATA_OP_PUT, t, std::move(key));
    item::encode_item_to(*item, req->mutable_item());
    req->set_return_old(return_old);
    req->set_want_old_size(true);  // consumed capacity is always counted (metrics)
    cond.apply_to(req.get());
    r.data_rpc(call, table, req, [call, table, return_old, consumed, new_size,
                                  units = t.write_units](storage::v1::DataResponse&& resp) {
      // A write whose condition failed consumes capacity too, as in DynamoDB.
      uint64_t half = write_half_units(std::max(new_size, resp.old_item_size()));
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
