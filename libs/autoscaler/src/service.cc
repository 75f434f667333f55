#include "shoal/autoscaler/service.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <utility>
#include <vector>

namespace shoal::autoscaler {

namespace {

Status status_from_proto(const common::v1::Status& s) {
  if (s.code() == common::v1::CODE_OK || s.code() == common::v1::CODE_UNSPECIFIED) {
    return Status::ok();
  }
  return Status(static_cast<Code>(s.code()), s.message());
}


// refused: metadata understood and said no (the partition is busy, the table is not ACTIVE,
// the node is gone...). error: anything else, including no answer at all.
std::string_view result_of(const Status& s) {
  switch (s.code()) {
    case Code::kOk: return "ok";
    case Code::kFailedPrecondition:
    case Code::kInvalidArgument:
    case Code::kNotFound:
    case Code::kAlreadyExists:
    case Code::kResourceExhausted: return "refused";
    default: return "error";
  }
}

constexpr Kind kAllKinds[] = {Kind::kSplitSize,        Kind::kSplitHeat,
                              Kind::kMove,             Kind::kNoSplitSingleKey,
                              Kind::kNoSplitNoPoint,   Kind::kTransferLeader};

}  // namespace

// One metadata request/reply, waited for on the decision thread; stop() cuts the wait short
// (the reply, if it comes, is dropped). Transport errors, unparsable replies and non-OK
// statuses all come back as a Status.
template <class Resp>
Status AutoscalerService::meta_call(std::string_view op, const google::protobuf::Message& request,
                                    Resp* response) {
  struct Pending {
    std::optional<Result<std::string>> reply;
  };
  auto pending = std::make_shared<Pending>();
  // The callback may run after this service is gone (a reply after stop()): it holds only
  // shared state.
  nats_->request(subjects_.meta_rpc(op), request.SerializeAsString(), options_.rpc_timeout,
                 [signal = signal_, pending](Result<std::string> reply) {
                   {
                     std::lock_guard lock(signal->mu);
                     pending->reply.emplace(std::move(reply));
                   }
                   signal->cv.notify_all();
                 });
  std::unique_lock lock(signal_->mu);
  signal_->cv.wait(lock, [&] { return signal_->stopping || pending->reply.has_value(); });
  if (!pending->reply.has_value()) return unavailable("autoscaler stopping");
  Result<std::string> reply = std::move(*pending->reply);
  lock.unlock();
  if (!reply.ok()) return reply.status();
  if (!response->ParseFromString(*reply)) return internal_error("unparsable metadata reply");
  return status_from_proto(response->status());
}

struct AutoscalerService::Metrics {
  metrics::Family<metrics::Counter>* decisions = nullptr;
  metrics::Counter* stats_received = nullptr;
  metrics::Gauge* partitions_tracked = nullptr;
  metrics::Gauge* moves_in_flight = nullptr;
  metrics::Family<metrics::Gauge>* desired_nodes = nullptr;
};

AutoscalerService::AutoscalerService(std::shared_ptr<nats::Connection> nats,
                                     subjects::Subjects subjects, ServiceOptions options,
                                     metrics::Registry* registry)
    : nats_(std::move(nats)), subjects_(std::move(subjects)), options_(options),
      metrics_(std::make_unique<Metrics>()), policy_(options.policy) {
  if (registry == nullptr) return;
  auto& m = *metrics_;
  m.decisions = &metrics::BuildCounter()
                     .Name("shoal_autoscaler_decisions_total")
                     .Help("Autoscaler decisions by kind and by what metadata answered")
                     .Register(*registry);
  for (Kind k : kAllKinds) m.decisions->Add({{"kind", std::string(kind_name(k))}, {"result", "ok"}});
  m.stats_received = &metrics::BuildCounter()
                          .Name("shoal_autoscaler_stats_received_total")
                          .Help("Storage node stats messages received")
                          .Register(*registry)
                          .Add({});
  m.partitions_tracked = &metrics::BuildGauge()
                              .Name("shoal_autoscaler_partitions_tracked")
                              .Help("Partitions with a live leader stats report")
                              .Register(*registry)
                              .Add({});
  m.moves_in_flight = &metrics::BuildGauge()
                           .Name("shoal_autoscaler_moves_in_flight")
                           .Help("Replica changes under way in the catalog")
                           .Register(*registry)
                           .Add({});
  m.desired_nodes = &metrics::BuildGauge()
                         .Name("shoal_autoscaler_desired_nodes")
                         .Help("Storage nodes each zone should have for its data and load")
                         .Register(*registry);
}

AutoscalerService::~AutoscalerService() { stop(); }

int64_t AutoscalerService::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now() - epoch_)
      .count();
}

Status AutoscalerService::start() {
  auto sub = nats_->subscribe(subjects_.stats_wildcard(), "", [this](nats::MessagePtr msg) {
    meta::v1::NodeStats stats;
    if (!stats.ParseFromString(msg->data)) {
      spdlog::debug("autoscaler: unparsable stats on {}", msg->subject);
      return;
    }
    if (metrics_->stats_received) metrics_->stats_received->Increment();
    std::lock_guard lock(mu_);
    policy_.observe(stats, now_ms());
  });
  if (!sub.ok()) return sub.status();
  stats_sub_ = std::move(sub).value();
  {
    std::lock_guard lock(signal_->mu);
    signal_->stopping = false;
  }
  thread_ = std::thread([this] { loop(); });
  return Status::ok();
}

void AutoscalerService::stop() {
  {
    std::lock_guard lock(signal_->mu);
    signal_->stopping = true;
  }
  signal_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
  stats_sub_.unsubscribe();
}

bool AutoscalerService::ready() const {
  int64_t at = last_catalog_ok_ms_.load();
  return at >= 0 && now_ms() - at <= 3 * std::max<int64_t>(options_.catalog_refresh.count(),
                                                           options_.interval.count());
}

bool AutoscalerService::stopping() {
  std::lock_guard lock(signal_->mu);
  return signal_->stopping;
}

void AutoscalerService::loop() {
  std::unique_lock lock(signal_->mu);
  while (!signal_->stopping) {
    lock.unlock();
    pass();
    lock.lock();
    signal_->cv.wait_for(lock, options_.interval, [this] { return signal_->stopping; });
  }
}

Status AutoscalerService::refresh_catalog() {
  Catalog fresh;
  meta::v1::ListNodesResponse nodes;
  SHOAL_RETURN_IF_ERROR(meta_call(subjects::Subjects::kListNodes, meta::v1::ListNodesRequest{}, &nodes));
  fresh.nodes.assign(nodes.nodes().begin(), nodes.nodes().end());
  std::vector<std::string> names;
  meta::v1::ListTablesRequest list;
  for (;;) {
    meta::v1::ListTablesResponse resp;
    SHOAL_RETURN_IF_ERROR(meta_call(subjects::Subjects::kListTables, list, &resp));
    names.insert(names.end(), resp.table_names().begin(), resp.table_names().end());
    if (resp.last_evaluated_table_name().empty()) break;
    list.set_exclusive_start_table_name(resp.last_evaluated_table_name());
  }
  for (const auto& name : names) {
    meta::v1::DescribeTableRequest req;
    req.set_name(name);
    meta::v1::DescribeTableResponse resp;
    Status s = meta_call(subjects::Subjects::kDescribeTable, req, &resp);
    if (s.code() == Code::kNotFound) continue;  // deleted since it was listed
    SHOAL_RETURN_IF_ERROR(s);
    std::string id = resp.table().table_id();
    fresh.tables.emplace(std::move(id), std::move(*resp.mutable_table()));
  }
  fresh.fetched_epoch_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  catalog_ = std::move(fresh);
  return Status::ok();
}

void AutoscalerService::pass() {
  int64_t now = now_ms();
  if (catalog_at_ms_ < 0 || catalog_stale_ ||
      now - catalog_at_ms_ >= options_.catalog_refresh.count()) {
    if (Status s = refresh_catalog(); s.is_ok()) {
      catalog_at_ms_ = now;
      catalog_stale_ = false;
      last_catalog_ok_ms_ = now;
    } else {
      // Metadata restarting or electing: quiet at info level, the next pass retries.
      spdlog::debug("autoscaler: catalog refresh failed: {}", s.to_string());
    }
  }
  if (catalog_at_ms_ < 0) return;  // nothing to decide against yet

  std::vector<Decision> splits;
  std::map<std::string, int> desired;
  size_t tracked = 0;
  {
    std::lock_guard lock(mu_);
    policy_.expire(now);
    splits = policy_.plan_splits(catalog_, now);
    tracked = policy_.partitions().size();
    desired = desired_nodes(catalog_, policy_);
  }
  if (metrics_->partitions_tracked) {
    metrics_->partitions_tracked->Set(static_cast<double>(tracked));
    metrics_->moves_in_flight->Set(moves_in_flight(catalog_));
    for (const auto& [zone, n] : desired) metrics_->desired_nodes->Add({{"zone", zone}}).Set(n);
  }
  if (options_.k8s != nullptr && !desired.empty()) options_.k8s->offer(desired);
  for (const auto& d : splits) {
    if (stopping()) return;
    execute(d);
  }
  // Moves only against a catalog that shows what was just done (splits and moves accepted
  // since the last fetch are not in it yet).
  if (catalog_stale_ || now < moves_quiet_until_ms_) return;
  std::vector<Decision> moves;
  {
    std::lock_guard lock(mu_);
    moves = plan_moves(catalog_, options_.policy, &policy_);
  }
  for (const auto& d : moves) {
    // After a refused or failed move, the rest of the plan waits for the cooldown too.
    if (stopping() || now_ms() < moves_quiet_until_ms_) return;
    execute(d);
  }
  // A dry run changes nothing, so the same plan comes back: show it again only later.
  if (options_.dry_run && !moves.empty()) {
    moves_quiet_until_ms_ = now_ms() + options_.policy.cooldown_ms;
  }
  // Leaders once the replicas stay put (a move changes who may lead), and again only after a
  // cooldown, so the stats show where the leaderships went.
  if (!moves.empty() || moves_in_flight(catalog_) > 0 || now < leaders_quiet_until_ms_) return;
  std::vector<Decision> transfers;
  {
    std::lock_guard lock(mu_);
    transfers = plan_leaders(catalog_, policy_);
  }
  for (const auto& d : transfers) {
    if (stopping()) return;
    execute(d);
  }
  if (!transfers.empty()) leaders_quiet_until_ms_ = now_ms() + options_.policy.cooldown_ms;
}

void AutoscalerService::count(const Decision& d, std::string_view result) {
  if (metrics_->decisions == nullptr) return;
  metrics_->decisions->Add({{"kind", std::string(kind_name(d.kind))}, {"result", std::string(result)}})
      .Increment();
}

void AutoscalerService::execute(const Decision& d) {
  const char* dry = options_.dry_run ? " (dry run)" : "";
  switch (d.kind) {
    case Kind::kNoSplitSingleKey:
    case Kind::kNoSplitNoPoint:
      spdlog::info("autoscaler: no split of {} of {}: {}", d.partition_id, d.table_name, d.reason);
      count(d, options_.dry_run ? "dry_run" : "ok");
      return;
    case Kind::kSplitSize:
    case Kind::kSplitHeat: {
      spdlog::info("autoscaler{}: split {} of {} for {}", dry, d.partition_id, d.table_name,
                   d.reason);
      if (options_.dry_run) return count(d, "dry_run");
      meta::v1::SplitPartitionRequest req;
      req.set_table_name(d.table_name);
      req.set_partition_id(d.partition_id);
      req.set_split_hash(d.split_hash);
      req.set_reason("autoscaler: " + d.reason);
      meta::v1::SplitPartitionResponse resp;
      Status s = meta_call(subjects::Subjects::kSplitPartition, req, &resp);
      if (stopping()) return;  // cut short (or answered as we stop): not a decision's outcome
      count(d, result_of(s));
      if (s.is_ok()) {
        catalog_stale_ = true;
        spdlog::info("autoscaler: split {} of {} accepted: new partition {} from hash {}",
                     d.partition_id, d.table_name, resp.new_partition_id(), resp.split_hash());
      } else {
        spdlog::warn("autoscaler: split {} of {} {}: {}", d.partition_id, d.table_name,
                     result_of(s), s.to_string());
      }
      return;
    }
    case Kind::kMove: {
      spdlog::info("autoscaler{}: move {} of {} from {} to {}: {}", dry, d.partition_id,
                   d.table_name, d.from_node_id, d.to_node_id, d.reason);
      if (options_.dry_run) return count(d, "dry_run");
      meta::v1::MoveReplicaRequest req;
      req.set_table_name(d.table_name);
      req.set_partition_id(d.partition_id);
      req.set_from_node_id(d.from_node_id);
      req.set_to_node_id(d.to_node_id);
      req.set_reason("autoscaler: " + d.reason);
      meta::v1::MoveReplicaResponse resp;
      Status s = meta_call(subjects::Subjects::kMoveReplica, req, &resp);
      if (stopping()) return;
      count(d, result_of(s));
      // Accepted or not, the catalog may have moved on: look again before the next plan.
      catalog_stale_ = true;
      if (!s.is_ok()) {
        moves_quiet_until_ms_ = now_ms() + options_.policy.cooldown_ms;
        spdlog::warn("autoscaler: move {} of {} from {} to {} {}: {}", d.partition_id,
                     d.table_name, d.from_node_id, d.to_node_id, result_of(s), s.to_string());
      }
      return;
    }
    case Kind::kTransferLeader: {
      spdlog::info("autoscaler{}: leadership of {} of {} from {} to {}: {}", dry, d.partition_id,
                   d.table_name, d.from_node_id, d.to_node_id, d.reason);
      if (options_.dry_run) return count(d, "dry_run");
      meta::v1::TransferLeaderRequest req;
      req.set_table_name(d.table_name);
      req.set_partition_id(d.partition_id);
      req.set_to_node_id(d.to_node_id);
      req.set_reason("autoscaler: " + d.reason);
      meta::v1::TransferLeaderResponse resp;
      Status s = meta_call(subjects::Subjects::kTransferLeader, req, &resp);
      if (stopping()) return;
      count(d, result_of(s));
      if (!s.is_ok()) {
        spdlog::warn("autoscaler: leadership of {} of {} to {} {}: {}", d.partition_id,
                     d.table_name, d.to_node_id, result_of(s), s.to_string());
      }
      return;
    }
  }
}

}  // namespace shoal::autoscaler
