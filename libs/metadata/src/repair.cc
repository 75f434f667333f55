// Replacing the replicas of storage nodes that have been gone too long.
//
// For each partition with a member whose node has sent no heartbeat for
// MetadataOptions::replace_after, the reconciler picks a live node outside the group (the
// dead node's zone first, so the group keeps one replica per zone) and walks a persisted
// ReplicaChange through its stages, one step per pass, each step an idempotent admin request:
//
//   ADD_LEARNER  the group's leader adds the new node as a learner (committed in the log)
//   OPEN         the new node opens its replica as a learner; it catches up from the
//                leader's log, or from a snapshot once the log is compacted
//   CATCH_UP     until it has applied what the leader had committed when it joined
//   PROMOTE      the learner becomes a voter
//   REMOVE       the dead member leaves the group; the catalog names the new member and the
//                map epoch moves on (routers learn it from the event)
//
// A step that fails is retried on the next pass; a metadata restart resumes from the stage
// on disk. The dead node, if it ever returns, finds its replica orphaned and drops it (see
// heartbeat()).

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "rpc_util.h"
#include "shoal/metadata/service.h"
#include "shoal/storage/v1/storage.pb.h"

namespace shoal::metadata {

using namespace std::chrono_literals;
using meta::v1::ReplicaChange;

namespace {

Status from_proto(const common::v1::Status& s) {
  if (s.code() == common::v1::CODE_OK) return Status::ok();
  return Status(static_cast<Code>(s.code()), s.message());
}

}  // namespace

Result<storage::v1::AdminResponse> MetadataService::admin_call(
    const std::string& node, const storage::v1::AdminRequest& req) {
  auto reply = nats_->request_sync(subjects_.node_admin(node), req.SerializeAsString(), 3s);
  if (!reply.ok()) return reply.status();
  storage::v1::AdminResponse resp;
  if (!resp.ParseFromString(*reply)) return internal_error("unparsable admin reply from " + node);
  return resp;
}

Status MetadataService::leader_call(const meta::v1::Partition& p, storage::v1::AdminRequest req,
                                    storage::v1::AdminResponse* out) {
  req.mutable_replica()->set_partition_id(p.partition_id());
  std::vector<std::string> candidates;
  if (!p.leader_node_id().empty()) candidates.push_back(p.leader_node_id());
  for (const auto& n : p.replica_node_ids()) candidates.push_back(n);
  Status last = unavailable("no member of " + p.partition_id() + " answered");
  for (size_t i = 0; i < candidates.size() && i < 6; ++i) {
    auto resp = admin_call(candidates[i], req);
    if (!resp.ok()) {
      last = resp.status();
      continue;
    }
    Status s = from_proto(resp->status());
    if (s.is_ok()) {
      if (out) *out = *resp;
      return s;
    }
    last = s;
    if (s.code() == Code::kStaleRoute && !resp->leader_node_id().empty()) {
      candidates.insert(candidates.begin() + static_cast<ptrdiff_t>(i) + 1, resp->leader_node_id());
    }
  }
  return last;
}

std::optional<ReplicaChange> MetadataService::plan_replacement_locked(const meta::v1::Partition& p,
                                                                      int64_t now) const {
  const int n = p.replica_node_ids_size();
  if (n < 2 || options_.replace_after.count() <= 0) return std::nullopt;
  auto alive = [&](const std::string& id, std::chrono::milliseconds within) {
    auto it = nodes_.find(id);
    return it != nodes_.end() && now - it->second.last_heartbeat_epoch_ms() <= within.count();
  };
  int dead = -1, live = 0;
  for (int i = 0; i < n; ++i) {
    if (alive(p.replica_node_ids(i), options_.node_timeout)) ++live;
    else if (dead < 0 && !alive(p.replica_node_ids(i), options_.replace_after)) dead = i;
  }
  // The change must be committed by the group: a quorum of it has to be alive.
  if (dead < 0 || live < n / 2 + 1) return std::nullopt;
  const std::string dead_zone = dead < p.replica_zones_size() ? p.replica_zones(dead) : "";
  std::set<std::string> members(p.replica_node_ids().begin(), p.replica_node_ids().end());
  std::set<std::string> used_zones;
  for (int i = 0; i < p.replica_zones_size(); ++i) {
    if (i != dead) used_zones.insert(p.replica_zones(i));
  }
  // Same zone first, then any zone the group does not use yet; least loaded, then by id.
  std::map<std::string, int> load;
  for (const auto& [_, t] : tables_)
    for (const auto& q : t.partitions())
      for (const auto& r : q.replica_node_ids()) ++load[r];
  const meta::v1::Node* best = nullptr;
  auto rank = [&](const meta::v1::Node& c) {
    return std::make_tuple(c.zone() == dead_zone ? 0 : 1, load[c.node_id()], c.node_id());
  };
  for (const auto& [id, node] : nodes_) {
    if (members.count(id) || !alive(id, options_.node_timeout)) continue;
    if (node.zone() != dead_zone && used_zones.count(node.zone())) continue;
    if (!best || rank(node) < rank(*best)) best = &node;
  }
  if (!best) return std::nullopt;
  uint64_t max_raft_id = 0;
  for (int i = 0; i < n; ++i) {
    uint64_t id = i < p.replica_raft_ids_size() ? p.replica_raft_ids(i) : static_cast<uint64_t>(i + 1);
    max_raft_id = std::max(max_raft_id, id);
  }
  ReplicaChange c;
  c.set_stage(ReplicaChange::STAGE_ADD_LEARNER);
  c.set_dead_node_id(p.replica_node_ids(dead));
  c.set_dead_raft_id(dead < p.replica_raft_ids_size() ? p.replica_raft_ids(dead)
                                                      : static_cast<uint64_t>(dead + 1));
  c.set_new_node_id(best->node_id());
  c.set_new_raft_id(max_raft_id + 1);
  c.set_zone(best->zone());
  return c;
}

void MetadataService::repair_once() {
  struct Job {
    std::string table;
    meta::v1::Partition partition;
    std::string table_id;
  };
  std::vector<Job> jobs;
  {
    std::lock_guard lock(mu_);
    const int64_t now = now_ms();
    plan_drains_locked(now);
    plan_missing_locked(now);
    for (auto& [name, t] : tables_) {
      if (t.status() != meta::v1::TABLE_STATUS_ACTIVE) continue;
      bool changed = false;
      for (auto& p : *t.mutable_partitions()) {
        if (p.change().stage() == ReplicaChange::STAGE_NONE) {
          auto plan = plan_replacement_locked(p, now);
          if (!plan) continue;
          *p.mutable_change() = *plan;
          changed = true;
          spdlog::warn("metadata: replacing {}'s replica of {} (gone over {} ms) by {} in {}",
                       plan->dead_node_id(), p.partition_id(), options_.replace_after.count(),
                       plan->new_node_id(), plan->zone());
        }
        jobs.push_back({name, p, t.table_id()});
      }
      if (changed) {
        if (Status s = persist_table(t); !s.is_ok()) {
          spdlog::error("metadata: cannot persist replacement plan: {}", s.to_string());
          return;
        }
      }
    }
  }
  for (const auto& job : jobs) {
    Status s = advance_change(job.table, job.table_id, job.partition);
    if (!s.is_ok()) {
      spdlog::debug("metadata: replacement in {} waits: {}", job.partition.partition_id(),
                    s.to_string());
    }
  }
}

// A member can lack its replica for good: a node that took its parent's image past a split
// never created the child (it never applied the split entry). Its heartbeats say so; after
// reopen_missing_after (long past the ordinary gap between a split and its application
// everywhere) the member is replaced by itself: a ReplicaChange adds a new raft id on the
// same node as a learner, which catches up from the leader by image, is promoted, and the old
// raft id is removed. Not simply reopened under its old raft id: metadata cannot tell a
// replica that never existed from one whose node lost its disk, and a voter that comes back
// empty could help elect a leader missing entries it had acknowledged. If the node applies
// the split later after all, its parent only gives up the range (storage: apply_split with
// the child already open).
void MetadataService::plan_missing_locked(int64_t now) {
  if (options_.reopen_missing_after.count() <= 0) return;
  for (auto& [node, missing] : missing_) {
    auto n = nodes_.find(node);
    if (n == nodes_.end() || draining_.count(node) ||
        now - n->second.last_heartbeat_epoch_ms() > options_.node_timeout.count()) {
      continue;
    }
    for (auto& [pid, since] : missing) {
      if (now - since < options_.reopen_missing_after.count()) continue;
      for (auto& [name, t] : tables_) {
        if (t.status() != meta::v1::TABLE_STATUS_ACTIVE) continue;
        meta::v1::Table copy = t;
        meta::v1::Partition* p = nullptr;
        for (auto& q : *copy.mutable_partitions()) {
          if (q.partition_id() == pid) p = &q;
        }
        if (!p || p->change().stage() != ReplicaChange::STAGE_NONE ||
            !p->split().new_partition_id().empty()) {
          continue;
        }
        int self = -1;
        uint64_t max_raft_id = 0;
        for (int i = 0; i < p->replica_node_ids_size(); ++i) {
          const uint64_t id = i < p->replica_raft_ids_size() ? p->replica_raft_ids(i)
                                                             : static_cast<uint64_t>(i + 1);
          max_raft_id = std::max(max_raft_id, id);
          if (p->replica_node_ids(i) == node) self = i;
        }
        if (self < 0) continue;
        ReplicaChange c;
        c.set_stage(ReplicaChange::STAGE_ADD_LEARNER);
        c.set_dead_node_id(node);
        c.set_dead_raft_id(self < p->replica_raft_ids_size() ? p->replica_raft_ids(self)
                                                             : static_cast<uint64_t>(self + 1));
        c.set_new_node_id(node);
        c.set_new_raft_id(max_raft_id + 1);
        c.set_zone(self < p->replica_zones_size() ? p->replica_zones(self) : n->second.zone());
        c.set_reason("replica missing on its node");
        *p->mutable_change() = c;
        if (Status st = persist_table(copy); !st.is_ok()) {
          spdlog::warn("metadata: cannot persist the re-creation of {} on {}: {}", pid, node,
                       st.to_string());
          continue;
        }
        t = std::move(copy);
        spdlog::warn("metadata: {} has been missing its replica of {} for {} s: replacing it "
                     "there by a new member (raft id {})",
                     node, pid, (now - since) / 1000, c.new_raft_id());
        if (reopened_counter_) reopened_counter_->Increment();
      }
      since = now;  // looked at again only after another period
    }
  }
}

Status MetadataService::advance_change(const std::string& table, const std::string& table_id,
                                       const meta::v1::Partition& p) {
  const ReplicaChange& c = p.change();
  storage::v1::Peer peer;
  peer.set_raft_id(c.new_raft_id());
  peer.set_node_id(c.new_node_id());
  peer.set_zone(c.zone());
  peer.set_learner(true);
  ReplicaChange next = c;
  switch (c.stage()) {
    case ReplicaChange::STAGE_ADD_LEARNER: {
      storage::v1::AdminRequest req;
      req.set_op(storage::v1::ADMIN_OP_ADD_LEARNER);
      *req.mutable_peer() = peer;
      SHOAL_RETURN_IF_ERROR(leader_call(p, req));
      next.set_stage(ReplicaChange::STAGE_OPEN);
      break;
    }
    case ReplicaChange::STAGE_OPEN: {
      storage::v1::AdminRequest req;
      req.set_op(storage::v1::ADMIN_OP_OPEN_REPLICA);
      auto* d = req.mutable_replica();
      d->set_table_id(table_id);
      d->set_partition_id(p.partition_id());
      d->set_hash_lo(p.hash_lo());
      d->set_hash_hi(p.hash_hi());
      for (int j = 0; j < p.replica_node_ids_size(); ++j) {
        // A member replaced by a new raft id on its own node (a missing replica) is left
        // out: the node must open the new one, not find its old id first.
        if (p.replica_node_ids(j) == c.new_node_id()) continue;
        auto* m = d->add_peers();
        m->set_node_id(p.replica_node_ids(j));
        m->set_raft_id(j < p.replica_raft_ids_size() ? p.replica_raft_ids(j) : uint64_t(j + 1));
        if (j < p.replica_zones_size()) m->set_zone(p.replica_zones(j));
      }
      *d->add_peers() = peer;
      auto resp = admin_call(c.new_node_id(), req);
      if (!resp.ok()) return resp.status();
      SHOAL_RETURN_IF_ERROR(from_proto(resp->status()));
      // What the learner must have applied before it may vote: the leader's commit now.
      uint64_t commit = 0;
      storage::v1::AdminRequest stats;
      stats.set_op(storage::v1::ADMIN_OP_STATS);
      for (const auto& node : p.replica_node_ids()) {
        auto r = admin_call(node, stats);
        if (!r.ok()) continue;
        for (const auto& rs : r->replicas()) {
          if (rs.replica().partition_id() == p.partition_id() && rs.leader()) {
            commit = std::max(commit, rs.commit_index());
          }
        }
      }
      if (commit == 0) return unavailable("no leader reported a commit index yet");
      next.set_catch_up_to(commit);
      next.set_stage(ReplicaChange::STAGE_CATCH_UP);
      break;
    }
    case ReplicaChange::STAGE_CATCH_UP: {
      storage::v1::AdminRequest stats;
      stats.set_op(storage::v1::ADMIN_OP_STATS);
      auto r = admin_call(c.new_node_id(), stats);
      if (!r.ok()) return r.status();
      uint64_t applied = 0;
      for (const auto& rs : r->replicas()) {
        if (rs.replica().partition_id() == p.partition_id()) applied = rs.applied_index();
      }
      if (applied < c.catch_up_to()) {
        return unavailable("learner at " + std::to_string(applied) + " of " +
                           std::to_string(c.catch_up_to()));
      }
      next.set_stage(ReplicaChange::STAGE_PROMOTE);
      break;
    }
    case ReplicaChange::STAGE_PROMOTE: {
      storage::v1::AdminRequest req;
      req.set_op(storage::v1::ADMIN_OP_PROMOTE);
      *req.mutable_peer() = peer;
      req.mutable_peer()->set_learner(false);
      SHOAL_RETURN_IF_ERROR(leader_call(p, req));
      next.set_stage(ReplicaChange::STAGE_REMOVE);
      break;
    }
    case ReplicaChange::STAGE_REMOVE: {
      storage::v1::AdminRequest req;
      req.set_op(storage::v1::ADMIN_OP_REMOVE_PEER);
      req.mutable_peer()->set_raft_id(c.dead_raft_id());
      req.mutable_peer()->set_node_id(c.dead_node_id());
      SHOAL_RETURN_IF_ERROR(leader_call(p, req));
      next.set_stage(ReplicaChange::STAGE_NONE);
      break;
    }
    default:
      return Status::ok();
  }
  // Record the step (the catalog may have moved meanwhile: only if the plan is unchanged).
  std::lock_guard lock(mu_);
  auto it = tables_.find(table);
  if (it == tables_.end() || it->second.table_id() != table_id) return Status::ok();
  meta::v1::Table& t = it->second;
  for (auto& q : *t.mutable_partitions()) {
    if (q.partition_id() != p.partition_id()) continue;
    if (q.change().new_raft_id() != c.new_raft_id() || q.change().stage() != c.stage()) {
      return Status::ok();
    }
    if (next.stage() != ReplicaChange::STAGE_NONE) {
      *q.mutable_change() = next;
    } else {
      // Done: the new member takes the dead one's place in the catalog.
      for (int j = 0; j < q.replica_node_ids_size(); ++j) {
        if (q.replica_node_ids(j) != c.dead_node_id()) continue;
        q.set_replica_node_ids(j, c.new_node_id());
        if (j < q.replica_raft_ids_size()) q.set_replica_raft_ids(j, c.new_raft_id());
        if (j < q.replica_zones_size()) q.set_replica_zones(j, c.zone());
      }
      if (q.leader_node_id() == c.dead_node_id()) q.clear_leader_node_id();
      q.clear_change();
      t.set_map_epoch(t.map_epoch() + 1);
      spdlog::warn("metadata: {}'s replica of {} replaced by {} (map epoch {})", c.dead_node_id(),
                   q.partition_id(), c.new_node_id(), t.map_epoch());
    }
    SHOAL_RETURN_IF_ERROR(persist_table(t));
    if (next.stage() == ReplicaChange::STAGE_NONE) {
      publish_event(meta::v1::EVENT_TYPE_TABLE_CHANGED, t);
    } else {
      kicked_ = true;  // go on with the next step soon
    }
    spdlog::info("metadata: replacement in {}: {} -> {}", p.partition_id(),
                 ReplicaChange::Stage_Name(c.stage()), ReplicaChange::Stage_Name(next.stage()));
    return Status::ok();
  }
  return Status::ok();
}

}  // namespace shoal::metadata
