#include "shoal/storage/node.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <future>
#include <set>
#include <string_view>

#include "raft_transport.h"
#include "replica.h"
#include "shoal/item/item.h"
#include "shoal/meta/v1/meta.pb.h"
#include "snapshot.h"

namespace shoal::storage {

using namespace std::chrono_literals;

namespace {

void set_status(common::v1::Status* out, const Status& s) {
  out->set_code(s.is_ok() ? common::v1::CODE_OK : static_cast<common::v1::Code>(s.code()));
  out->set_message(s.message());
}

constexpr const char* kLogFamily = "raft-log";
constexpr const char* kMetaFamily = "node-meta";

// DATA_OP_QUERY -> "query".
std::string op_label(storage::v1::DataOp op) {
  std::string name = storage::v1::DataOp_Name(op);
  constexpr std::string_view kPrefix = "DATA_OP_";
  if (name.starts_with(kPrefix)) name.erase(0, kPrefix.size());
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

StorageNode::StorageNode(std::shared_ptr<nats::Connection> nats, subjects::Subjects subjects,
                         NodeOptions options, metrics::Registry* registry)
    : nats_(std::move(nats)), subjects_(std::move(subjects)), options_(std::move(options)),
      registry_(registry) {
  if (registry_) {
    items_gauge_ = &metrics::BuildGauge()
                        .Name("shoal_storage_replica_items")
                        .Help("Items stored in each partition replica hosted by this node")
                        .Register(*registry_);
    writes_counter_ = &metrics::BuildCounter()
                           .Name("shoal_storage_replica_writes_total")
                           .Help("Writes applied by each partition replica hosted by this node")
                           .Register(*registry_);
    reads_counter_ = &metrics::BuildCounter()
                          .Name("shoal_storage_replica_reads_total")
                          .Help("Reads (Get, Query and Scan pages) served by each partition replica")
                          .Register(*registry_);
    leader_gauge_ = &metrics::BuildGauge()
                         .Name("shoal_storage_replica_leader")
                         .Help("1 when this node's replica is its partition's Raft leader")
                         .Register(*registry_);
    term_gauge_ = &metrics::BuildGauge()
                       .Name("shoal_storage_raft_term")
                       .Help("Current Raft term of each partition replica")
                       .Register(*registry_);
    commit_gauge_ = &metrics::BuildGauge()
                         .Name("shoal_storage_raft_commit_index")
                         .Help("Highest log index each replica knows to be committed")
                         .Register(*registry_);
    applied_gauge_ = &metrics::BuildGauge()
                          .Name("shoal_storage_raft_applied_index")
                          .Help("Highest log index each replica has applied")
                          .Register(*registry_);
    elections_counter_ = &metrics::BuildCounter()
                              .Name("shoal_storage_raft_leaderships_total")
                              .Help("Times each replica became its partition's leader")
                              .Register(*registry_);
    snapshot_index_gauge_ = &metrics::BuildGauge()
                                 .Name("shoal_storage_raft_snapshot_index")
                                 .Help("Log index each replica compacted its log up to")
                                 .Register(*registry_);
    snapshots_sent_counter_ = &metrics::BuildCounter()
                                   .Name("shoal_storage_raft_snapshots_sent_total")
                                   .Help("Images each replica streamed to lagging followers")
                                   .Register(*registry_);
    snapshots_installed_counter_ = &metrics::BuildCounter()
                                        .Name("shoal_storage_raft_snapshots_installed_total")
                                        .Help("Images each replica received and installed")
                                        .Register(*registry_);
    elections_started_counter_ =
        &metrics::BuildCounter()
             .Name("shoal_storage_raft_elections_total")
             .Help("Elections each replica started (became a candidate in a new term; pre-vote "
                   "rounds that did not win are not counted)")
             .Register(*registry_);
    size_gauge_ = &metrics::BuildGauge()
                       .Name("shoal_storage_replica_size_bytes")
                       .Help("Bytes of each replica's items (stored key + value lengths, kept "
                             "exactly as writes apply)")
                       .Register(*registry_);
    lag_gauge_ = &metrics::BuildGauge()
                      .Name("shoal_storage_raft_replication_lag_entries")
                      .Help("Leader only: log entries each member (peer = its node) is behind "
                            "the leader's last index")
                      .Register(*registry_);
    partitions_gauge_ = &metrics::BuildGauge()
                             .Name("shoal_storage_partitions")
                             .Help("Partition replicas hosted by this node")
                             .Register(*registry_);
    partitions_led_gauge_ = &metrics::BuildGauge()
                                 .Name("shoal_storage_partitions_led")
                                 .Help("Partition replicas this node leads")
                                 .Register(*registry_);
    partitions_gauge_->AddCallback({}, [this] { return double(replica_count()); });
    partitions_led_gauge_->AddCallback({}, [this] { return double(led_count()); });
    auto& durations = metrics::BuildHistogram()
                          .Name("shoal_storage_request_duration_seconds")
                          .Help("Time from a data request's arrival at the storage node to its "
                                "reply, by op (writes include the Raft commit)")
                          .Register(*registry_);
    static const metrics::Histogram::BucketBoundaries kBuckets = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
    for (int op = 0; op < storage::v1::DataOp_ARRAYSIZE; ++op) {
      if (op == storage::v1::DATA_OP_UNSPECIFIED || !storage::v1::DataOp_IsValid(op)) continue;
      request_durations_[op] =
          &durations.Add({{"op", op_label(static_cast<storage::v1::DataOp>(op))}}, kBuckets);
    }
  }
}

StorageNode::~StorageNode() {
  stop();
  // The callbacks read this node.
  if (partitions_gauge_) {
    partitions_gauge_->RemoveCallback({});
    partitions_led_gauge_->RemoveCallback({});
  }
}

size_t StorageNode::replica_count() const {
  std::shared_lock lock(mu_);
  return replicas_.size();
}

size_t StorageNode::led_count() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (const auto& [_, r] : replicas_) n += r->env->counters->leader.load(std::memory_order_relaxed);
  return n;
}

Status StorageNode::start() {
  auto st = store::Store::open(store::StoreOptions{.path = options_.data_dir});
  if (!st.ok()) return st.status();
  store_ = std::move(st).value();
  auto log = store_->create_family(kLogFamily);
  if (!log.ok()) return log.status();
  log_cf_ = *log;
  auto meta = store_->create_family(kMetaFamily);
  if (!meta.ok()) return meta.status();
  meta_cf_ = *meta;
  families_ = std::make_unique<FamilyRefs>();
  committer_ = std::make_unique<store::GroupCommitter>(store_.get(), options_.sync);
  outbox_ = std::make_unique<RaftOutbox>(nats_, subjects_, options_.node_id);
  snapshot_sender_ = std::make_unique<SnapshotSender>(store_.get(), nats_, subjects_,
                                                      options_.node_id,
                                                      options_.snapshot_chunk_bytes,
                                                      options_.snapshot_senders);
  auto find_actor = [this](const std::string& pid) {
    std::shared_lock lock(mu_);
    auto it = replicas_.find(pid);
    return it == replicas_.end() ? caf::actor() : it->second->actor;
  };
  snapshot_receiver_ = std::make_shared<SnapshotReceiver>(
      store_.get(), [find_actor](const std::string& pid) { return bool(find_actor(pid)); },
      [find_actor](const std::string& pid, StagedSnapshotPtr staged) {
        caf::actor a = find_actor(pid);
        if (!a) return false;
        caf::anon_send(a, std::move(staged));
        return true;
      });

  caf_config_ = std::make_unique<caf::actor_system_config>();
  system_ = std::make_unique<caf::actor_system>(*caf_config_);

  // Restart every replica this node hosted, from its record (index and count included).
  auto it = store_->iterator(meta_cf_);
  std::vector<storage::v1::ReplicaRecord> records;
  for (it->Seek("replica/"); it->Valid() && it->key().starts_with("replica/"); it->Next()) {
    storage::v1::ReplicaRecord r;
    if (!r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return internal_error("corrupt replica record " + it->key().ToString());
    }
    records.push_back(std::move(r));
  }
  collect_stale_families(records);
  for (const auto& r : records) families_->add(record_family(r), r.replica().partition_id());
  for (const auto& r : records) {
    SHOAL_RETURN_IF_ERROR(open_replica(r.replica(), /*create=*/false));
  }
  spdlog::info("storage {}: zone {}, {} replicas recovered from {}", options_.node_id,
               options_.zone, records.size(), options_.data_dir);

  auto data = nats_->subscribe(subjects_.node_data(options_.node_id), "",
                               [this](nats::MessagePtr m) { on_data(std::move(m)); });
  if (!data.ok()) return data.status();
  data_sub_.emplace(std::move(data).value());
  auto admin = nats_->subscribe(subjects_.node_admin(options_.node_id), "",
                                [this](nats::MessagePtr m) { on_admin(std::move(m)); });
  if (!admin.ok()) return admin.status();
  admin_sub_.emplace(std::move(admin).value());
  auto raft = nats_->subscribe(subjects_.node_raft(options_.node_id), "",
                               [this](nats::MessagePtr m) { on_raft(std::move(m)); });
  if (!raft.ok()) return raft.status();
  raft_sub_.emplace(std::move(raft).value());
  auto snap = nats_->subscribe(snapshot_subject(subjects_, options_.node_id), "",
                               [this](nats::MessagePtr m) { on_snapshot_chunk(std::move(m)); });
  if (!snap.ok()) return snap.status();
  snap_sub_.emplace(std::move(snap).value());
  heartbeat_ = std::thread([this] { heartbeat_loop(); });
  ticker_ = std::thread([this] { tick_loop(); });
  ready_ = true;
  return Status::ok();
}

void StorageNode::stop() {
  if (stopping_.exchange(true)) return;
  ready_ = false;
  data_sub_.reset();
  raft_sub_.reset();
  admin_sub_.reset();
  snap_sub_.reset();
  if (heartbeat_.joinable()) heartbeat_.join();
  if (ticker_.joinable()) ticker_.join();
  std::vector<std::shared_ptr<Replica>> stopped;
  {
    std::unique_lock lock(mu_);
    for (auto& [_, r] : replicas_) {
      caf::anon_send_exit(r->actor, caf::exit_reason::user_shutdown);
      stopped.push_back(r);
    }
    replicas_.clear();
  }
  if (system_) system_->await_all_actors_done();
  for (const auto& r : stopped) remove_replica_series(*r);  // a stopped node hosts nothing
  stopped.clear();  // their environments hold column families: gone before the store
  snapshot_sender_.reset();  // stops transfers, releases their RocksDB snapshots
  if (snapshot_receiver_) snapshot_receiver_->close();
  committer_.reset();  // drains queued commits
  outbox_.reset();
  system_.reset();
  log_cf_.reset();
  meta_cf_.reset();
  store_.reset();
}

void StorageNode::on_data(nats::MessagePtr msg) {
  const auto received = std::chrono::steady_clock::now();
  auto call = std::make_shared<DataCall>();
  if (!call->request.ParseFromString(msg->data)) {
    spdlog::warn("storage {}: unparsable data request", options_.node_id);
    return;
  }
  call->reply = DataReply{msg->reply, call->request.op(), received};
  if (options_.noop_data) return answer_noop(*call);
  caf::actor target;
  {
    std::shared_lock lock(mu_);
    auto it = replicas_.find(call->request.partition_id());
    if (it != replicas_.end()) target = it->second->actor;
  }
  if (!target) {
    storage::v1::DataResponse resp;
    set_status(resp.mutable_status(),
               stale_route("replica " + call->request.partition_id() + " not on node " + options_.node_id));
    observe_reply(&request_durations_, call->reply);
    if (!msg->reply.empty()) (void)nats_->publish(msg->reply, resp.SerializeAsString());
    return;
  }
  caf::anon_send(target, std::move(call));
}

void StorageNode::answer_noop(const DataCall& call) {
  // Reads find one fixed item (the router returns whatever item storage found).
  static const std::string kValue(100, 'x');
  storage::v1::DataResponse resp;
  set_status(resp.mutable_status(), Status::ok());
  const auto op = call.request.op();
  if (op == storage::v1::DATA_OP_GET) {
    item::Item it;
    it.emplace_back("field0", item::AttributeValue::S(kValue));
    resp.set_found(true);
    resp.set_item(item::encode_item(it));
  }
  observe_reply(&request_durations_, call.reply);
  if (!call.reply.subject.empty()) (void)nats_->publish(call.reply.subject, resp.SerializeAsString());
}

void StorageNode::on_raft(nats::MessagePtr msg) {
  storage::v1::RaftBatch batch;
  if (!batch.ParseFromString(msg->data)) {
    spdlog::warn("storage {}: unparsable raft batch", options_.node_id);
    return;
  }
  std::shared_lock lock(mu_);
  for (const auto& env : batch.messages()) {
    auto it = replicas_.find(env.partition_id());
    if (it == replicas_.end()) continue;  // not open (yet, or any more): Raft retries
    auto m = std::make_shared<raft::Message>();
    if (!from_proto(env.message(), m.get()) || m->type == raft::MessageType::kSnapshot) {
      // A kSnapshot message only comes with its image, on the .snap subject.
      spdlog::warn("storage {}: malformed raft message for {} from {}", options_.node_id,
                   env.partition_id(), batch.from_node());
      continue;
    }
    caf::anon_send(it->second->actor, RaftMessagePtr(std::move(m)));
  }
}

void StorageNode::tick_loop() {
  auto next = std::chrono::steady_clock::now();
  while (!stopping_) {
    next += options_.tick_interval;
    std::this_thread::sleep_until(next);
    std::shared_lock lock(mu_);
    for (const auto& [_, r] : replicas_) caf::anon_send(r->actor, tick_atom_v);
  }
}

Status StorageNode::open_replica(const storage::v1::ReplicaDescriptor& d, bool create,
                                 const std::string& existing) {
  const std::string& pid = existing.empty() ? d.partition_id() : existing;
  bool superseded = false;
  {
    std::shared_lock lock(mu_);
    auto it = replicas_.find(pid);
    if (it != replicas_.end()) {
      // Idempotent, unless this node rejoins the group under a new raft id (a replica moved
      // away and straight back): the old member was removed from the group and never
      // catches up again, so it makes room for the new one.
      uint64_t want = 0;
      for (const auto& p : d.peers()) {
        if (p.node_id() == options_.node_id) want = p.raft_id();
      }
      const uint64_t have = record_raft_id(it->second->env->record, options_.node_id);
      if (!create || !existing.empty() || want == 0 || want == have) return Status::ok();
      superseded = true;
      spdlog::info("storage {}: replica {} rejoins as raft id {} (was {}): dropping the old one",
                   options_.node_id, pid, want, have);
    }
  }
  if (superseded) SHOAL_RETURN_IF_ERROR(drop_replica(pid));
  auto env = std::make_shared<ReplicaEnv>();
  env->self_node = options_.node_id;
  env->store = store_.get();
  env->committer = committer_.get();
  env->outbox = outbox_.get();
  env->snapshots = snapshot_sender_.get();
  env->families = families_.get();
  env->open_child = [this](const std::string& child, bool campaign) {
    if (Status s = open_replica(storage::v1::ReplicaDescriptor(), /*create=*/false, child);
        !s.is_ok()) {
      spdlog::error("storage {}: opening split child {}: {}", options_.node_id, child, s.to_string());
      return;
    }
    if (!campaign) return;
    std::shared_lock lock(mu_);
    if (auto it = replicas_.find(child); it != replicas_.end()) {
      caf::anon_send(it->second->actor, campaign_atom_v);
    }
  };
  env->election_ticks = options_.election_ticks;
  env->tick_interval = options_.tick_interval;
  env->compact_threshold = options_.compact_threshold;
  env->compact_keep = options_.compact_keep;
  env->membership_wait_ticks = std::max<int>(
      1, static_cast<int>(std::chrono::milliseconds(2500) / options_.tick_interval));
  env->log_cf = log_cf_;
  env->meta_cf = meta_cf_;
  env->nats = nats_;
  env->counters = std::make_shared<ReplicaCounters>();
  if (registry_) {
    env->request_durations = &request_durations_;
    env->lag_family = lag_gauge_;
  }

  std::string raw;
  bool fresh = false;
  if (store_->get(meta_cf_, meta_key(pid), &raw).is_ok()) {
    if (!env->record.ParseFromString(raw)) return internal_error("corrupt record of " + pid);
  } else {
    fresh = true;
    if (!create) return internal_error("no record for replica " + pid);
    *env->record.mutable_replica() = d;
    env->record.set_raft_id(record_raft_id(env->record, options_.node_id));
    if (env->record.raft_id() == 0) {
      return invalid_argument("node " + options_.node_id + " is not a peer of " + pid);
    }
    // A new group starts from its descriptor's voters; a replica joining as a learner from
    // nothing (it learns the configuration from the log or an image).
    auto* initial = env->record.mutable_initial_conf();
    bool joining = false;
    for (const auto& p : group_peers(d, options_.node_id)) {
      if (p.node_id() == options_.node_id && p.learner()) joining = true;
    }
    if (!joining) {
      for (const auto& p : group_peers(d, options_.node_id)) {
        if (!p.learner()) initial->add_voters(p.raft_id());
      }
    }
  }
  // The data family the record names (a snapshot install switches to a new one).
  auto cf = store_->create_family(record_family(env->record));
  if (!cf.ok()) return cf.status();
  env->data_cf = *cf;
  families_->add((*cf)->name(), pid);
  if (fresh) {
    store::Batch b;
    b.put(meta_cf_, meta_key(pid), env->record.SerializeAsString());
    SHOAL_RETURN_IF_ERROR(store_->write(b, /*sync=*/true));
  }
  env->labels = {{"table_id", env->record.replica().table_id()}, {"partition", pid}};
  env->counters->items = env->record.item_count();
  env->counters->applied_index = env->record.applied_index();
  {
    raft::SnapshotMeta snap;
    if (load_snapshot_meta(*store_, meta_cf_, pid, &snap).is_ok()) {
      env->counters->snapshot_index = snap.index;
    }
  }
  env->counters->set_group({env->record.replica(), {}});

  auto replica = std::make_shared<Replica>();
  replica->env = env;
  replica->actor = system_->spawn(replica_actor, env);
  // A new group's designated first leader (peers[0]) is opened last by metadata and
  // campaigns at once, so a new table has a leader without waiting out an election timeout.
  // A replica joining an existing group (a learner in its descriptor) stays passive.
  const auto peers = group_peers(env->record.replica(), options_.node_id);
  if (fresh && peers.front().node_id() == options_.node_id && !peers.front().learner()) {
    caf::anon_send(replica->actor, campaign_atom_v);
  }
  add_replica_series(*replica);
  std::unique_lock lock(mu_);
  replicas_.emplace(pid, std::move(replica));
  spdlog::info("storage {}: replica {} open (table {}, index {}, {} items)", options_.node_id, pid,
               env->record.replica().table_id(), env->record.applied_index(),
               env->record.item_count());
  return Status::ok();
}

void StorageNode::add_replica_series(const Replica& replica) {
  if (!items_gauge_) return;
  const metrics::Labels& labels = replica.env->labels;
  {
    auto c = replica.env->counters;
    items_gauge_->AddCallback(labels, [c] { return double(c->items.load()); });
    writes_counter_->AddCallback(labels, [c] { return double(c->writes.load()); });
    reads_counter_->AddCallback(labels, [c] { return double(c->reads.load()); });
    leader_gauge_->AddCallback(labels, [c] { return c->leader.load() ? 1.0 : 0.0; });
    term_gauge_->AddCallback(labels, [c] { return double(c->term.load()); });
    commit_gauge_->AddCallback(labels, [c] { return double(c->commit_index.load()); });
    applied_gauge_->AddCallback(labels, [c] { return double(c->applied_index.load()); });
    elections_counter_->AddCallback(labels, [c] { return double(c->elections_won.load()); });
    snapshot_index_gauge_->AddCallback(labels, [c] { return double(c->snapshot_index.load()); });
    snapshots_sent_counter_->AddCallback(labels,
                                         [c] { return double(c->snapshots_sent.load()); });
    snapshots_installed_counter_->AddCallback(
        labels, [c] { return double(c->snapshots_installed.load()); });
    elections_started_counter_->AddCallback(labels,
                                            [c] { return double(c->elections_started.load()); });
    size_gauge_->AddCallback(labels, [c] { return double(c->size_bytes.load()); });
  }
}

void StorageNode::remove_replica_series(const Replica& replica) {
  if (!items_gauge_) return;
  const metrics::Labels& labels = replica.env->labels;
  items_gauge_->RemoveCallback(labels);
  writes_counter_->RemoveCallback(labels);
  reads_counter_->RemoveCallback(labels);
  leader_gauge_->RemoveCallback(labels);
  term_gauge_->RemoveCallback(labels);
  commit_gauge_->RemoveCallback(labels);
  applied_gauge_->RemoveCallback(labels);
  elections_counter_->RemoveCallback(labels);
  snapshot_index_gauge_->RemoveCallback(labels);
  snapshots_sent_counter_->RemoveCallback(labels);
  snapshots_installed_counter_->RemoveCallback(labels);
  elections_started_counter_->RemoveCallback(labels);
  size_gauge_->RemoveCallback(labels);
  // The actor is gone: nothing else touches its lag series now.
  for (auto& [_, series] : replica.env->lag_series) lag_gauge_->Remove(series.gauge);
  replica.env->lag_series.clear();
}

Status StorageNode::drop_replica(const std::string& pid) {
  std::shared_ptr<Replica> replica;
  {
    std::unique_lock lock(mu_);
    auto it = replicas_.find(pid);
    if (it != replicas_.end()) {
      replica = it->second;
      replicas_.erase(it);
    }
  }
  snapshot_receiver_->abort(pid);
  if (replica) {
    // Stop the actor, then let every batch it already queued reach disk before the family
    // goes away (an empty batch through the committer is a barrier).
    caf::scoped_actor self{*system_};
    self->monitor(replica->actor);
    self->send_exit(replica->actor, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
    std::promise<void> drained;
    committer_->submit(store::Batch{}, [&drained](const Status&) { drained.set_value(); });
    drained.get_future().wait();
    remove_replica_series(*replica);
  }
  // Its data family goes once no split sibling uses it (else only its range is deleted from
  // it); its staged images and unused families of its own go too.
  std::string raw;
  if (store_->get(meta_cf_, meta_key(pid), &raw).is_ok()) {
    storage::v1::ReplicaRecord record;
    if (record.ParseFromString(raw)) {
      if (auto cf = store_->family(record_family(record))) {
        release_family(*store_, *families_, cf, pid, record.replica().hash_lo(),
                       record.replica().hash_hi());
      }
    }
  }
  for (const auto& name : store_->family_names()) {
    bool staging = false;
    if (family_partition(name, &staging) == pid && !families_->used(name)) {
      SHOAL_RETURN_IF_ERROR(store_->drop_family(name));
    }
  }
  store::Batch b;
  b.erase_range(log_cf_, pid + "/", log_prefix_end(pid));
  b.erase(meta_cf_, meta_key(pid));
  b.erase(meta_cf_, raft_state_key(pid));
  b.erase(meta_cf_, snapshot_meta_key(pid));
  SHOAL_RETURN_IF_ERROR(store_->write(b, /*sync=*/true));
  spdlog::info("storage {}: replica {} dropped", options_.node_id, pid);
  return Status::ok();
}

// Families no record names: staged images of unfinished or uninstalled transfers, and the old
// data family of an install that crashed before dropping it.
void StorageNode::collect_stale_families(const std::vector<storage::v1::ReplicaRecord>& records) {
  std::set<std::string> named;      // families some record uses (split siblings share one)
  std::set<std::string> recorded;   // partitions with a record
  for (const auto& r : records) {
    named.insert(record_family(r));
    recorded.insert(r.replica().partition_id());
  }
  for (const auto& name : store_->family_names()) {
    bool staging = false;
    const std::string pid = family_partition(name, &staging);
    if (pid.empty() || named.count(name)) continue;
    // A plain family of a partition without a record is left alone (a replica being opened).
    const bool stale = staging || recorded.count(pid);
    if (!stale) continue;
    spdlog::info("storage {}: dropping stale family {}", options_.node_id, name);
    if (Status s = store_->drop_family(name); !s.is_ok()) {
      spdlog::warn("storage {}: drop of {} failed: {}", options_.node_id, name, s.to_string());
    }
  }
}

void StorageNode::on_snapshot_chunk(nats::MessagePtr msg) {
  storage::v1::SnapshotChunk chunk;
  Status s;
  if (!chunk.ParseFromString(msg->data)) {
    s = invalid_argument("unparsable snapshot chunk");
  } else {
    s = snapshot_receiver_->on_chunk(chunk);
  }
  if (!s.is_ok()) {
    spdlog::warn("storage {}: snapshot chunk {} of {} from {}: {}", options_.node_id, chunk.seq(),
                 chunk.partition_id(), chunk.from_node(), s.to_string());
  }
  storage::v1::SnapshotChunkAck ack;
  set_status(ack.mutable_status(), s);
  if (!msg->reply.empty()) (void)nats_->respond(*msg, ack.SerializeAsString());
}

void StorageNode::on_admin(nats::MessagePtr msg) {
  storage::v1::AdminRequest req;
  storage::v1::AdminResponse resp;
  Status s;
  if (!req.ParseFromString(msg->data)) {
    s = invalid_argument("unparsable admin request");
  } else {
    switch (req.op()) {
      case storage::v1::ADMIN_OP_OPEN_REPLICA: s = open_replica(req.replica(), /*create=*/true); break;
      case storage::v1::ADMIN_OP_DROP_REPLICA: s = drop_replica(req.replica().partition_id()); break;
      case storage::v1::ADMIN_OP_STATS: {
        std::shared_lock lock(mu_);
        for (const auto& [pid, r] : replicas_) {
          const auto& c = *r->env->counters;
          auto* out = resp.add_replicas();
          auto group = c.get_group();
          *out->mutable_replica() = std::move(group.descriptor);
          out->set_item_count(c.items.load());
          out->set_applied_index(c.applied_index.load());
          out->set_leader(c.leader.load());
          out->set_term(c.term.load());
          out->set_commit_index(c.commit_index.load());
          out->mutable_peers()->Assign(group.peers.begin(), group.peers.end());
          out->set_snapshot_index(c.snapshot_index.load());
          out->set_snapshots_sent(c.snapshots_sent.load());
          out->set_snapshots_installed(c.snapshots_installed.load());
          out->set_size_bytes(c.size_bytes.load());
        }
        break;
      }
      case storage::v1::ADMIN_OP_ADD_LEARNER:
      case storage::v1::ADMIN_OP_PROMOTE:
      case storage::v1::ADMIN_OP_REMOVE_PEER:
      case storage::v1::ADMIN_OP_SPLIT:
      case storage::v1::ADMIN_OP_TRANSFER_LEADER: {
        // The replica actor answers once the change is committed (or refused).
        caf::actor target;
        {
          std::shared_lock lock(mu_);
          auto it = replicas_.find(req.replica().partition_id());
          if (it != replicas_.end()) target = it->second->actor;
        }
        if (!target) {
          s = stale_route("replica " + req.replica().partition_id() + " not on node " +
                          options_.node_id);
          break;
        }
        auto call = std::make_shared<MembershipCall>();
        call->request = std::move(req);
        call->reply_subject = msg->reply;
        caf::anon_send(target, MembershipCallPtr(std::move(call)));
        return;
      }
      default: s = invalid_argument("unknown admin op");
    }
  }
  if (!s.is_ok()) spdlog::warn("storage {}: admin op failed: {}", options_.node_id, s.to_string());
  set_status(resp.mutable_status(), s);
  if (!msg->reply.empty()) (void)nats_->respond(*msg, resp.SerializeAsString());
}

void StorageNode::publish_stats(std::chrono::milliseconds interval) {
  meta::v1::NodeStats stats;
  stats.set_node_id(options_.node_id);
  stats.set_zone(options_.zone);
  stats.set_epoch_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  {
    std::shared_lock lock(mu_);
    for (const auto& [pid, r] : replicas_) {
      auto& c = *r->env->counters;
      const auto group = c.get_group();
      auto* p = stats.add_partitions();
      p->set_table_id(group.descriptor.table_id());
      p->set_partition_id(pid);
      p->set_hash_lo(group.descriptor.hash_lo());
      p->set_hash_hi(group.descriptor.hash_hi());
      p->set_leader(c.leader.load());
      p->set_size_bytes(c.size_bytes.load());
      p->set_item_count(c.items.load());
      p->set_read_units_x10(c.read_units_x10.exchange(0));
      p->set_write_units_x10(c.write_units_x10.exchange(0));
      p->set_interval_ms(static_cast<uint64_t>(interval.count()));
      std::map<uint64_t, uint32_t> counts;
      for (uint64_t h : c.take_sample()) ++counts[h];
      for (const auto& [h, n] : counts) {
        auto* k = p->add_key_sample();
        k->set_hash(h);
        k->set_count(n);
      }
      uint32_t learners = 0;
      for (const auto& peer : group.peers) learners += peer.learner();
      p->set_learners(learners);
    }
  }
  (void)nats_->publish(subjects_.stats(options_.node_id), stats.SerializeAsString());
}

void StorageNode::heartbeat_loop() {
  bool registered = false;
  auto last_stats = std::chrono::steady_clock::now();
  while (!stopping_) {
    if (options_.stats_interval.count() > 0) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_stats >= options_.stats_interval) {
        publish_stats(std::chrono::duration_cast<std::chrono::milliseconds>(now - last_stats));
        last_stats = now;
      }
    }
    meta::v1::HeartbeatRequest hb;
    hb.mutable_node()->set_node_id(options_.node_id);
    hb.mutable_node()->set_zone(options_.zone);
    {
      std::shared_lock lock(mu_);
      for (const auto& [pid, r] : replicas_) {
        hb.add_hosted_partition_ids(pid);
        if (r->env->counters->leader.load()) hb.add_led_partition_ids(pid);
      }
    }
    auto r = nats_->request_sync(subjects_.meta_rpc(subjects::Subjects::kHeartbeat),
                                 hb.SerializeAsString(), 2s);
    if (r.ok() && !registered) {
      spdlog::info("storage {}: registered with metadata", options_.node_id);
      registered = true;
    } else if (!r.ok() && registered) {
      spdlog::warn("storage {}: heartbeat failed: {}", options_.node_id, r.status().to_string());
      registered = false;
    }
    for (auto waited = 0ms; waited < options_.heartbeat_interval && !stopping_; waited += 50ms) {
      std::this_thread::sleep_for(50ms);
    }
  }
}

}  // namespace shoal::storage
