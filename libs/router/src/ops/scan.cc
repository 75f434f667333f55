// Scan: every item of a table (or of one segment of a parallel scan), partition by
// partition in hash order, paged like DynamoDB (Limit, 1 MB, ExclusiveStartKey).
#include "../paging.h"

namespace shoal::router {

namespace errors = api::errors;

void handle_scan(Router::Impl& r, const CallPtr& call) {
  const auto& body = call->body;
  errors::ConstraintErrors c;
  std::string table;
  check_table_name(body, "TableName", "tableName", &c, &table);
  int64_t segment = -1, total = -1;
  if (const auto* s = member(body, "Segment")) {
    if (!s->IsInt64()) return call->fail(errors::wrong_json_type("Integer"));
    segment = s->GetInt64();
    if (segment < 0) c.min_value("segment", segment, 0);
    if (segment > 999999) c.max_value("segment", segment, 999999);
  }
  if (const auto* t = member(body, "TotalSegments")) {
    if (!t->IsInt64()) return call->fail(errors::wrong_json_type("Integer"));
    total = t->GetInt64();
    if (total < 1) c.min_value("totalSegments", total, 1);
    if (total > 1000000) c.max_value("totalSegments", total, 1000000);
  }
  auto read = std::make_shared<PagedRead>();
  RequestExpressions ex;
  if (auto e = parse_read_options(body, ex, "ScanFilter", read.get())) {
    if (!c.empty()) return call->fail(c.to_error());
    return call->fail(*e);
  }
  if (!c.empty()) return call->fail(c.to_error());
  if (auto e = ex.finish({"FilterExpression"})) return call->fail(*e);
  if (segment >= 0 && total < 0) {
    return call->fail(errors::validation(
        "The TotalSegments parameter is required but was not present in the request when "
        "Segment parameter is present"));
  }
  if (total >= 0 && segment < 0) {
    return call->fail(errors::validation(
        "The Segment parameter is required but was not present in the request when parameter "
        "TotalSegments is present"));
  }
  if (segment >= 0 && segment >= total) {
    return call->fail(errors::validation(
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: " + std::to_string(segment) + " is not less than TotalSegments: " +
        std::to_string(total)));
  }

  if (segment >= 0) {
    // Segment s of T owns hashes [s * 2^64 / T, (s + 1) * 2^64 / T).
    using u128 = unsigned __int128;
    u128 space = u128(1) << 64;
    read->hash_lo = static_cast<uint64_t>(space * segment / total);
    read->hash_hi = static_cast<uint64_t>(space * (segment + 1) / total - 1);
  }
  read->table = table;
  read->request.set_op(storage::v1::DATA_OP_SCAN);
  auto on_table = [&r, call, read](const TableInfoPtr& info) {
    const TableInfo& t = *info;
    read->info = info;
    std::string start;
    if (auto e = exclusive_start(t, call->body, &start)) return call->fail(*e);
    if (!start.empty()) {
      uint64_t h = 0;
      for (int i = 0; i < 8; ++i) h = (h << 8) | static_cast<uint8_t>(start[i]);
      if (h < read->hash_lo || h > read->hash_hi) {
        return call->fail(errors::validation(
            "The provided Exclusive start key does not map to the provided segment"));
      }
      read->hash_lo = h;
      read->request.set_start_after(start);
    }
    read->request.set_table_id(t.table.table_id());
    run_paged_read(r, call, read);
  };
  with_active_table(r, call, table, std::move(on_table));
}

}  // namespace shoal::router
