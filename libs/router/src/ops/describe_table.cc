// DescribeTable: metadata's view of one table.
#include "../impl.h"

namespace shoal::router {

void handle_describe_table(Router::Impl& r, const CallPtr& call) {
  api::errors::ConstraintErrors c;
  std::string name;
  check_table_name(call->body, "TableName", "tableName", &c, &name);
  if (!c.empty()) return call->fail(c.to_error());
  meta::v1::DescribeTableRequest req;
  req.set_name(name);
  r.meta_rpc(subjects::Subjects::kDescribeTable, req, [&r, call, name](Result<std::string> reply) {
    with_meta_reply<meta::v1::DescribeTableResponse>(
        reply,
        [&](const meta::v1::DescribeTableResponse& resp) {
          reply_json(call, [&](api::JsonWriter& w) {
            w.StartObject();
            w.Key("Table");
            write_table_description(w, resp.table(), r, /*partitions=*/true);
            w.EndObject();
          });
        },
        [&](const Status& st) {
          if (st.code() == Code::kNotFound) return call->fail(api::errors::table_not_found(name));
          call->fail(api::errors::from_status(st));
        });
  });
}

}  // namespace shoal::router
