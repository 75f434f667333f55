#pragma once
// Router internals shared by the operation handlers (one file per operation in ops/).

#include <rapidjson/document.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <string>
#include <unordered_map>
#include <vector>

#include "shoal/api/errors.h"
#include "shoal/api/json_codec.h"
#include "shoal/auth/verify.h"
#include "shoal/expr/v1/expr.pb.h"
#include "shoal/item/item.h"
#include "shoal/meta/v1/meta.pb.h"
#include "shoal/router/router.h"
#include "shoal/storage/v1/storage.pb.h"

namespace shoal::router {

// One client request in flight. Completed exactly once with ok() or fail(); safe to complete
// from any thread.
class Call {
 public:
  Call(http::Responder responder, std::string op, std::string request_id,
       std::chrono::steady_clock::time_point deadline, Router::Impl* router)
      : responder_(std::move(responder)), op_(std::move(op)),
        request_id_(std::move(request_id)), deadline_(deadline), router_(router) {}

  void ok(std::string json_body);
  void fail(const api::ApiError& error);

  const std::string& op() const { return op_; }
  std::chrono::steady_clock::time_point deadline() const { return deadline_; }
  bool past_deadline() const { return std::chrono::steady_clock::now() >= deadline_; }

  std::string host;          // the Host header (DescribeEndpoints answers with it)
  std::string raw;           // the request body; `body` points into it
  rapidjson::Document body;  // the parsed request

 private:
  http::Responder responder_;
  std::string op_;
  std::string request_id_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  Router::Impl* router_;
  std::atomic<bool> done_{false};
};
using CallPtr = std::shared_ptr<Call>;

// What the router needs to know about a table to route its items.
struct TableInfo {
  meta::v1::Table table;  // as metadata described it
  std::string hash_key;
  item::Type hash_type = item::Type::kS;
  std::string range_key;  // empty if none
  item::Type range_type = item::Type::kS;
  // Sorted by hash_lo; together they cover the whole hash space.
  std::vector<const meta::v1::Partition*> partitions;
  // This table's shoal_router_consumed_capacity_units_total{kind="read"|"write"} series
  // (null without a registry), resolved when the table is fetched: counting a request is one
  // atomic add, no lookup.
  metrics::Counter* read_units = nullptr;
  metrics::Counter* write_units = nullptr;

  bool active() const { return table.status() == meta::v1::TABLE_STATUS_ACTIVE; }
  const meta::v1::Partition* partition_for(uint64_t hash) const;
};
using TableInfoPtr = std::shared_ptr<const TableInfo>;

// Partition-map cache: table name -> TableInfo. Misses go to metadata; concurrent misses for
// one table share one request. Entries are dropped on metadata events and on stale-route
// answers from storage nodes.
class TableCache {
 public:
  using Done = std::function<void(Result<TableInfoPtr>)>;
  explicit TableCache(Router::Impl* router) : router_(router) {}
  void get(const std::string& name, Done done);
  void invalidate(const std::string& name);

 private:
  void fetch(const std::string& name);
  Router::Impl* router_;
  std::mutex mu_;
  std::unordered_map<std::string, TableInfoPtr> tables_;
  std::unordered_map<std::string, std::vector<Done>> waiting_;
};

struct Router::Impl {
  Impl(std::shared_ptr<nats::Connection> n, subjects::Subjects s, RouterOptions o,
       metrics::Registry* registry);
  ~Impl();

  // Runs `fn` on the timer thread after `delay`.
  void after(std::chrono::milliseconds delay, std::function<void()> fn);
  boost::asio::io_context timers;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
      timer_guard{timers.get_executor()};
  std::thread timer_thread;

  std::shared_ptr<nats::Connection> nats;
  subjects::Subjects subjects;
  RouterOptions options;
  TableCache cache{this};
  std::optional<nats::Subscription> events_sub;

  // Bytes and items per partition as its leader last reported them on shoal.stats.<node>
  // (every second): DescribeTable's TableSizeBytes and ItemCount add them up over the
  // table's current partitions.
  struct PartitionSize {
    std::string table_id;
    uint64_t bytes = 0;
    uint64_t items = 0;
  };
  mutable std::mutex sizes_mu;
  std::unordered_map<std::string, PartitionSize> partition_sizes;  // by partition id
  std::optional<nats::Subscription> stats_sub;
  void note_stats(const meta::v1::NodeStats& stats);
  // (bytes, items) of `t`; partitions not reported yet count 0.
  std::pair<uint64_t, uint64_t> table_size(const meta::v1::Table& t) const;
  // One partition's (bytes, items) as last reported; nullopt before its leader's first report.
  std::optional<std::pair<uint64_t, uint64_t>> partition_size(const std::string& table_id,
                                                              const std::string& pid) const;

  // SigV4 keys, fetched from metadata at start and every options.access_key_refresh.
  auth::KeyStore keys;
  std::atomic<bool> keys_loaded{false};
  void refresh_keys();
  // nullopt if the request may proceed; checked before the body is parsed in place.
  std::optional<api::ApiError> authenticate(const http::Request& request) const;

  metrics::Family<metrics::Counter>* requests = nullptr;
  metrics::Family<metrics::Histogram>* latency = nullptr;
  metrics::Family<metrics::Counter>* consumed_units = nullptr;
  void record(const std::string& op, std::string_view code, double seconds);

  // Sends a control-plane request to metadata; `done` gets the raw reply or an error.
  void meta_rpc(std::string_view op, const google::protobuf::Message& request,
                std::function<void(Result<std::string>)> done);
  // Sends an item request to the leader of the partition owning request->hash, retrying
  // on stale routes (refreshing the table from metadata) until the call's deadline. `done`
  // gets either an error or the response; data_rpc fails the call on error itself.
  using DataDone =
      std::function<void(std::optional<api::ApiError>, storage::v1::DataResponse&&)>;
  void data_call(const CallPtr& call, const std::string& table_name,
                 std::shared_ptr<storage::v1::DataRequest> request, DataDone done,
                 int attempt = 0);
  void data_rpc(const CallPtr& call, const std::string& table_name,
                std::shared_ptr<storage::v1::DataRequest> request,
                std::function<void(storage::v1::DataResponse&&)> done);

  std::string table_arn(std::string_view name) const;

  // Where each partition's leader is, as replicas last told us (falls back to metadata's
  // view). Followed on every item request; corrected by stale-route answers.
  // Nodes that just failed to answer (timeout, no responders) are suspect for a few
  // seconds: hints naming them are not followed (their peers may not have noticed yet).
  std::mutex hints_mu;
  std::unordered_map<std::string, std::string> leader_hints;  // partition id -> node id
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> suspect_until;
  bool suspect_locked(const std::string& node) const;
  std::string leader_of(const meta::v1::Partition& p);
  void note_leader(const meta::v1::Partition& p, const std::string& node);
  void node_answered(const std::string& node);
  void skip_node(const meta::v1::Partition& p, const std::string& node);
  // `node` does not host p (any more: a move or a split): guess the next replica next time.
  void not_hosted(const meta::v1::Partition& p, const std::string& node);
};

// ---- helpers shared by handlers -----------------------------------------------------------

Status status_from_proto(const common::v1::Status& s);

// Parses a metadata reply of type Resp and hands it on; transport errors and non-OK statuses
// go to `on_error` as a Status.
template <class Resp, class OnOk, class OnError>
void with_meta_reply(const Result<std::string>& reply, OnOk&& on_ok, OnError&& on_error) {
  if (!reply.ok()) return on_error(reply.status());
  Resp resp;
  if (!resp.ParseFromString(*reply)) return on_error(internal_error("unparsable metadata reply"));
  Status st = status_from_proto(resp.status());
  if (!st.is_ok()) return on_error(st);
  on_ok(resp);
}

// Serializes a JSON response built by `fill` and completes the call with it.
template <class Fill>
void reply_json(const CallPtr& call, Fill&& fill) {
  rapidjson::StringBuffer sb;
  api::JsonWriter w(sb);
  fill(w);
  call->ok(std::string(sb.GetString(), sb.GetSize()));
}

// Reads a required string member; records a constraint error if absent.
const rapidjson::Value* member(const rapidjson::Value& obj, const char* name);
std::optional<std::string> string_member(const rapidjson::Value& obj, const char* name);

// Validates TableName like DynamoDB (required, 3..255, [a-zA-Z0-9_.-]+).
void check_table_name(const rapidjson::Value& body, const char* json_name, const char* path,
                      api::errors::ConstraintErrors* errors, std::string* out);

// The key of an item or a Key parameter, validated against the table's key schema.
struct ItemKey {
  std::string pk;  // component bytes
  std::string sk;  // empty if the table has no sort key
  uint64_t hash = 0;
};
// For PutItem: key attributes must be present in the item, typed as the schema says.
std::optional<api::ApiError> key_from_item(const TableInfo& t, const item::Item& item,
                                           ItemKey* out);
// For GetItem/DeleteItem: the Key must hold exactly the key attributes.
std::optional<api::ApiError> key_from_key(const TableInfo& t, const item::Item& key,
                                          ItemKey* out);

// TableDescription JSON as DescribeTable returns it. `partitions`: also Shoal's own
// "ShoalPartitions" member (DescribeTable only; SDKs ignore members they do not model).
void write_table_description(api::JsonWriter& w, const meta::v1::Table& t,
                             const Router::Impl& router, bool partitions = false);
// Answers {"TableDescription": ...} (CreateTable, UpdateTable, DeleteTable).
void reply_table_description(const CallPtr& call, const meta::v1::Table& t,
                             const Router::Impl& router);

using Handler = void (*)(Router::Impl&, const CallPtr&);
void handle_create_table(Router::Impl&, const CallPtr&);
void handle_describe_table(Router::Impl&, const CallPtr&);
void handle_list_tables(Router::Impl&, const CallPtr&);
void handle_delete_table(Router::Impl&, const CallPtr&);
void handle_put_item(Router::Impl&, const CallPtr&);
void handle_get_item(Router::Impl&, const CallPtr&);
void handle_delete_item(Router::Impl&, const CallPtr&);
void handle_query(Router::Impl&, const CallPtr&);
void handle_scan(Router::Impl&, const CallPtr&);
void handle_batch_get_item(Router::Impl&, const CallPtr&);
void handle_batch_write_item(Router::Impl&, const CallPtr&);
void handle_update_item(Router::Impl&, const CallPtr&);

}  // namespace shoal::router

namespace shoal::router {

// ReturnValues for PutItem/DeleteItem: NONE (default) or ALL_OLD.
std::optional<api::ApiError> parse_return_old(const rapidjson::Value& body, bool* return_old);

// The key attributes of the item stored under `storage_key`, as DynamoDB JSON
// (LastEvaluatedKey); false if the key does not parse.
bool write_key_of(api::JsonWriter& w, const TableInfo& t, std::string_view storage_key);
// ExclusiveStartKey -> the storage key to continue after.
std::optional<api::ApiError> exclusive_start(const TableInfo& t, const rapidjson::Value& body,
                                             std::string* storage_key);

// Looks `table` up in the cache and calls `fn` with it if it exists and is ACTIVE; answers
// ResourceNotFoundException (or the lookup's error) otherwise.
void with_active_table(Router::Impl& r, const CallPtr& call, const std::string& table,
                       std::function<void(const TableInfoPtr&)> fn);

// A DataRequest for `op` on the partition owning `key`.
std::shared_ptr<storage::v1::DataRequest> make_data_request(storage::v1::DataOp op,
                                                            const TableInfo& t, ItemKey&& key);

// Answers {"<member>": item} from an encoded stored item, or {} when `found` is false;
// `project` (optional) keeps only the named top-level attributes.
// `extra` (optional) adds members after it, given the stored item's DynamoDB size (0 if none).
using ExtraMembers = std::function<void(api::JsonWriter&, uint64_t item_size)>;
void reply_stored_item(const CallPtr& call, bool found, const std::string& encoded,
                       const char* member,
                       const std::optional<expr::v1::Projection>* project = nullptr,
                       const ExtraMembers& extra = {});

}  // namespace shoal::router
