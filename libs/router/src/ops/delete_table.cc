// DeleteTable: metadata marks the table DELETING, drops its replicas, then forgets it.
#include "../impl.h"

namespace shoal::router {

void handle_delete_table(Router::Impl& r, const CallPtr& call) {
  api::errors::ConstraintErrors c;
  std::string name;
  check_table_name(call->body, "TableName", "tableName", &c, &name);
  if (!c.empty()) return call->fail(c.to_error());
  meta::v1::DeleteTableRequest req;
  req.set_name(name);
  r.meta_rpc(subjects::Subjects::kDeleteTable, req, [&r, call, name](Result<std::string> reply) {
    with_meta_reply<meta::v1::DeleteTableResponse>(
        reply,
        [&](const meta::v1::DeleteTableResponse& resp) {
          r.cache.invalidate(name);
          reply_table_description(call, resp.table(), r);
        },
        [&](const Status& st) {
          if (st.code() == Code::kNotFound) return call->fail(api::errors::table_not_found(name));
          if (st.code() == Code::kFailedPrecondition) {
            return call->fail(api::errors::table_in_use(name, st.message()));
          }
          call->fail(api::errors::from_status(st));
        });
  });
}

}  // namespace shoal::router
