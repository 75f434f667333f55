#include "shoal/metadata/service.h"
#include "rpc_util.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <set>

#include "catalog_raft.h"
#include "shoal/storage/v1/storage.pb.h"

namespace shoal::metadata {

using namespace std::chrono_literals;

namespace {

constexpr int kMaxTags = 50;
constexpr int64_t kDayMs = 24 * 3600 * 1000;

// Every response message has its Status in field 1: this encodes an error reply of any op.
std::string status_reply(const Status& s) {
  meta::v1::HeartbeatResponse r;
  set_status(r.mutable_status(), s);
  return r.SerializeAsString();
}

}  // namespace

MetadataService::MetadataService(std::shared_ptr<nats::Connection> nats,
                                 subjects::Subjects subjects, MetadataOptions options,
                                 metrics::Registry* registry)
    : nats_(std::move(nats)), subjects_(std::move(subjects)), options_(std::move(options)) {
  if (registry) {
    tables_gauge_ = &metrics::BuildGauge()
                         .Name("shoal_metadata_tables")
                         .Help("Tables in the catalog by status")
                         .Register(*registry);
    nodes_gauge_ = &metrics::BuildGauge()
                        .Name("shoal_metadata_nodes")
                        .Help("Registered storage nodes by zone and liveness")
                        .Register(*registry);
    nodes_alive_gauge_ = &metrics::BuildGauge()
                              .Name("shoal_metadata_nodes_alive")
                              .Help("Storage nodes that sent a heartbeat within the node timeout "
                                    "(serving leader only)")
                              .Register(*registry);
    partitions_gauge_ = &metrics::BuildGauge()
                             .Name("shoal_metadata_partitions")
                             .Help("Partitions of each table in the catalog (serving leader only)")
                             .Register(*registry);
    provisioned_gauge_ =
        &metrics::BuildGauge()
             .Name("shoal_metadata_table_provisioned_capacity_units")
             .Help("Provisioned read and write capacity units of each table, 0 for "
                   "PAY_PER_REQUEST (serving leader only)")
             .Register(*registry);
    table_info_gauge_ =
        &metrics::BuildGauge()
             .Name("shoal_metadata_table_info")
             .Help("1 per table: its name, its table_id (the label storage series carry) and "
                   "billing mode, for joins by table name (serving leader only)")
             .Register(*registry);
    leader_gauge_ = &metrics::BuildGauge()
                         .Name("shoal_metadata_raft_leader")
                         .Help("1 on the metadata replica that leads the catalog Raft group")
                         .Register(*registry);
    splits_counter_ = &metrics::BuildCounter()
                           .Name("shoal_metadata_splits_total")
                           .Help("Partition splits completed (catalog updated) by this replica "
                                 "as leader")
                           .Register(*registry)
                           .Add({});
    reopened_counter_ = &metrics::BuildCounter()
                             .Name("shoal_metadata_replicas_reopened_total")
                             .Help("Replicas re-created on a live member whose heartbeats "
                                   "left them out (by this replica as leader)")
                             .Register(*registry)
                             .Add({});
    transfers_counter_ = &metrics::BuildCounter()
                              .Name("shoal_metadata_leader_transfers_total")
                              .Help("Partition leadership transfers asked of storage nodes by "
                                    "this replica as leader, by outcome (ok, failed)")
                              .Register(*registry);
    for (const char* outcome : {"ok", "failed"}) transfers_counter_->Add({{"outcome", outcome}});
  }
}

MetadataService::~MetadataService() {
  stop();
  if (leader_gauge_) leader_gauge_->RemoveCallback({});  // it reads raft_
}

Status MetadataService::start() {
  if (options_.peers.empty()) options_.peers = {options_.id};
  const auto& peers = options_.peers;
  if (std::find(peers.begin(), peers.end(), options_.id) == peers.end()) {
    return invalid_argument("metadata id " + options_.id + " is not among its peers");
  }
  auto st = store::Store::open(store::StoreOptions{.path = options_.data_dir});
  if (!st.ok()) return st.status();
  store_ = std::move(st).value();
  raft_ = std::make_unique<CatalogRaft>(
      nats_, subjects_, store_.get(),
      CatalogRaftOptions{.id = options_.id,
                         .peers = options_.peers,
                         .tick = options_.raft_tick,
                         .election_ticks = options_.election_ticks,
                         .compact_after = options_.raft_compact_after});
  SHOAL_RETURN_IF_ERROR(raft_->start());
  if (leader_gauge_) {
    leader_gauge_->AddCallback({}, [r = raft_.get()] { return r->status().leader ? 1.0 : 0.0; });
  }

  auto sub = nats_->subscribe(subjects_.meta_rpc_wildcard(), subjects_.meta_queue(),
                              [this](nats::MessagePtr m) { on_rpc(std::move(m), false); });
  if (!sub.ok()) return sub.status();
  rpc_sub_.emplace(std::move(sub).value());
  sub = nats_->subscribe(subjects_.meta_replica_rpc_wildcard(options_.id), "",
                         [this](nats::MessagePtr m) { on_rpc(std::move(m), true); });
  if (!sub.ok()) return sub.status();
  fwd_sub_.emplace(std::move(sub).value());
  reconciler_ = std::thread([this] { reconcile_loop(); });
  if (options_.peers.size() == 1) {
    // A group of one elects itself at once: be serving before saying ready.
    raft_->wait_status([](const RaftStatus& s) { return s.serving; }, 5s);
  }
  spdlog::info("metadata {}: started, peers {}", options_.id, fmt::join(options_.peers, ","));
  ready_ = true;
  return Status::ok();
}

void MetadataService::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  ready_ = false;
  kick_.notify_all();
  rpc_sub_.reset();
  fwd_sub_.reset();
  // Requests already being handled finish (a proposal resolves or times out).
  for (int i = 0; active_rpcs_.load() > 0 && i < 1000; ++i) std::this_thread::sleep_for(10ms);
  if (reconciler_.joinable()) reconciler_.join();
  {
    std::lock_guard lock(mu_);
    update_gauges_locked(/*serving=*/false);  // a stopped replica serves no catalog
  }
  if (raft_) raft_->stop();
}

bool MetadataService::serving() const { return raft_ && raft_->status().serving; }
std::string MetadataService::leader_id() const { return raft_ ? raft_->status().leader_id : ""; }
uint64_t MetadataService::applied_index() const { return raft_ ? raft_->status().applied : 0; }
uint64_t MetadataService::raft_log_first_index() const {
  return raft_ ? raft_->log_first_index() : 0;
}
std::map<std::string, meta::v1::Table> MetadataService::applied_catalog() const {
  std::map<std::string, meta::v1::Table> out;
  uint64_t seq = 0;
  if (raft_) raft_->copy_catalog(&out, &seq);
  return out;
}
std::set<std::string> MetadataService::applied_draining() const {
  std::map<std::string, meta::v1::Table> tables;
  std::set<std::string> out;
  uint64_t seq = 0;
  if (raft_) raft_->copy_catalog(&tables, &seq, &out);
  return out;
}

void MetadataService::on_rpc(nats::MessagePtr msg, bool forwarded) {
  ++active_rpcs_;
  std::string_view op = forwarded ? subjects_.meta_replica_op(options_.id, msg->subject)
                                  : subjects_.meta_op(msg->subject);
  dispatch(op, msg, forwarded);
  --active_rpcs_;
}

void MetadataService::dispatch(std::string_view op, const nats::MessagePtr& msg,
                               bool forwarded) {
  auto answer = [&](const std::string& reply) {
    if (msg->reply.empty()) return;
    auto s = nats_->respond(*msg, reply);
    if (!s.is_ok()) spdlog::warn("metadata: reply failed: {}", s.to_string());
  };
  if (op == subjects::Subjects::kListAccessKeys) return answer(list_access_keys());
  // Wait a little for a leader that serves (an election takes about a second).
  RaftStatus st = raft_->wait_status(
      [](const RaftStatus& s) { return s.serving || (!s.leader && !s.leader_id.empty()); }, 1s);
  if (!st.leader) {
    if (st.leader_id.empty() || st.leader_id == options_.id || forwarded) {
      return answer(status_reply(unavailable("no metadata leader")));
    }
    if (op == subjects::Subjects::kHeartbeat) {
      // Soft state for a later leadership of ours: which nodes exist, in which zone.
      meta::v1::HeartbeatRequest req;
      if (req.ParseFromString(msg->data) && !req.node().node_id().empty()) {
        std::lock_guard lock(mu_);
        note_node_locked(req.node());
      }
    }
    auto to = subjects_.meta_replica_rpc(st.leader_id, op);
    auto s = msg->reply.empty() ? nats_->publish(to, msg->data)
                                : nats_->publish_request(to, msg->reply, msg->data);
    if (!s.is_ok()) answer(status_reply(unavailable("forwarding to the metadata leader failed")));
    return;
  }
  std::string reply;
  if (op == subjects::Subjects::kCreateTable) reply = create_table(msg->data);
  else if (op == subjects::Subjects::kDescribeTable) reply = describe_table(msg->data);
  else if (op == subjects::Subjects::kListTables) reply = list_tables(msg->data);
  else if (op == subjects::Subjects::kDeleteTable) reply = delete_table(msg->data);
  else if (op == subjects::Subjects::kUpdateTable) reply = update_table(msg->data);
  else if (op == subjects::Subjects::kTagResource) reply = tag_resource(msg->data);
  else if (op == subjects::Subjects::kUntagResource) reply = untag_resource(msg->data);
  else if (op == subjects::Subjects::kListTagsOfResource) reply = list_tags_of_resource(msg->data);
  else if (op == subjects::Subjects::kHeartbeat) reply = heartbeat(msg->data);
  else if (op == subjects::Subjects::kListNodes) reply = list_nodes(msg->data);
  else if (op == subjects::Subjects::kSplitPartition) reply = split_partition(msg->data);
  else if (op == subjects::Subjects::kMoveReplica) reply = move_replica(msg->data);
  else if (op == subjects::Subjects::kDrainNode) reply = drain_node(msg->data);
  else if (op == subjects::Subjects::kTransferLeader) reply = transfer_leader(msg->data);
  else if (op == subjects::Subjects::kPinPartition) reply = pin_partition(msg->data);
  else {
    spdlog::warn("metadata: unknown rpc {}", msg->subject);
    return;
  }
  answer(reply);
}

Status MetadataService::serve_locked(bool read) {
  if (stopping_) return unavailable("metadata stopping");
  RaftStatus st = raft_->status();
  if (!st.leader) {
    return unavailable("not the metadata leader (leader " +
                       (st.leader_id.empty() ? std::string("unknown") : st.leader_id) + ")");
  }
  // Reads are served locally, so only while no other replica can have been elected.
  if (read && !st.lease) return unavailable("metadata leader without a read lease");
  if (tables_term_ == st.term) return Status::ok();
  if (!st.serving) return unavailable("metadata leader is catching up");
  // Start serving this term from the applied catalog. Only this leader proposes in its term,
  // and only under mu_ (held): nothing moves the applied catalog meanwhile.
  raft_->copy_catalog(&tables_, &table_seq_, &draining_);
  tables_term_ = st.term;
  leader_since_ = std::chrono::steady_clock::now();
  heard_.clear();
  missing_.clear();  // what heartbeats said under an earlier leadership may be stale
  // No heartbeat history yet: every node we know of counts as heard now.
  const int64_t now = now_ms();
  for (const auto& [_, t] : tables_) {
    for (const auto& p : t.partitions()) {
      for (int i = 0; i < p.replica_node_ids_size(); ++i) {
        auto& n = nodes_[p.replica_node_ids(i)];
        if (n.node_id().empty()) {
          n.set_node_id(p.replica_node_ids(i));
          if (i < p.replica_zones_size()) n.set_zone(p.replica_zones(i));
        }
      }
      if (!p.change().new_node_id().empty()) {
        auto& n = nodes_[p.change().new_node_id()];
        if (n.node_id().empty()) {
          n.set_node_id(p.change().new_node_id());
          n.set_zone(p.change().zone());
        }
      }
    }
  }
  for (auto& [_, n] : nodes_) {
    n.set_last_heartbeat_epoch_ms(std::max(n.last_heartbeat_epoch_ms(), now));
  }
  kicked_ = true;
  kick_.notify_all();
  spdlog::info("metadata {}: leading term {} with {} tables, {} known nodes", options_.id,
               st.term, tables_.size(), nodes_.size());
  return Status::ok();
}

Status MetadataService::commit_locked(const meta::v1::CatalogWrite& w) {
  RaftStatus st = raft_->status();
  if (!st.leader || st.term != tables_term_) {
    tables_term_ = 0;
    return unavailable("metadata leadership lost");
  }
  Status s = raft_->propose(w, options_.propose_timeout);
  // Unknown outcome: serve again only from the applied catalog.
  if (!s.is_ok()) tables_term_ = 0;
  return s;
}

void MetadataService::note_node_locked(const meta::v1::Node& node) {
  auto& n = nodes_[node.node_id()];
  int64_t last = n.last_heartbeat_epoch_ms();
  n = node;
  n.set_last_heartbeat_epoch_ms(std::max(last, now_ms()));
}

std::string MetadataService::next_table_id_locked() {
  // Unique across restarts (sequence persisted with the table) and across re-creations of a
  // name, so a storage node never confuses an old table's replica with a new one.
  thread_local std::mt19937_64 rng(std::random_device{}());
  ++table_seq_;
  char buf[40];
  std::snprintf(buf, sizeof buf, "t%06llu-%08llx", static_cast<unsigned long long>(table_seq_),
                static_cast<unsigned long long>(rng() & 0xffffffffULL));
  return buf;
}

std::vector<meta::v1::Node> MetadataService::live_nodes_locked(int64_t now) const {
  std::vector<meta::v1::Node> out;
  for (const auto& [id, n] : nodes_) {
    // Only nodes that heartbeated this leader: the others' liveness is assumed, not known.
    if (heard_.count(id) && now - n.last_heartbeat_epoch_ms() <= options_.node_timeout.count()) {
      out.push_back(n);
    }
  }
  return out;
}

Status MetadataService::place_partitions_locked(meta::v1::Table* t, int count, int64_t now) {
  auto live = live_nodes_locked(now);
  // Draining nodes get nothing new (unless nothing else could hold the replicas).
  std::vector<meta::v1::Node> open;
  for (const auto& n : live) {
    if (!draining_.count(n.node_id())) open.push_back(n);
  }
  std::set<std::string> open_zones;
  for (const auto& n : open) open_zones.insert(n.zone());
  if (static_cast<int>(open_zones.size()) >= options_.replication_factor) live = std::move(open);
  std::set<std::string> zones;
  for (const auto& n : live) zones.insert(n.zone());
  int rf = options_.replication_factor;
  if (live.empty() || static_cast<int>(zones.size()) < rf) {
    return unavailable("not enough live storage nodes in distinct zones for " +
                       std::to_string(rf) + " replicas");
  }
  // Current load per node: replicas of every table in the catalog.
  std::map<std::string, int> load;
  std::map<std::string, int> leads;  // designated first leaders, to spread leadership
  for (const auto& n : live) load[n.node_id()] = 0;
  for (const auto& [_, other] : tables_)
    for (const auto& p : other.partitions()) {
      for (const auto& r : p.replica_node_ids())
        if (load.count(r)) ++load[r];
      if (p.replica_node_ids_size()) ++leads[p.replica_node_ids(0)];
    }

  const unsigned __int128 space = static_cast<unsigned __int128>(1) << 64;
  for (int i = 0; i < count; ++i) {
    auto* p = t->add_partitions();
    p->set_partition_id(t->table_id() + "." + std::to_string(i));
    p->set_hash_lo(static_cast<uint64_t>(space * i / count));
    p->set_hash_hi(static_cast<uint64_t>(space * (i + 1) / count - 1));
    // Least-loaded nodes first, one replica per zone.
    std::vector<const meta::v1::Node*> order;
    for (const auto& n : live) order.push_back(&n);
    std::stable_sort(order.begin(), order.end(), [&](const auto* a, const auto* b) {
      if (load[a->node_id()] != load[b->node_id()]) return load[a->node_id()] < load[b->node_id()];
      return a->node_id() < b->node_id();
    });
    std::set<std::string> used_zones;
    for (const auto* n : order) {
      if (p->replica_node_ids_size() == rf) break;
      if (!used_zones.insert(n->zone()).second) continue;
      p->add_replica_node_ids(n->node_id());
      p->add_replica_raft_ids(static_cast<uint64_t>(p->replica_node_ids_size()));
      p->add_replica_zones(n->zone());
      ++load[n->node_id()];
    }
    // Replica 0 is the designated first leader: the member that leads the fewest.
    int first = 0;
    for (int j = 1; j < p->replica_node_ids_size(); ++j) {
      if (leads[p->replica_node_ids(j)] < leads[p->replica_node_ids(first)]) first = j;
    }
    if (first != 0) {
      p->mutable_replica_node_ids()->SwapElements(0, first);
      p->mutable_replica_raft_ids()->SwapElements(0, first);
      p->mutable_replica_zones()->SwapElements(0, first);
    }
    ++leads[p->replica_node_ids(0)];
    p->set_leader_node_id(p->replica_node_ids(0));
  }
  return Status::ok();
}

// Replicated through Raft: returns once the change is committed and applied here (mu_ held).
Status MetadataService::persist_table(const meta::v1::Table& t) {
  meta::v1::CatalogWrite w;
  *w.add_put() = t;
  w.set_table_seq(table_seq_);
  return commit_locked(w);
}

Status MetadataService::erase_table(const std::string& name) {
  meta::v1::CatalogWrite w;
  w.add_erase(name);
  w.set_table_seq(table_seq_);
  return commit_locked(w);
}

void MetadataService::publish_event(meta::v1::EventType type, const meta::v1::Table& t) {
  meta::v1::Event e;
  e.set_type(type);
  e.set_table_name(t.name());
  e.set_table_id(t.table_id());
  e.set_map_epoch(t.map_epoch());
  auto s = nats_->publish(subjects_.meta_events(), e.SerializeAsString());
  if (!s.is_ok()) spdlog::warn("metadata: event publish failed: {}", s.to_string());
}

std::string MetadataService::create_table(const std::string& payload) {
  meta::v1::CreateTableRequest req;
  if (!req.ParseFromString(payload)) {
    return error_reply<meta::v1::CreateTableResponse>(invalid_argument("unparsable request"));
  }
  meta::v1::CreateTableResponse resp;
  {
    std::lock_guard lock(mu_);
    if (auto s = serve_locked(); !s.is_ok()) return error_reply<meta::v1::CreateTableResponse>(s);
    const auto& name = req.table().name();
    if (tables_.count(name)) {
      return error_reply<meta::v1::CreateTableResponse>(already_exists(name));
    }
    meta::v1::Table t = req.table();
    int64_t now = now_ms();
    const uint64_t seq_before = table_seq_;
    t.set_table_id(next_table_id_locked());
    t.set_status(meta::v1::TABLE_STATUS_CREATING);
    t.set_creation_epoch_ms(now);
    if (t.billing_mode() == meta::v1::BILLING_MODE_PAY_PER_REQUEST) {
      t.set_billing_mode_last_update_epoch_ms(now);
    }
    t.set_map_epoch(1);
    int count = req.partition_count() > 0 ? req.partition_count() : options_.default_partitions;
    if (auto s = place_partitions_locked(&t, count, now); !s.is_ok()) {
      table_seq_ = seq_before;  // nothing was written
      return error_reply<meta::v1::CreateTableResponse>(s);
    }
    if (auto s = persist_table(t); !s.is_ok()) {
      return error_reply<meta::v1::CreateTableResponse>(s);
    }
    spdlog::info("metadata: table {} ({}) CREATING with {} partitions", t.name(), t.table_id(),
                 t.partitions_size());
    *resp.mutable_table() = t;
    tables_[name] = std::move(t);
    kicked_ = true;
  }
  kick_.notify_all();
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

std::string MetadataService::describe_table(const std::string& payload) {
  meta::v1::DescribeTableRequest req;
  if (!req.ParseFromString(payload)) {
    return error_reply<meta::v1::DescribeTableResponse>(invalid_argument("unparsable request"));
  }
  meta::v1::DescribeTableResponse resp;
  {
    std::lock_guard lock(mu_);
    if (auto s = serve_locked(/*read=*/true); !s.is_ok()) {
      return error_reply<meta::v1::DescribeTableResponse>(s);
    }
    auto it = tables_.find(req.name());
    if (it == tables_.end()) {
      return error_reply<meta::v1::DescribeTableResponse>(not_found(req.name()));
    }
    *resp.mutable_table() = it->second;
  }
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

std::string MetadataService::list_tables(const std::string& payload) {
  meta::v1::ListTablesRequest req;
  if (!req.ParseFromString(payload)) {
    return error_reply<meta::v1::ListTablesResponse>(invalid_argument("unparsable request"));
  }
  int limit = req.limit() > 0 ? req.limit() : 100;
  meta::v1::ListTablesResponse resp;
  {
    std::lock_guard lock(mu_);
    if (auto s = serve_locked(/*read=*/true); !s.is_ok()) {
      return error_reply<meta::v1::ListTablesResponse>(s);
    }
    auto it = req.exclusive_start_table_name().empty()
                  ? tables_.begin()
                  : tables_.upper_bound(req.exclusive_start_table_name());
    for (; it != tables_.end() && resp.table_names_size() < limit; ++it) {
      resp.add_table_names(it->first);
    }
    if (it != tables_.end() && resp.table_names_size() == limit) {
      resp.set_last_evaluated_table_name(resp.table_names(limit - 1));
    }
  }
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

std::string MetadataService::delete_table(const std::string& payload) {
  meta::v1::DeleteTableRequest req;
  if (!req.ParseFromString(payload)) {
    return error_reply<meta::v1::DeleteTableResponse>(invalid_argument("unparsable request"));
  }
  meta::v1::DeleteTableResponse resp;
  {
    std::lock_guard lock(mu_);
    if (auto s = serve_locked(); !s.is_ok()) return error_reply<meta::v1::DeleteTableResponse>(s);
    auto it = tables_.find(req.name());
    if (it == tables_.end()) return error_reply<meta::v1::DeleteTableResponse>(not_found(req.name()));
    auto& t = it->second;
    if (t.status() == meta::v1::TABLE_STATUS_CREATING) {
      return error_reply<meta::v1::DeleteTableResponse>(failed_precondition("created"));
    }
    if (t.status() == meta::v1::TABLE_STATUS_DELETING) {
      return error_reply<meta::v1::DeleteTableResponse>(failed_precondition("deleted"));
    }
    if (t.deletion_protection_enabled()) {
      // DynamoDB's words; the router answers kInvalidArgument as a ValidationException.
      return error_reply<meta::v1::DeleteTableResponse>(invalid_argument(
          "Resource cannot be deleted as it is currently protected against deletion. Disable "
          "deletion protection first."));
    }
    t.set_status(meta::v1::TABLE_STATUS_DELETING);
    if (auto s = persist_table(t); !s.is_ok()) return error_reply<meta::v1::DeleteTableResponse>(s);
    *resp.mutable_table() = t;
    publish_event(meta::v1::EVENT_TYPE_TABLE_CHANGED, t);
    spdlog::info("metadata: table {} DELETING", t.name());
    kicked_ = true;
  }
  kick_.notify_all();
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

// UpdateTable. The change takes effect at once: Shoal does not reserve throughput on the
// storage nodes, so there is nothing to wait for. The reply shows the table UPDATING (what
// DynamoDB's UpdateTable answers), but the catalog keeps it ACTIVE: the router serves items
// only of ACTIVE tables, and an UPDATING window would fail reads and writes that DynamoDB
// keeps serving while a table updates. DescribeTable therefore shows ACTIVE right away, as
// DynamoDB does once its (here instant) update completes.
std::string MetadataService::update_table(const std::string& payload) {
  using Resp = meta::v1::UpdateTableResponse;
  meta::v1::UpdateTableRequest req;
  if (!req.ParseFromString(payload)) {
    return error_reply<Resp>(invalid_argument("unparsable request"));
  }
  Resp resp;
  {
    std::lock_guard lock(mu_);
    if (auto s = serve_locked(); !s.is_ok()) return error_reply<Resp>(s);
    auto it = tables_.find(req.name());
    if (it == tables_.end()) return error_reply<Resp>(not_found(req.name()));
    meta::v1::Table t = it->second;  // applied only once persisted
    if (t.status() == meta::v1::TABLE_STATUS_CREATING) {
      return error_reply<Resp>(failed_precondition("created"));
    }
    if (t.status() == meta::v1::TABLE_STATUS_DELETING) {
      return error_reply<Resp>(failed_precondition("deleted"));
    }
    if (t.status() == meta::v1::TABLE_STATUS_UPDATING) {
      return error_reply<Resp>(failed_precondition("updated"));
    }
    const int64_t now = now_ms();
    const auto current_mode = t.billing_mode();
    const auto mode = req.billing_mode() != meta::v1::BILLING_MODE_UNSPECIFIED
                          ? req.billing_mode()
                          : current_mode;
    if (req.has_provisioned_throughput()) {
      if (mode == meta::v1::BILLING_MODE_PAY_PER_REQUEST) {
        return error_reply<Resp>(invalid_argument(
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
            "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"));
      }
      auto* pt = t.mutable_provisioned_throughput();
      const int64_t rcu = req.provisioned_throughput().read_capacity_units();
      const int64_t wcu = req.provisioned_throughput().write_capacity_units();
      if (current_mode == meta::v1::BILLING_MODE_PROVISIONED) {
        if (rcu == pt->read_capacity_units() && wcu == pt->write_capacity_units()) {
          return error_reply<Resp>(invalid_argument(
              "The provisioned throughput for the table will not change. The requested value "
              "equals the current value. Current ReadCapacityUnits provisioned for the table: " +
              std::to_string(pt->read_capacity_units()) + ". Requested ReadCapacityUnits: " +
              std::to_string(rcu) + ". Current WriteCapacityUnits provisioned for the table: " +
              std::to_string(pt->write_capacity_units()) + ". Requested WriteCapacityUnits: " +
              std::to_string(wcu) + ". Refer to the Amazon DynamoDB Developer Guide for current "
              "limits and how to request higher limits."));
        }
        if (rcu > pt->read_capacity_units() || wcu > pt->write_capacity_units()) {
          pt->set_last_increase_epoch_ms(now);
        }
        if (rcu < pt->read_capacity_units() || wcu < pt->write_capacity_units()) {
          // The count is per UTC day: a decrease on a new day starts it again.
          bool same_day = pt->last_decrease_epoch_ms() / kDayMs == now / kDayMs;
          pt->set_number_of_decreases_today(same_day ? pt->number_of_decreases_today() + 1 : 1);
          pt->set_last_decrease_epoch_ms(now);
        }
      }
      pt->set_read_capacity_units(rcu);
      pt->set_write_capacity_units(wcu);
    }
    if (mode != current_mode) {
      t.set_billing_mode(mode);
      if (mode == meta::v1::BILLING_MODE_PAY_PER_REQUEST) {
        t.set_billing_mode_last_update_epoch_ms(now);
        t.mutable_provisioned_throughput()->set_read_capacity_units(0);
        t.mutable_provisioned_throughput()->set_write_capacity_units(0);
      }
    }
    if (req.has_deletion_protection_enabled()) {
      t.set_deletion_protection_enabled(req.deletion_protection_enabled());
    }
    if (auto s = persist_table(t); !s.is_ok()) return error_reply<Resp>(s);
    it->second = t;
    publish_event(meta::v1::EVENT_TYPE_TABLE_CHANGED, t);
    spdlog::info("metadata: table {} updated ({}, rcu {}, wcu {}, deletion protection {})",
                 t.name(), meta::v1::BillingMode_Name(t.billing_mode()),
                 t.provisioned_throughput().read_capacity_units(),
                 t.provisioned_throughput().write_capacity_units(),
                 t.deletion_protection_enabled());
    *resp.mutable_table() = std::move(t);
    resp.mutable_table()->set_status(meta::v1::TABLE_STATUS_UPDATING);
  }
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

Status MetadataService::edit_table(const std::string& name,
                                   const std::function<Status(meta::v1::Table*)>& edit) {
  std::lock_guard lock(mu_);
  if (auto s = serve_locked(); !s.is_ok()) return s;
  auto it = tables_.find(name);
  if (it == tables_.end()) return not_found(name);
  if (it->second.status() == meta::v1::TABLE_STATUS_DELETING) {
    return failed_precondition("deleted");
  }
  meta::v1::Table t = it->second;  // applied only once persisted
  SHOAL_RETURN_IF_ERROR(edit(&t));
  if (t.SerializeAsString() == it->second.SerializeAsString()) return Status::ok();
  SHOAL_RETURN_IF_ERROR(persist_table(t));
  it->second = std::move(t);
  return Status::ok();
}

std::string MetadataService::tag_resource(const std::string& payload) {
  meta::v1::TagResourceRequest req;
  if (!req.ParseFromString(payload)) {
    return error_reply<meta::v1::TagResourceResponse>(invalid_argument("unparsable request"));
  }
  return error_reply<meta::v1::TagResourceResponse>(edit_table(req.name(), [&](auto* t) {
    for (const auto& tag : req.tags()) {
      auto same = std::find_if(t->mutable_tags()->begin(), t->mutable_tags()->end(),
                               [&](const auto& x) { return x.key() == tag.key(); });
      if (same != t->mutable_tags()->end()) same->set_value(tag.value());
      else *t->add_tags() = tag;
    }
    if (t->tags_size() > kMaxTags) {
      return invalid_argument(
          "Number of Tags exceed the current limit for the provided ResourceArn");
    }
    return Status::ok();
  }));
}

std::string MetadataService::untag_resource(const std::string& payload) {
  meta::v1::UntagResourceRequest req;
  if (!req.ParseFromString(payload)) {
    return error_reply<meta::v1::UntagResourceResponse>(invalid_argument("unparsable request"));
  }
  return error_reply<meta::v1::UntagResourceResponse>(edit_table(req.name(), [&](auto* t) {
    std::set<std::string> drop(req.tag_keys().begin(), req.tag_keys().end());
    auto* tags = t->mutable_tags();
    tags->erase(std::remove_if(tags->begin(), tags->end(),
                               [&](const auto& x) { return drop.count(x.key()) > 0; }),
                tags->end());
    return Status::ok();
  }));
}

std::string MetadataService::list_tags_of_resource(const std::string& payload) {
  using Resp = meta::v1::ListTagsOfResourceResponse;
  meta::v1::ListTagsOfResourceRequest req;
  if (!req.ParseFromString(payload)) {
    return error_reply<Resp>(invalid_argument("unparsable request"));
  }
  Resp resp;
  {
    std::lock_guard lock(mu_);
    if (auto s = serve_locked(/*read=*/true); !s.is_ok()) return error_reply<Resp>(s);
    auto it = tables_.find(req.name());
    if (it == tables_.end()) return error_reply<Resp>(not_found(req.name()));
    *resp.mutable_tags() = it->second.tags();
  }
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

std::string MetadataService::heartbeat(const std::string& payload) {
  meta::v1::HeartbeatRequest req;
  if (!req.ParseFromString(payload) || req.node().node_id().empty()) {
    return error_reply<meta::v1::HeartbeatResponse>(invalid_argument("bad heartbeat"));
  }
  std::vector<std::string> orphans;
  {
    std::lock_guard lock(mu_);
    if (auto s = serve_locked(); !s.is_ok()) return error_reply<meta::v1::HeartbeatResponse>(s);
    std::map<std::string, meta::v1::Partition*> known;
    std::set<std::string> reserved;  // children of splits under way: about to exist
    for (auto& [_, t] : tables_)
      for (auto& p : *t.mutable_partitions()) {
        known.emplace(p.partition_id(), &p);
        if (!p.split().new_partition_id().empty()) reserved.insert(p.split().new_partition_id());
      }
    // Leaders as the storage nodes see them (routers start from these and then follow the
    // hints replicas give). Kept in memory: a restarted metadata relearns them in a second.
    for (const auto& id : req.led_partition_ids()) {
      auto it = known.find(id);
      if (it == known.end()) continue;
      const auto& ids = it->second->replica_node_ids();
      if (std::find(ids.begin(), ids.end(), req.node().node_id()) != ids.end()) {
        it->second->set_leader_node_id(req.node().node_id());
      }
    }
    for (const auto& id : req.hosted_partition_ids()) {
      // Only ids this catalog could have issued: a wiped or foreign catalog must never make
      // nodes drop data it does not know about.
      unsigned long long seq = 0;
      bool ours = std::sscanf(id.c_str(), "t%llu-", &seq) == 1 && seq <= table_seq_;
      if (ours && !known.count(id) && !reserved.count(id)) orphans.push_back(id);
      // A replica whose group replaced this node while it was away.
      if (auto k = known.find(id); k != known.end()) {
        const auto& p = *k->second;
        const auto& ids = p.replica_node_ids();
        if (std::find(ids.begin(), ids.end(), req.node().node_id()) == ids.end() &&
            p.change().new_node_id() != req.node().node_id()) {
          orphans.push_back(id);
        }
      }
    }
    // Members missing their replica (see plan_missing_locked()): partitions with an operation
    // under way are left to it.
    {
      const std::string& node = req.node().node_id();
      const std::set<std::string> hosted(req.hosted_partition_ids().begin(),
                                         req.hosted_partition_ids().end());
      auto& before = missing_[node];
      std::map<std::string, int64_t> now_missing;
      const int64_t now = now_ms();
      for (const auto& [_, t] : tables_) {
        if (t.status() != meta::v1::TABLE_STATUS_ACTIVE) continue;
        for (const auto& p : t.partitions()) {
          if (!p.split().new_partition_id().empty() ||
              p.change().stage() != meta::v1::ReplicaChange::STAGE_NONE ||
              hosted.count(p.partition_id())) {
            continue;
          }
          const auto& ids = p.replica_node_ids();
          if (std::find(ids.begin(), ids.end(), node) == ids.end()) continue;
          auto it = before.find(p.partition_id());
          now_missing[p.partition_id()] = it != before.end() ? it->second : now;
        }
      }
      if (now_missing.empty()) missing_.erase(node);
      else before = std::move(now_missing);
    }
    auto& n = nodes_[req.node().node_id()];
    bool is_new = !heard_.count(req.node().node_id());
    heard_.insert(req.node().node_id());
    n = req.node();
    n.set_draining(draining_.count(n.node_id()) > 0);
    n.set_last_heartbeat_epoch_ms(now_ms());
    n.set_replica_count(req.hosted_partition_ids_size());
    if (is_new) {
      spdlog::info("metadata {}: storage node {} registered in zone {}", options_.id, n.node_id(),
                   n.zone());
    }
  }
  // Replicas of tables that no longer exist (deleted while the node was away) are dropped.
  for (const auto& id : orphans) {
    spdlog::info("metadata: dropping orphan replica {} on {}", id, req.node().node_id());
    storage::v1::AdminRequest drop;
    drop.set_op(storage::v1::ADMIN_OP_DROP_REPLICA);
    drop.mutable_replica()->set_partition_id(id);
    nats_->request(subjects_.node_admin(req.node().node_id()), drop.SerializeAsString(), 2s,
                   [](Result<std::string>) {});
  }
  meta::v1::HeartbeatResponse resp;
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

std::string MetadataService::list_access_keys() const {
  meta::v1::ListAccessKeysResponse resp;
  for (const auto& [id, secret] : options_.access_keys) {
    auto* k = resp.add_keys();
    k->set_access_key_id(id);
    k->set_secret_access_key(secret);
  }
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

std::string MetadataService::list_nodes(const std::string&) {
  meta::v1::ListNodesResponse resp;
  {
    std::lock_guard lock(mu_);
    if (auto s = serve_locked(/*read=*/true); !s.is_ok()) {
      return error_reply<meta::v1::ListNodesResponse>(s);
    }
    int64_t now = now_ms();
    std::map<std::string, int> leads;
    for (const auto& [_, t] : tables_)
      for (const auto& p : t.partitions())
        if (!p.leader_node_id().empty()) ++leads[p.leader_node_id()];
    for (const auto& [_, n] : nodes_) {
      auto* out = resp.add_nodes();
      *out = n;
      out->set_alive(now - n.last_heartbeat_epoch_ms() <= options_.node_timeout.count());
      out->set_draining(draining_.count(n.node_id()) > 0);
      out->set_leader_count(leads[n.node_id()]);
    }
  }
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

void MetadataService::reconcile_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    // A kick during the previous pass is not lost: the flag is set under the lock.
    kick_.wait_for(lock, options_.reconcile_interval, [this] { return kicked_ || stopping_; });
    kicked_ = false;
    if (stopping_) break;
    // Leader only. Repairs wait one node_timeout after the takeover: a new leader has no
    // heartbeat history, and must hear from the nodes before judging them.
    const bool serving = serve_locked().is_ok();
    update_gauges_locked(serving);
    if (!serving) continue;
    const bool repair = std::chrono::steady_clock::now() - leader_since_ >= options_.node_timeout;
    lock.unlock();
    reconcile_once();
    split_once();
    transfer_once();
    if (repair) repair_once();
    lock.lock();
  }
}

void MetadataService::update_gauges_locked(bool serving) {
  if (!tables_gauge_) return;
  if (!serving) {
    for (auto& [_, s] : table_series_) {
      partitions_gauge_->Remove(s.partitions);
      provisioned_gauge_->Remove(s.read_units);
      provisioned_gauge_->Remove(s.write_units);
      if (s.info) table_info_gauge_->Remove(s.info);
    }
    table_series_.clear();
    for (auto& [_, s] : node_series_) nodes_gauge_->Remove(s.alive);
    node_series_.clear();
    for (auto* g : status_series_) tables_gauge_->Remove(g);
    status_series_.clear();
    if (nodes_alive_series_) nodes_alive_gauge_->Remove(nodes_alive_series_);
    nodes_alive_series_ = nullptr;
    return;
  }
  std::map<std::string, int> by_status;
  for (const auto& [_, t] : tables_) by_status[meta::v1::TableStatus_Name(t.status())]++;
  status_series_.clear();
  for (const auto& s : {"TABLE_STATUS_CREATING", "TABLE_STATUS_ACTIVE", "TABLE_STATUS_DELETING"}) {
    auto& g = tables_gauge_->Add({{"status", s}});
    g.Set(by_status[s]);
    status_series_.push_back(&g);
  }
  int64_t now = now_ms();
  int alive_nodes = 0;
  for (const auto& [id, n] : nodes_) {
    bool alive = now - n.last_heartbeat_epoch_ms() <= options_.node_timeout.count();
    alive_nodes += alive;
    auto& s = node_series_[id];
    if (s.alive && s.zone != n.zone()) nodes_gauge_->Remove(s.alive);  // moved zones
    if (!s.alive || s.zone != n.zone()) {
      s.zone = n.zone();
      s.alive = &nodes_gauge_->Add({{"node", id}, {"zone", n.zone()}});
    }
    s.alive->Set(alive ? 1 : 0);
  }
  if (!nodes_alive_series_) nodes_alive_series_ = &nodes_alive_gauge_->Add({});
  nodes_alive_series_->Set(alive_nodes);
  // Tables: series of tables gone from the catalog go too.
  for (auto it = table_series_.begin(); it != table_series_.end();) {
    if (tables_.count(it->first)) {
      ++it;
      continue;
    }
    partitions_gauge_->Remove(it->second.partitions);
    provisioned_gauge_->Remove(it->second.read_units);
    provisioned_gauge_->Remove(it->second.write_units);
    if (it->second.info) table_info_gauge_->Remove(it->second.info);
    it = table_series_.erase(it);
  }
  for (const auto& [name, t] : tables_) {
    auto& s = table_series_[name];
    if (!s.partitions) {
      s.partitions = &partitions_gauge_->Add({{"table", name}});
      s.read_units = &provisioned_gauge_->Add({{"table", name}, {"kind", "read"}});
      s.write_units = &provisioned_gauge_->Add({{"table", name}, {"kind", "write"}});
    }
    s.partitions->Set(t.partitions_size());
    const bool on_demand = t.billing_mode() == meta::v1::BILLING_MODE_PAY_PER_REQUEST;
    const char* mode = on_demand ? "PAY_PER_REQUEST" : "PROVISIONED";
    std::string info_key = t.table_id() + "/" + mode;
    if (s.info_key != info_key) {  // re-created under the same name, or billing mode changed
      if (s.info) table_info_gauge_->Remove(s.info);
      s.info = &table_info_gauge_->Add(
          {{"table", name}, {"table_id", t.table_id()}, {"billing_mode", mode}});
      s.info->Set(1);
      s.info_key = std::move(info_key);
    }
    s.read_units->Set(on_demand ? 0 : double(t.provisioned_throughput().read_capacity_units()));
    s.write_units->Set(on_demand ? 0 : double(t.provisioned_throughput().write_capacity_units()));
  }
}

void MetadataService::reconcile_once() {
  // Snapshot the work, then talk to storage nodes without holding the lock.
  std::vector<meta::v1::Table> work;
  {
    std::lock_guard lock(mu_);
    for (const auto& [_, t] : tables_) {
      if (t.status() == meta::v1::TABLE_STATUS_CREATING ||
          t.status() == meta::v1::TABLE_STATUS_DELETING) {
        work.push_back(t);
      }
    }
  }
  for (auto& t : work) {
    bool creating = t.status() == meta::v1::TABLE_STATUS_CREATING;
    bool all_ok = true;
    for (const auto& p : t.partitions()) {
      // The designated first leader (replica 0) is opened last: it campaigns as soon as it
      // opens, and its peers are there to vote.
      std::vector<int> order;
      for (int i = 1; i < p.replica_node_ids_size(); ++i) order.push_back(i);
      if (p.replica_node_ids_size() > 0) order.push_back(0);
      for (int i : order) {
        const std::string& node = p.replica_node_ids(i);
        if (!creating) {
          std::lock_guard lock(mu_);
          auto n = nodes_.find(node);
          // A node that is gone cannot drop its replica now; it drops it as an orphan when it
          // comes back (see heartbeat()), so deletion does not wait for it.
          if (n == nodes_.end() ||
              now_ms() - n->second.last_heartbeat_epoch_ms() > options_.node_timeout.count()) {
            continue;
          }
        }
        storage::v1::AdminRequest req;
        req.set_op(creating ? storage::v1::ADMIN_OP_OPEN_REPLICA : storage::v1::ADMIN_OP_DROP_REPLICA);
        auto* d = req.mutable_replica();
        d->set_table_id(t.table_id());
        d->set_partition_id(p.partition_id());
        d->set_hash_lo(p.hash_lo());
        d->set_hash_hi(p.hash_hi());
        for (int j = 0; j < p.replica_node_ids_size(); ++j) {
          auto* peer = d->add_peers();
          peer->set_node_id(p.replica_node_ids(j));
          peer->set_raft_id(j < p.replica_raft_ids_size() ? p.replica_raft_ids(j)
                                                          : static_cast<uint64_t>(j + 1));
          if (j < p.replica_zones_size()) peer->set_zone(p.replica_zones(j));
        }
        auto reply = nats_->request_sync(subjects_.node_admin(node), req.SerializeAsString(), 2s);
        storage::v1::AdminResponse resp;
        if (!reply.ok() || !resp.ParseFromString(*reply) ||
            resp.status().code() != common::v1::CODE_OK) {
          all_ok = false;
          spdlog::debug("metadata: {} of {} on {} not done yet: {}",
                        creating ? "open" : "drop", p.partition_id(), node,
                        reply.ok() ? resp.status().message() : reply.status().to_string());
        }
      }
    }
    if (!all_ok) continue;
    std::lock_guard lock(mu_);
    auto it = tables_.find(t.name());
    if (it == tables_.end() || it->second.table_id() != t.table_id()) continue;
    if (creating) {
      it->second.set_status(meta::v1::TABLE_STATUS_ACTIVE);
      if (auto s = persist_table(it->second); !s.is_ok()) {
        spdlog::error("metadata: persisting {} failed: {}", t.name(), s.to_string());
        continue;
      }
      spdlog::info("metadata: table {} ACTIVE", t.name());
      publish_event(meta::v1::EVENT_TYPE_TABLE_CHANGED, it->second);
    } else {
      if (auto s = erase_table(t.name()); !s.is_ok()) {
        spdlog::error("metadata: erasing {} failed: {}", t.name(), s.to_string());
        continue;
      }
      tables_.erase(it);
      spdlog::info("metadata: table {} deleted", t.name());
      publish_event(meta::v1::EVENT_TYPE_TABLE_DELETED, t);
    }
  }
}

}  // namespace shoal::metadata
