// GetItem: route by key to the leader and return the item, projected by
// ProjectionExpression (nested paths, list indexes) or AttributesToGet.
#include "../capacity.h"
#include "../expressions.h"

namespace shoal::router {

namespace errors = api::errors;

void handle_get_item(Router::Impl& r, const CallPtr& call) {
  const auto& body = call->body;
  errors::ConstraintErrors c;
  std::string table;
  check_table_name(body, "TableName", "tableName", &c, &table);
  const auto* key_json = member(body, "Key");
  if (!key_json) c.null_member("key");
  if (!c.empty()) return call->fail(c.to_error());
  bool consistent = false;
  if (const auto* cr = member(body, "ConsistentRead")) {
    if (!cr->IsBool()) return call->fail(errors::wrong_json_type("Boolean"));
    consistent = cr->GetBool();
  }
  ConsumedMode consumed;
  if (auto e = parse_return_consumed(body, &consumed)) return call->fail(*e);
  RequestExpressions ex;
  auto names = std::make_shared<std::optional<expr::v1::Projection>>();
  if (auto e = ex.load(body)) return call->fail(*e);
  if (auto e = ex.projection(body, names.get())) return call->fail(*e);
  if (auto e = ex.finish({})) return call->fail(*e);
  auto key_item = std::make_shared<item::Item>();
  if (auto e = api::parse_item(*key_json, key_item.get())) return call->fail(*e);

  auto on_table = [&r, call, table, key_item, consistent, names,
                   consumed](const TableInfoPtr& info) {
    const TableInfo& t = *info;
    ItemKey key;
    if (auto e = key_from_key(t, *key_item, &key)) return call->fail(*e);
    auto req = make_data_request(storage::v1::DATA_OP_GET, t, std::move(key));
    req->set_consistent_read(consistent);
    r.data_rpc(call, table, req, [call, table, names, consistent, consumed,
                                  units = t.read_units](storage::v1::DataResponse&& resp) {
      // Always set: the read is counted (metrics) once the item's size is known.
      ExtraMembers extra = [=](api::JsonWriter& w, uint64_t size) {
        uint64_t half = read_half_units(size, consistent);
        count_units(units, half);
        write_consumed(w, consumed, table, half);
      };
      reply_stored_item(call, resp.found(), resp.item(), "Item", names.get(), extra);
    });
  };
  with_active_table(r, call, table, std::move(on_table));
}

}  // namespace shoal::router
