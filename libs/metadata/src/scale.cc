// Scale-out operations on the partition map: splits, replica moves and node drains.
//
// SPLIT. SplitPartition records the intent in the partition (Partition.split: the child's id,
// reserved from Table.next_partition_seq, and the split hash, or 0 for the leader to pick the
// hash that halves the partition's data bytes) and answers; the reconciler then
// asks P's leader to split (ADMIN_OP_SPLIT: a SplitEntry in P's log; every replica of P
// becomes P [lo, m-1] plus a replica of the child [m, hi] on the same node, sharing P's data).
// Once the leader applied it, the catalog gets both partitions (same members, the child led by
// P's leader) and the map epoch moves on; routers learn it from the event, or from the
// "key range not owned" answers P gives meanwhile, and retry. The child id is known to the
// catalog before any node creates it, so a heartbeat listing it never makes it an orphan. A
// metadata restart resumes from the persisted intent (the storage op is idempotent).
//
// MOVE. MoveReplica plans a ReplicaChange (the same stages as a dead node's replacement, see
// repair.cc: learner on the target, catch-up, promote, remove the source); the source drops
// its replica when its next heartbeat shows it is no longer a member.
//
// LEADERSHIP. TransferLeader queues a transfer of a partition's leadership to another voting
// member (soft state of the serving leader); the reconciler asks the current leader
// (ADMIN_OP_TRANSFER_LEADER), once: the group's own leader hints tell where it ended up, and
// the asker (the autoscaler balancing leaders) asks again if it still wants it.
//
// DRAIN. DrainNode marks a node draining, in the replicated catalog (a new metadata leader
// carries on with the drain). Placement skips draining nodes and the
// reconciler moves their replicas away, one change per partition at a time.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "rpc_util.h"
#include "shoal/metadata/service.h"
#include "shoal/storage/v1/storage.pb.h"

namespace shoal::metadata {

using namespace std::chrono_literals;

namespace {

meta::v1::Partition* find_partition(meta::v1::Table* t, const std::string& id) {
  for (auto& p : *t->mutable_partitions()) {
    if (p.partition_id() == id) return &p;
  }
  return nullptr;
}

bool busy(const meta::v1::Partition& p) {
  return !p.split().new_partition_id().empty() ||
         p.change().stage() != meta::v1::ReplicaChange::STAGE_NONE;
}

// The partition `id` of an ACTIVE table with no split or replica change under way, or the
// error a split or a move of it is refused with.
Result<meta::v1::Partition*> idle_partition(meta::v1::Table* t, const std::string& id) {
  if (t->status() != meta::v1::TABLE_STATUS_ACTIVE) {
    return failed_precondition("table " + t->name() + " is not ACTIVE");
  }
  meta::v1::Partition* p = find_partition(t, id);
  if (!p) return not_found("no partition " + id + " in " + t->name());
  if (busy(*p)) {
    return failed_precondition("partition " + p->partition_id() +
                               " has a split or a replica change under way");
  }
  return p;
}

}  // namespace

std::string MetadataService::split_partition(const std::string& payload) {
  meta::v1::SplitPartitionRequest req;
  if (!req.ParseFromString(payload) || req.table_name().empty() || req.partition_id().empty()) {
    return error_reply<meta::v1::SplitPartitionResponse>(
        invalid_argument("SplitPartition needs a table name and a partition id"));
  }
  meta::v1::SplitPartitionResponse resp;
  Status s = edit_table(req.table_name(), [&](meta::v1::Table* t) -> Status {
    auto idle = idle_partition(t, req.partition_id());
    if (!idle.ok()) return idle.status();
    meta::v1::Partition* p = *idle;
    const uint64_t m = req.split_hash();  // 0: the leader halves the data
    if (m != 0 && (m <= p->hash_lo() || m > p->hash_hi())) {
      return invalid_argument("split hash outside (hash_lo, hash_hi] of " + p->partition_id());
    }
    uint64_t seq = std::max<uint64_t>(t->next_partition_seq(),
                                      static_cast<uint64_t>(t->partitions_size()));
    // Ids stay unique even if the sequence of an old record lagged (it never reuses one).
    std::set<std::string> ids;
    for (const auto& q : t->partitions()) {
      ids.insert(q.partition_id());
      if (!q.split().new_partition_id().empty()) ids.insert(q.split().new_partition_id());
    }
    std::string child;
    do child = t->table_id() + "." + std::to_string(seq++);
    while (ids.count(child));
    t->set_next_partition_seq(seq);
    auto* sc = p->mutable_split();
    sc->set_new_partition_id(child);
    sc->set_split_hash(m);
    sc->set_reason(req.reason().empty() ? "requested" : req.reason());
    sc->set_requested_epoch_ms(now_ms());
    resp.set_new_partition_id(child);
    resp.set_split_hash(m);
    return Status::ok();
  });
  if (!s.is_ok()) return error_reply<meta::v1::SplitPartitionResponse>(s);
  spdlog::info("metadata: split of {} in {} at {:016x} into {} planned ({})", req.partition_id(),
               req.table_name(), resp.split_hash(), resp.new_partition_id(),
               req.reason().empty() ? "requested" : req.reason());
  {
    std::lock_guard lock(mu_);
    kicked_ = true;
  }
  kick_.notify_all();
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

void MetadataService::split_once() {
  struct Job {
    std::string table;
    std::string table_id;
    meta::v1::Partition partition;
  };
  std::vector<Job> jobs;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, t] : tables_) {
      if (t.status() != meta::v1::TABLE_STATUS_ACTIVE) continue;
      for (const auto& p : t.partitions()) {
        if (!p.split().new_partition_id().empty()) jobs.push_back({name, t.table_id(), p});
      }
    }
  }
  for (const auto& job : jobs) {
    const auto& p = job.partition;
    const auto& sc = p.split();
    storage::v1::AdminRequest req;
    req.set_op(storage::v1::ADMIN_OP_SPLIT);
    req.set_split_hash(sc.split_hash());
    req.set_new_partition_id(sc.new_partition_id());
    const auto started = std::chrono::steady_clock::now();
    storage::v1::AdminResponse answer;
    Status s = leader_call(p, req, &answer);
    const uint64_t m = sc.split_hash() != 0 ? sc.split_hash() : answer.split_hash();
    if (s.is_ok() && (m <= p.hash_lo() || m > p.hash_hi())) {
      s = internal_error("split of " + p.partition_id() + " answered without a usable hash");
    }
    if (!s.is_ok()) {
      spdlog::info("metadata: split of {} waits: {}", p.partition_id(), s.to_string());
      if (s.code() == Code::kInvalidArgument) {
        // The group refuses it for good (the range moved): drop the intent.
        std::lock_guard lock(mu_);
        auto it = tables_.find(job.table);
        if (it == tables_.end() || it->second.table_id() != job.table_id) continue;
        meta::v1::Table t = it->second;
        if (auto* q = find_partition(&t, p.partition_id())) q->clear_split();
        if (persist_table(t).is_ok()) it->second = std::move(t);
      }
      continue;
    }
    std::lock_guard lock(mu_);
    auto it = tables_.find(job.table);
    if (it == tables_.end() || it->second.table_id() != job.table_id) continue;
    meta::v1::Table t = it->second;
    meta::v1::Partition* q = find_partition(&t, p.partition_id());
    if (!q || q->split().new_partition_id() != sc.new_partition_id()) continue;
    meta::v1::Partition child = *q;
    child.clear_split();
    child.clear_change();
    child.set_partition_id(sc.new_partition_id());
    child.set_hash_lo(m);
    q->set_hash_hi(m - 1);
    q->clear_split();
    // Partitions stay in hash order.
    auto* parts = t.mutable_partitions();
    *parts->Add() = std::move(child);
    std::stable_sort(parts->begin(), parts->end(),
                     [](const auto& a, const auto& b) { return a.hash_lo() < b.hash_lo(); });
    t.set_map_epoch(t.map_epoch() + 1);
    if (Status ps = persist_table(t); !ps.is_ok()) {
      spdlog::warn("metadata: split of {} applied, catalog write failed (retried): {}",
                   p.partition_id(), ps.to_string());
      continue;
    }
    it->second = t;
    publish_event(meta::v1::EVENT_TYPE_TABLE_CHANGED, t);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    spdlog::info("metadata: {} split at {:016x}: {} takes [{:016x}, {:016x}] ({} partitions, map "
                 "epoch {}, {} ms, {})",
                 p.partition_id(), m, sc.new_partition_id(), m, p.hash_hi(), t.partitions_size(), t.map_epoch(), ms, sc.reason());
    if (splits_counter_) splits_counter_->Increment();
  }
}

std::optional<meta::v1::ReplicaChange> MetadataService::plan_move_locked(
    const meta::v1::Partition& p, const std::string& from, const std::string& to,
    int64_t now) const {
  const int n = p.replica_node_ids_size();
  int src = -1;
  for (int i = 0; i < n; ++i) {
    if (p.replica_node_ids(i) == from) src = i;
  }
  if (src < 0) return std::nullopt;
  const std::string zone = src < p.replica_zones_size() ? p.replica_zones(src) : "";
  std::set<std::string> members(p.replica_node_ids().begin(), p.replica_node_ids().end());
  std::map<std::string, int> load;
  for (const auto& [_, t] : tables_)
    for (const auto& q : t.partitions())
      for (const auto& r : q.replica_node_ids()) ++load[r];
  const meta::v1::Node* best = nullptr;
  for (const auto& [id, node] : nodes_) {
    if (members.count(id) || draining_.count(id)) continue;
    if (now - node.last_heartbeat_epoch_ms() > options_.node_timeout.count()) continue;
    if (node.zone() != zone) continue;  // one replica per zone
    if (!to.empty() && id != to) continue;
    if (!best || std::make_pair(load[id], id) < std::make_pair(load[best->node_id()], best->node_id())) {
      best = &node;
    }
  }
  if (!best) return std::nullopt;
  uint64_t max_raft_id = 0;
  for (int i = 0; i < n; ++i) {
    max_raft_id = std::max(max_raft_id, i < p.replica_raft_ids_size() ? p.replica_raft_ids(i)
                                                                      : static_cast<uint64_t>(i + 1));
  }
  meta::v1::ReplicaChange c;
  c.set_stage(meta::v1::ReplicaChange::STAGE_ADD_LEARNER);
  c.set_dead_node_id(from);
  c.set_dead_raft_id(src < p.replica_raft_ids_size() ? p.replica_raft_ids(src)
                                                     : static_cast<uint64_t>(src + 1));
  c.set_new_node_id(best->node_id());
  c.set_new_raft_id(max_raft_id + 1);
  c.set_zone(best->zone());
  return c;
}

std::string MetadataService::move_replica(const std::string& payload) {
  meta::v1::MoveReplicaRequest req;
  if (!req.ParseFromString(payload) || req.table_name().empty() || req.partition_id().empty() ||
      req.from_node_id().empty()) {
    return error_reply<meta::v1::MoveReplicaResponse>(
        invalid_argument("MoveReplica needs a table name, a partition id and a source node"));
  }
  meta::v1::MoveReplicaResponse resp;
  Status s = edit_table(req.table_name(), [&](meta::v1::Table* t) -> Status {
    auto idle = idle_partition(t, req.partition_id());
    if (!idle.ok()) return idle.status();
    meta::v1::Partition* p = *idle;
    auto plan = plan_move_locked(*p, req.from_node_id(), req.to_node_id(), now_ms());
    if (!plan) {
      return failed_precondition("no live node to move " + p->partition_id() + "'s replica on " +
                                 req.from_node_id() + " to (same zone, not a member)");
    }
    plan->set_reason(req.reason().empty() ? "move" : req.reason());
    resp.set_to_node_id(plan->new_node_id());
    *p->mutable_change() = std::move(*plan);
    if (req.pin_ms() > 0) p->set_pinned_until_epoch_ms(now_ms() + req.pin_ms());
    return Status::ok();
  });
  if (!s.is_ok()) return error_reply<meta::v1::MoveReplicaResponse>(s);
  spdlog::info("metadata: move of {}'s replica from {} to {} planned ({})", req.partition_id(),
               req.from_node_id(), resp.to_node_id(), req.reason().empty() ? "move" : req.reason());
  {
    std::lock_guard lock(mu_);
    kicked_ = true;
  }
  kick_.notify_all();
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

std::string MetadataService::transfer_leader(const std::string& payload) {
  meta::v1::TransferLeaderRequest req;
  if (!req.ParseFromString(payload) || req.table_name().empty() || req.partition_id().empty() ||
      req.to_node_id().empty()) {
    return error_reply<meta::v1::TransferLeaderResponse>(
        invalid_argument("TransferLeader needs a table name, a partition id and a target node"));
  }
  LeaderMove move;
  {
    std::lock_guard lock(mu_);
    if (Status s = serve_locked(); !s.is_ok()) {
      return error_reply<meta::v1::TransferLeaderResponse>(s);
    }
    auto it = tables_.find(req.table_name());
    if (it == tables_.end()) {
      return error_reply<meta::v1::TransferLeaderResponse>(
          not_found("no table " + req.table_name()));
    }
    auto idle = idle_partition(&it->second, req.partition_id());
    if (!idle.ok()) return error_reply<meta::v1::TransferLeaderResponse>(idle.status());
    const meta::v1::Partition& p = **idle;
    uint64_t raft_id = 0;
    for (int i = 0; i < p.replica_node_ids_size(); ++i) {
      if (p.replica_node_ids(i) == req.to_node_id()) {
        raft_id = i < p.replica_raft_ids_size() ? p.replica_raft_ids(i)
                                                : static_cast<uint64_t>(i + 1);
      }
    }
    if (raft_id == 0) {
      return error_reply<meta::v1::TransferLeaderResponse>(failed_precondition(
          "node " + req.to_node_id() + " is not a member of " + p.partition_id()));
    }
    move = {req.table_name(), req.to_node_id(), raft_id,
            req.reason().empty() ? std::string("requested") : req.reason()};
  }
  // The pin first: a caller told of a failure must not see the transfer happen anyway.
  if (req.pin_ms() > 0) {
    Status s = edit_table(req.table_name(), [&](meta::v1::Table* t) -> Status {
      meta::v1::Partition* p = find_partition(t, req.partition_id());
      if (!p) return not_found("no partition " + req.partition_id() + " in " + t->name());
      p->set_pinned_until_epoch_ms(now_ms() + req.pin_ms());
      return Status::ok();
    });
    if (!s.is_ok()) return error_reply<meta::v1::TransferLeaderResponse>(s);
  }
  {
    std::lock_guard lock(mu_);
    leader_moves_[req.partition_id()] = std::move(move);
    kicked_ = true;
  }
  kick_.notify_all();
  spdlog::info("metadata: leadership of {} to {} planned ({})", req.partition_id(),
               req.to_node_id(), req.reason().empty() ? "requested" : req.reason());
  meta::v1::TransferLeaderResponse resp;
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

void MetadataService::transfer_once() {
  std::map<std::string, LeaderMove> moves;
  std::map<std::string, meta::v1::Partition> parts;
  {
    std::lock_guard lock(mu_);
    moves.swap(leader_moves_);
    for (const auto& [pid, m] : moves) {
      auto it = tables_.find(m.table);
      if (it == tables_.end()) continue;
      for (const auto& p : it->second.partitions()) {
        if (p.partition_id() == pid && !busy(p)) parts[pid] = p;
      }
    }
  }
  for (const auto& [pid, m] : moves) {
    auto pit = parts.find(pid);
    if (pit == parts.end()) continue;  // split, moved or dropped meanwhile
    storage::v1::AdminRequest req;
    req.set_op(storage::v1::ADMIN_OP_TRANSFER_LEADER);
    req.mutable_peer()->set_raft_id(m.to_raft_id);
    req.mutable_peer()->set_node_id(m.to_node);
    const auto started = std::chrono::steady_clock::now();
    Status s = leader_call(pit->second, req);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    if (s.is_ok()) {
      spdlog::info("metadata: leadership of {} moved to {} ({} ms, {})", pid, m.to_node, ms,
                   m.reason);
      std::lock_guard lock(mu_);
      // The next heartbeats say so too; routers follow the group's own leader hints.
      if (auto it = tables_.find(m.table); it != tables_.end()) {
        if (auto* p = find_partition(&it->second, pid)) p->set_leader_node_id(m.to_node);
      }
    } else {
      spdlog::info("metadata: leadership of {} to {} not moved: {}", pid, m.to_node,
                   s.to_string());
    }
    if (transfers_counter_) {
      transfers_counter_->Add({{"outcome", s.is_ok() ? "ok" : "failed"}}).Increment();
    }
  }
}

std::string MetadataService::pin_partition(const std::string& payload) {
  meta::v1::PinPartitionRequest req;
  if (!req.ParseFromString(payload) || req.table_name().empty() || req.partition_id().empty() ||
      req.pin_ms() < 0) {
    return error_reply<meta::v1::PinPartitionResponse>(
        invalid_argument("PinPartition needs a table name, a partition id and pin_ms >= 0"));
  }
  meta::v1::PinPartitionResponse resp;
  Status s = edit_table(req.table_name(), [&](meta::v1::Table* t) -> Status {
    meta::v1::Partition* p = find_partition(t, req.partition_id());
    if (!p) return not_found("no partition " + req.partition_id() + " in " + t->name());
    p->set_pinned_until_epoch_ms(req.pin_ms() > 0 ? now_ms() + req.pin_ms() : 0);
    resp.set_pinned_until_epoch_ms(p->pinned_until_epoch_ms());
    return Status::ok();
  });
  if (!s.is_ok()) return error_reply<meta::v1::PinPartitionResponse>(s);
  spdlog::info("metadata: partition {} of {} {}", req.partition_id(), req.table_name(),
               req.pin_ms() > 0 ? "pinned for " + std::to_string(req.pin_ms() / 1000) + " s"
                                : std::string("unpinned"));
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

std::string MetadataService::drain_node(const std::string& payload) {
  meta::v1::DrainNodeRequest req;
  if (!req.ParseFromString(payload) || req.node_id().empty()) {
    return error_reply<meta::v1::DrainNodeResponse>(invalid_argument("DrainNode needs a node id"));
  }
  meta::v1::DrainNodeResponse resp;
  {
    std::lock_guard lock(mu_);
    if (Status s = serve_locked(); !s.is_ok()) return error_reply<meta::v1::DrainNodeResponse>(s);
    auto it = nodes_.find(req.node_id());
    if (it == nodes_.end()) {
      return error_reply<meta::v1::DrainNodeResponse>(not_found("no storage node " + req.node_id()));
    }
    if (draining_.count(req.node_id()) == (req.undrain() ? 1u : 0u)) {
      meta::v1::CatalogWrite w;
      w.set_table_seq(table_seq_);
      (req.undrain() ? w.add_undrain() : w.add_drain())->assign(req.node_id());
      if (Status s = commit_locked(w); !s.is_ok()) {
        return error_reply<meta::v1::DrainNodeResponse>(s);
      }
    }
    if (req.undrain()) draining_.erase(req.node_id());
    else draining_.insert(req.node_id());
    it->second.set_draining(!req.undrain());
    *resp.mutable_node() = it->second;
    kicked_ = true;
  }
  kick_.notify_all();
  spdlog::info("metadata: node {} {}", req.node_id(), req.undrain() ? "no longer draining" : "draining");
  set_status(resp.mutable_status(), Status::ok());
  return resp.SerializeAsString();
}

void MetadataService::plan_drains_locked(int64_t now) {
  if (draining_.empty()) return;
  for (auto& [name, t] : tables_) {
    if (t.status() != meta::v1::TABLE_STATUS_ACTIVE) continue;
    meta::v1::Table copy = t;
    bool changed = false;
    for (auto& p : *copy.mutable_partitions()) {
      if (busy(p)) continue;
      for (const auto& node : p.replica_node_ids()) {
        if (!draining_.count(node)) continue;
        auto plan = plan_move_locked(p, node, "", now);
        if (!plan) break;
        plan->set_reason("drain");
        spdlog::info("metadata: draining {}: {}'s replica moves to {}", node, p.partition_id(),
                     plan->new_node_id());
        *p.mutable_change() = std::move(*plan);
        changed = true;
        break;
      }
    }
    if (changed && persist_table(copy).is_ok()) t = std::move(copy);
  }
}

}  // namespace shoal::metadata
