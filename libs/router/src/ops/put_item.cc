// PutItem: validate, route by partition-key hash, store the whole item on the leader.
#include "../impl.h"

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
  if (auto e = refuse_unsupported(body, {"ConditionExpression", "Expected", "ConditionalOperator"}))
    return call->fail(*e);
  bool return_old = false;
  if (auto e = parse_return_old(body, &return_old)) return call->fail(*e);

  auto item = std::make_shared<item::Item>();
  if (auto e = api::parse_item(*item_json, item.get())) return call->fail(*e);
  if (item::item_size(*item) > item::kMaxItemSize) return call->fail(errors::item_too_large());

  r.cache.get(table, [&r, call, table, item, return_old](Result<TableInfoPtr> info) {
    if (!info.ok()) {
      if (info.status().code() == Code::kNotFound) return call->fail(errors::resource_not_found());
      return call->fail(errors::from_status(info.status()));
    }
    if (!(*info)->active()) return call->fail(errors::resource_not_found());
    ItemKey key;
    if (auto e = key_from_item(**info, *item, &key)) return call->fail(*e);
    auto req = std::make_shared<storage::v1::DataRequest>();
    req->set_op(storage::v1::DATA_OP_PUT);
    req->set_table_id((*info)->table.table_id());
    req->set_hash(key.hash);
    req->set_pk(std::move(key.pk));
    req->set_sk(std::move(key.sk));
    item::encode_item_to(*item, req->mutable_item());
    req->set_return_old(return_old);
    r.data_rpc(call, table, req, [call, return_old](storage::v1::DataResponse&& resp) {
      if (!return_old || !resp.found()) return call->ok("{}");
      item::Item old;
      if (!item::decode_item(resp.item(), &old)) {
        return call->fail(errors::internal_server_error("undecodable stored item"));
      }
      reply_json(call, [&](api::JsonWriter& w) {
        w.StartObject();
        w.Key("Attributes");
        api::write_item(w, old);
        w.EndObject();
      });
    });
  });
}

}  // namespace shoal::router
