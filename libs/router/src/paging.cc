#include "paging.h"

#include "legacy.h"

namespace shoal::router {

namespace errors = api::errors;

namespace {

constexpr uint64_t kPageBytes = 1024 * 1024;  // DynamoDB reads at most 1 MB per page

struct PageState {
  std::vector<std::string> items;  // encoded, filtered and projected by the storage node
  uint32_t count = 0;    // after the filter
  uint32_t scanned = 0;  // before it
  uint64_t bytes = 0;
  std::string last_key;  // set when the page stopped early
};

void answer(const CallPtr& call, const PagedRead& read, const PageState& page) {
  const uint64_t half = read_half_units(page.bytes, read.request.consistent_read());
  count_units(read.info->read_units, half);
  std::vector<item::Item> decoded;
  if (!read.count_only) {
    decoded.reserve(page.items.size());
    for (const auto& enc : page.items) {
      item::Item it;
      if (!item::decode_item(enc, &it)) {
        return call->fail(errors::internal_server_error("undecodable stored item"));
      }
      decoded.push_back(std::move(it));
    }
  }
  reply_json(call, [&](api::JsonWriter& w) {
    w.StartObject();
    if (!read.count_only) {
      w.Key("Items");
      w.StartArray();
      for (const auto& it : decoded) api::write_item(w, it);
      w.EndArray();
    }
    w.Key("Count");
    w.Uint(page.count);
    w.Key("ScannedCount");
    w.Uint(page.scanned);
    write_consumed(w, read.consumed, read.table, half);
    if (!page.last_key.empty()) {
      w.Key("LastEvaluatedKey");
      if (!write_key_of(w, *read.info, page.last_key)) {  // cannot happen for stored keys
        w.StartObject();
        w.EndObject();
      }
    }
    w.EndObject();
  });
}

void next_page(Router::Impl& r, const CallPtr& call, std::shared_ptr<PagedRead> read,
               std::shared_ptr<PageState> page) {
  auto req = std::make_shared<storage::v1::DataRequest>(read->request);
  if (read->limit) req->set_limit(read->limit - page->scanned);
  req->set_max_bytes(page->bytes < kPageBytes ? kPageBytes - page->bytes : 1);
  if (req->op() == storage::v1::DATA_OP_SCAN) {
    req->set_hash(read->hash_lo);
    req->set_hash_hi(read->hash_hi);
  }
  r.data_rpc(call, read->table, req, [&r, call, read, page](storage::v1::DataResponse&& resp) {
    for (auto& it : *resp.mutable_items()) page->items.push_back(std::move(it));
    page->scanned += resp.scanned_count();
    page->count += resp.count();
    page->bytes += resp.scanned_bytes();
    if (resp.more() && resp.reply_full()) {
      // The storage node capped its reply; the page goes on from there.
      read->request.set_start_after(resp.last_key());
      if (read->request.op() == storage::v1::DATA_OP_SCAN) {
        uint64_t h = 0;
        for (int i = 0; i < 8; ++i) h = (h << 8) | static_cast<uint8_t>(resp.last_key()[i]);
        read->hash_lo = h;
      }
      return next_page(r, call, read, page);
    }
    if (resp.more()) {
      page->last_key = resp.last_key();
      return answer(call, *read, *page);
    }
    if (read->request.op() == storage::v1::DATA_OP_QUERY) return answer(call, *read, *page);
    // SCAN: this partition is done; go on after the last hash it owns (as the replica says:
    // a split may have narrowed it since this router's map was read), if the range goes on.
    uint64_t done_hi = 0;
    if (resp.has_range_hi()) {
      done_hi = resp.range_hi();
    } else {
      const auto* p = read->info->partition_for(read->hash_lo);
      if (!p) return answer(call, *read, *page);
      done_hi = p->hash_hi();
    }
    if (done_hi >= read->hash_hi) return answer(call, *read, *page);
    read->hash_lo = done_hi + 1;
    read->request.clear_start_after();
    next_page(r, call, read, page);
  });
}

}  // namespace

std::optional<api::ApiError> parse_read_options(const rapidjson::Value& body,
                                                RequestExpressions& ex, const char* legacy_filter,
                                                PagedRead* read) {
  errors::ConstraintErrors c;
  if (const auto* l = member(body, "Limit")) {
    if (!l->IsInt64()) return errors::wrong_json_type("Integer");
    if (l->GetInt64() < 1) c.min_value("limit", l->GetInt64(), 1);
    else read->limit = static_cast<uint32_t>(std::min<int64_t>(l->GetInt64(), 1 << 30));
  }
  std::string select = "ALL_ATTRIBUTES";
  if (const auto* s = member(body, "Select")) {
    if (!s->IsString()) return errors::wrong_json_type("String");
    select.assign(s->GetString(), s->GetStringLength());
    if (select != "ALL_ATTRIBUTES" && select != "ALL_PROJECTED_ATTRIBUTES" && select != "COUNT" &&
        select != "SPECIFIC_ATTRIBUTES") {
      c.enum_value("select", select,
                   {"SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"});
    }
  }
  if (!c.empty()) return c.to_error();
  if (const auto* cr = member(body, "ConsistentRead")) {
    if (!cr->IsBool()) return errors::wrong_json_type("Boolean");
    read->request.set_consistent_read(cr->GetBool());
  }
  if (member(body, "IndexName")) {
    const auto* n = member(body, "IndexName");
    std::string name = n->IsString() ? n->GetString() : "";
    return errors::validation("The table does not have the specified index: " + name);
  }
  if (select == "ALL_PROJECTED_ATTRIBUTES") {
    return errors::validation(
        "One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is "
        "not supported");
  }
  if (auto e = ex.load(body)) return e;
  std::optional<expr::v1::Projection> project;
  if (auto e = ex.projection(body, &project)) return e;
  if (auto e = refuse_mixed(body, {legacy_filter, "ConditionalOperator"}, {"FilterExpression"})) {
    return e;
  }
  std::optional<expr::v1::Condition> filter;
  if (auto e = ex.condition(body, "FilterExpression", &filter)) return e;
  if (!filter) {
    if (auto e = legacy_condition(body, legacy_filter, &filter)) return e;
  }
  if (filter) *read->request.mutable_filter() = std::move(*filter);
  if (auto e = parse_return_consumed(body, &read->consumed)) return e;
  // Select against the projection, named as the request named it.
  const char* projection_param =
      member(body, "ProjectionExpression") ? "ProjectionExpression" : "AttributesToGet";
  if (select == "COUNT") {
    if (project) {
      return errors::validation("Cannot specify the " + std::string(projection_param) +
                                " when choosing to get only the Count");
    }
    read->count_only = true;
  }
  if (select == "SPECIFIC_ATTRIBUTES" && !project) {
    return errors::validation(
        "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
        "SPECIFIC_ATTRIBUTES");
  }
  if (select == "ALL_ATTRIBUTES" && member(body, "Select") && project) {
    return errors::validation("Cannot specify the " + std::string(projection_param) +
                              " when choosing to get ALL_ATTRIBUTES");
  }
  if (project) *read->request.mutable_projection() = std::move(*project);
  return std::nullopt;
}

void run_paged_read(Router::Impl& r, const CallPtr& call, std::shared_ptr<PagedRead> read) {
  next_page(r, call, std::move(read), std::make_shared<PageState>());
}

}  // namespace shoal::router
