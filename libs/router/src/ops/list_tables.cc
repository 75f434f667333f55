// ListTables: names in order, paged by ExclusiveStartTableName / Limit (1..100).
#include "../impl.h"

namespace shoal::router {

void handle_list_tables(Router::Impl& r, const CallPtr& call) {
  const auto& body = call->body;
  meta::v1::ListTablesRequest req;
  api::errors::ConstraintErrors c;
  if (const auto* start = member(body, "ExclusiveStartTableName")) {
    std::string name;
    check_table_name(body, "ExclusiveStartTableName", "exclusiveStartTableName", &c, &name);
    req.set_exclusive_start_table_name(name);
    (void)start;
  }
  if (const auto* limit = member(body, "Limit")) {
    if (!limit->IsInt64()) return call->fail(api::errors::wrong_json_type("Integer"));
    long long l = limit->GetInt64();
    if (l < 1) c.min_value("limit", l, 1);
    else if (l > 100) c.max_value("limit", l, 100);
    else req.set_limit(static_cast<int32_t>(l));
  }
  if (!c.empty()) return call->fail(c.to_error());
  r.meta_rpc(subjects::Subjects::kListTables, req, [call](Result<std::string> reply) {
    with_meta_reply<meta::v1::ListTablesResponse>(
        reply,
        [&](const meta::v1::ListTablesResponse& resp) {
          reply_json(call, [&](api::JsonWriter& w) {
            w.StartObject();
            w.Key("TableNames");
            w.StartArray();
            for (const auto& n : resp.table_names()) w.String(n.data(), n.size());
            w.EndArray();
            if (!resp.last_evaluated_table_name().empty()) {
              w.Key("LastEvaluatedTableName");
              const auto& l = resp.last_evaluated_table_name();
              w.String(l.data(), l.size());
            }
            w.EndObject();
          });
        },
        [&](const Status& st) { call->fail(api::errors::from_status(st)); });
  });
}

}  // namespace shoal::router
