#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "impl.h"
#include "ops/control.h"
#include "shoal/api/protocol.h"

namespace shoal::router {

using namespace std::chrono_literals;

namespace {

// The dispatch table: X-Amz-Target operation -> handler.
const std::unordered_map<std::string_view, Handler>& dispatch_table() {
  static const std::unordered_map<std::string_view, Handler> table = {
      {"CreateTable", handle_create_table},     {"DescribeTable", handle_describe_table},
      {"ListTables", handle_list_tables},       {"DeleteTable", handle_delete_table},
      {"PutItem", handle_put_item},             {"GetItem", handle_get_item},
      {"DeleteItem", handle_delete_item},       {"Query", handle_query},
      {"Scan", handle_scan},                    {"BatchGetItem", handle_batch_get_item},
      {"BatchWriteItem", handle_batch_write_item}, {"UpdateItem", handle_update_item},
      {"UpdateTable", handle_update_table},     {"TagResource", handle_tag_resource},
      {"UntagResource", handle_untag_resource},
      {"ListTagsOfResource", handle_list_tags_of_resource},
      {"DescribeLimits", handle_describe_limits},
      {"DescribeEndpoints", handle_describe_endpoints},
  };
  return table;
}

}  // namespace

// ---- Call ------------------------------------------------------------------------------------

void Call::ok(std::string json_body) {
  if (done_.exchange(true)) return;
  http::Response r;
  r.status = 200;
  r.headers = api::response_headers(request_id_, json_body);
  r.body = std::move(json_body);
  responder_.send(std::move(r));
  router_->record(op_, "200", std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
}

void Call::fail(const api::ApiError& error) {
  if (done_.exchange(true)) return;
  http::Response r;
  r.status = error.http_status;
  r.body = error.to_json();
  r.headers = api::response_headers(request_id_, r.body);
  responder_.send(std::move(r));
  router_->record(op_.empty() ? "unknown" : op_, error.short_type(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
}

// ---- Router ----------------------------------------------------------------------------------

Router::Impl::Impl(std::shared_ptr<nats::Connection> n, subjects::Subjects s, RouterOptions o,
                   metrics::Registry* registry)
    : nats(std::move(n)), subjects(std::move(s)), options(std::move(o)) {
  timer_thread = std::thread([this] { timers.run(); });
  if (registry) {
    requests = &metrics::BuildCounter()
                    .Name("shoal_router_requests_total")
                    .Help("DynamoDB API requests by operation and result code")
                    .Register(*registry);
    latency = &metrics::BuildHistogram()
                   .Name("shoal_router_request_duration_seconds")
                   .Help("DynamoDB API request latency seen by the router")
                   .Register(*registry);
    consumed_units = &metrics::BuildCounter()
                          .Name("shoal_router_consumed_capacity_units_total")
                          .Help("Read and write capacity units consumed, by table (counted "
                                "whether or not the request asked for ConsumedCapacity)")
                          .Register(*registry);
  }
}

void Router::Impl::record(const std::string& op, std::string_view code, double seconds) {
  if (!requests) return;
  requests->Add({{"op", op}, {"code", std::string(code)}}).Increment();
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,   0.25,   0.5,   1,    2.5};
  latency->Add({{"op", op}}, kBuckets).Observe(seconds);
}

std::string Router::Impl::table_arn(std::string_view name) const {
  return "arn:aws:dynamodb:" + options.region + ":" + options.account_id + ":table/" +
         std::string(name);
}

void Router::Impl::meta_rpc(std::string_view op, const google::protobuf::Message& request,
                            std::function<void(Result<std::string>)> done) {
  nats->request(subjects.meta_rpc(op), request.SerializeAsString(), options.rpc_timeout,
                std::move(done));
}

void Router::Impl::data_rpc(const CallPtr& call, const std::string& table_name,
                            std::shared_ptr<storage::v1::DataRequest> request,
                            std::function<void(storage::v1::DataResponse&&)> done) {
  data_call(call, table_name, std::move(request),
            [call, done = std::move(done)](std::optional<api::ApiError> error,
                                           storage::v1::DataResponse&& resp) {
              if (error) return call->fail(*error);
              done(std::move(resp));
            });
}

bool Router::Impl::suspect_locked(const std::string& node) const {
  auto it = suspect_until.find(node);
  return it != suspect_until.end() && std::chrono::steady_clock::now() < it->second;
}

std::string Router::Impl::leader_of(const meta::v1::Partition& p) {
  std::lock_guard lock(hints_mu);
  std::string guess;
  const auto& ids = p.replica_node_ids();
  auto it = leader_hints.find(p.partition_id());
  // A hint about a node that is not a member any more (the replica moved) is forgotten.
  if (it != leader_hints.end() && std::find(ids.begin(), ids.end(), it->second) == ids.end()) {
    leader_hints.erase(it);
    it = leader_hints.end();
  }
  if (it != leader_hints.end()) {
    guess = it->second;
  } else if (!p.leader_node_id().empty()) {
    guess = p.leader_node_id();
  } else if (p.replica_node_ids_size()) {
    guess = p.replica_node_ids(0);
  }
  if (!suspect_locked(guess)) return guess;
  // The likely leader is not answering: ask a replica that is (it redirects or is elected).
  for (const auto& n : p.replica_node_ids()) {
    if (!suspect_locked(n)) return n;
  }
  return guess;
}

void Router::Impl::note_leader(const meta::v1::Partition& p, const std::string& node) {
  const auto& ids = p.replica_node_ids();
  if (std::find(ids.begin(), ids.end(), node) == ids.end()) return;  // stale hint
  std::lock_guard lock(hints_mu);
  leader_hints[p.partition_id()] = node;
}

void Router::Impl::node_answered(const std::string& node) {
  std::lock_guard lock(hints_mu);
  if (!suspect_until.empty()) suspect_until.erase(node);
}

void Router::Impl::skip_node(const meta::v1::Partition& p, const std::string& node) {
  std::lock_guard lock(hints_mu);
  suspect_until[node] = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  // Guess the next replica; it knows the leader if it is not it.
  const auto& ids = p.replica_node_ids();
  auto it = std::find(ids.begin(), ids.end(), node);
  if (it == ids.end() || ids.size() < 2) return;
  ++it;
  if (it == ids.end()) it = ids.begin();
  leader_hints[p.partition_id()] = *it;
}

void Router::Impl::not_hosted(const meta::v1::Partition& p, const std::string& node) {
  std::lock_guard lock(hints_mu);
  const auto& ids = p.replica_node_ids();
  auto it = std::find(ids.begin(), ids.end(), node);
  if (it == ids.end() || ids.size() < 2) {
    leader_hints.erase(p.partition_id());
    return;
  }
  ++it;
  if (it == ids.end()) it = ids.begin();
  leader_hints[p.partition_id()] = *it;
}

void Router::Impl::data_call(const CallPtr& call, const std::string& table_name,
                             std::shared_ptr<storage::v1::DataRequest> request, DataDone done,
                             int attempt) {
  cache.get(table_name, [this, call, table_name, request, done = std::move(done),
                         attempt](Result<TableInfoPtr> table) mutable {
    storage::v1::DataResponse none;
    if (!table.ok()) {
      if (table.status().code() == Code::kNotFound) {
        return done(api::errors::resource_not_found(), std::move(none));
      }
      return done(api::errors::from_status(table.status()), std::move(none));
    }
    TableInfoPtr info = *table;
    const TableInfo& t = *info;
    if (!t.active() || (!request->table_id().empty() && t.table.table_id() != request->table_id())) {
      return done(api::errors::resource_not_found(), std::move(none));
    }
    request->set_table_id(t.table.table_id());
    const auto* p = t.partition_for(request->hash());
    if (!p || p->replica_node_ids_size() == 0) {
      return done(api::errors::from_status(unavailable("no partition for hash")), std::move(none));
    }
    request->set_partition_id(p->partition_id());
    request->set_map_epoch(t.table.map_epoch());
    const auto op = request->op();
    const bool is_write = op == storage::v1::DATA_OP_PUT || op == storage::v1::DATA_OP_DELETE ||
                          op == storage::v1::DATA_OP_UPDATE;
    // Eventually consistent reads may go to the replica in the router's own zone.
    std::string target;
    if (!is_write && !request->consistent_read() && options.follower_reads && !options.zone.empty()) {
      for (int i = 0; i < p->replica_zones_size() && i < p->replica_node_ids_size(); ++i) {
        if (p->replica_zones(i) == options.zone) target = p->replica_node_ids(i);
      }
    }
    request->set_any_replica(!target.empty() && attempt == 0);
    if (target.empty() || attempt > 0) target = leader_of(*p);

    // `refresh`: the map may have moved (range not owned): ask metadata again.
    auto retry = [this, call, table_name, request, done, attempt](const Status& why,
                                                                 bool refresh) mutable {
      if (refresh) cache.invalidate(table_name);
      if (call->past_deadline()) {
        return done(api::errors::from_status(why), storage::v1::DataResponse());
      }
      if (attempt == 0) return data_call(call, table_name, request, std::move(done), 1);
      // Back off so an election or a restarting node has time to settle; the timer thread
      // waits, never a NATS or HTTP thread.
      auto delay = std::chrono::milliseconds(std::min(5 << std::min(attempt, 6), 100));
      after(delay, [this, call, table_name, request, done, attempt]() mutable {
        data_call(call, table_name, request, std::move(done), attempt + 1);
      });
    };
    nats->request(
        subjects.node_data(target), request->SerializeAsString(), options.rpc_timeout,
        [this, info, p, target, is_write, done, retry](Result<std::string> reply) mutable {
          if (!reply.ok()) {
            if (reply.status().code() == Code::kDeadlineExceeded && is_write) {
              // The write may or may not have been applied: only the client can decide
              // whether to retry (a conditional write would otherwise fail on its own
              // effect). DynamoDB answers such cases with a 500 too. The node may be cut
              // off: the next request tries another replica.
              skip_node(*p, target);
              return done(api::errors::internal_server_error("write outcome unknown: " +
                                                             reply.status().message()),
                          storage::v1::DataResponse());
            }
            // No responders (the node is down) or a read timed out: try another replica.
            skip_node(*p, target);
            return retry(reply.status(), false);
          }
          node_answered(target);
          storage::v1::DataResponse resp;
          if (!resp.ParseFromString(*reply)) {
            return done(api::errors::internal_server_error("bad storage reply"), std::move(resp));
          }
          Status st = status_from_proto(resp.status());
          if (st.code() == Code::kStaleRoute) {
            // Not the leader (nothing was applied): follow its hint, or wait for the election.
            if (!resp.leader_node_id().empty()) note_leader(*p, resp.leader_node_id());
            // The map moved: the range went to a split's child, or the replica to another node.
            const bool range_moved = resp.leader_node_id().empty() &&
                                     st.message().starts_with("key range not owned");
            const bool replica_moved = resp.leader_node_id().empty() &&
                                       st.message().find(" not on node ") != std::string::npos;
            if (replica_moved) not_hosted(*p, target);
            return retry(st, range_moved || replica_moved);
          }
          if (st.code() == Code::kUnavailable) return retry(st, false);
          if (!st.is_ok()) return done(api::errors::from_status(st), std::move(resp));
          done(std::nullopt, std::move(resp));
        });
  });
}

void Router::Impl::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<boost::asio::steady_timer>(timers, delay);
  timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec) fn();
  });
}

Router::Impl::~Impl() {
  timer_guard.reset();
  timers.stop();
  if (timer_thread.joinable()) timer_thread.join();
}

Router::Router(std::shared_ptr<nats::Connection> nats, subjects::Subjects subjects,
               RouterOptions options, metrics::Registry* registry)
    : impl_(std::make_shared<Impl>(std::move(nats), std::move(subjects), std::move(options),
                                   registry)) {}

Router::~Router() = default;

void Router::Impl::refresh_keys() {
  meta_rpc(subjects::Subjects::kListAccessKeys, meta::v1::ListAccessKeysRequest(),
           [this](Result<std::string> reply) {
             meta::v1::ListAccessKeysResponse resp;
             bool ok = reply.ok() && resp.ParseFromString(*reply) &&
                       resp.status().code() == common::v1::CODE_OK;
             if (ok) {
               std::vector<auth::Credentials> creds;
               for (const auto& k : resp.keys()) {
                 creds.push_back({k.access_key_id(), k.secret_access_key()});
               }
               keys.replace(std::move(creds));
               if (!keys_loaded.exchange(true)) {
                 spdlog::info("router: {} access keys loaded from metadata", resp.keys_size());
               }
             }
             // Until the first answer, retry soon; then refresh at the configured pace.
             auto next = ok || keys_loaded ? std::chrono::milliseconds(options.access_key_refresh)
                                           : std::chrono::milliseconds(500);
             after(next, [this] { refresh_keys(); });
           });
}

std::optional<api::ApiError> Router::Impl::authenticate(const http::Request& request) const {
  auth::VerifyOptions opts;
  opts.accept_any = options.accept_any_credentials;
  // Any region in the credential scope is accepted (one endpoint serves the fleet, as with
  // DynamoDB Local); the signature itself still covers it.
  auto error = auth::verify(request, keys, opts, std::chrono::system_clock::now());
  // Keys not fetched yet: an unknown key is not the client's fault.
  if (error && !opts.accept_any && !keys_loaded && error->short_type() ==
                                                       "UnrecognizedClientException") {
    return api::errors::service_unavailable();
  }
  return error;
}

bool Router::ready() const {
  return impl_->options.accept_any_credentials || impl_->keys_loaded.load();
}

Status Router::start() {
  auto* impl = impl_.get();
  if (!impl->options.accept_any_credentials) impl->refresh_keys();
  auto sub = impl->nats->subscribe(impl->subjects.meta_events(), "", [impl](nats::MessagePtr m) {
    meta::v1::Event e;
    if (!e.ParseFromString(m->data)) return;
    impl->cache.invalidate(e.table_name());
  });
  if (!sub.ok()) return sub.status();
  impl->events_sub.emplace(std::move(sub).value());
  auto stats = impl->nats->subscribe(impl->subjects.stats_wildcard(), "", [impl](nats::MessagePtr m) {
    meta::v1::NodeStats s;
    if (s.ParseFromString(m->data)) impl->note_stats(s);
  });
  if (!stats.ok()) return stats.status();
  impl->stats_sub.emplace(std::move(stats).value());
  return Status::ok();
}

void Router::Impl::note_stats(const meta::v1::NodeStats& stats) {
  std::lock_guard lock(sizes_mu);
  for (const auto& p : stats.partitions()) {
    if (!p.leader()) continue;
    auto& s = partition_sizes[p.partition_id()];
    s.table_id = p.table_id();
    s.bytes = p.size_bytes();
    s.items = p.item_count();
  }
}

std::optional<std::pair<uint64_t, uint64_t>> Router::Impl::partition_size(
    const std::string& table_id, const std::string& pid) const {
  std::lock_guard lock(sizes_mu);
  auto it = partition_sizes.find(pid);
  if (it == partition_sizes.end() || it->second.table_id != table_id) return std::nullopt;
  return std::make_pair(it->second.bytes, it->second.items);
}

std::pair<uint64_t, uint64_t> Router::Impl::table_size(const meta::v1::Table& t) const {
  uint64_t bytes = 0, items = 0;
  std::lock_guard lock(sizes_mu);
  for (const auto& p : t.partitions()) {
    auto it = partition_sizes.find(p.partition_id());
    if (it == partition_sizes.end() || it->second.table_id != t.table_id()) continue;
    bytes += it->second.bytes;
    items += it->second.items;
  }
  return {bytes, items};
}

void Router::handle(http::Request&& request, http::Responder responder) {
  if (request.method == "GET") {
    // AWS answers a plain GET with a health line; load balancers and `make run` use it.
    http::Response r;
    r.status = 200;
    r.body = "healthy: shoal ";
    r.headers = {{"Content-Type", "text/plain"}};
    return responder.send(std::move(r));
  }
  auto deadline = std::chrono::steady_clock::now() + impl_->options.request_timeout;
  std::string_view op = api::operation_from_target(request.header("x-amz-target"));
  auto call = std::make_shared<Call>(std::move(responder), std::string(op),
                                     api::new_request_id(), deadline, impl_.get());
  // Order as DynamoDB checks: body must be JSON, then the target must exist, then auth.
  // The signature covers the body, which is then parsed in place: verify first, report in
  // that order.
  auto auth_error = impl_->authenticate(request);
  call->host = std::string(request.header("host"));
  call->raw = std::move(request.body);
  if (call->raw.empty() || call->body.ParseInsitu(call->raw.data()).HasParseError() ||
      !call->body.IsObject()) {
    return call->fail(api::errors::serialization());
  }
  const auto& table = dispatch_table();
  auto it = op.empty() ? table.end() : table.find(op);
  if (it == table.end()) return call->fail(api::errors::unknown_operation());
  if (auth_error) return call->fail(*auth_error);
  it->second(*impl_, call);
}

}  // namespace shoal::router
