#include "membership.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace shoal::storage {

namespace {

bool contains(const std::vector<raft::NodeId>& v, raft::NodeId id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

std::string_view op_name(storage::v1::AdminOp op) {
  switch (op) {
    case storage::v1::ADMIN_OP_ADD_LEARNER: return "add-learner";
    case storage::v1::ADMIN_OP_PROMOTE: return "promote";
    case storage::v1::ADMIN_OP_REMOVE_PEER: return "remove-peer";
    case storage::v1::ADMIN_OP_SPLIT: return "split";
    case storage::v1::ADMIN_OP_TRANSFER_LEADER: return "transfer-leader";
    default: return "?";
  }
}

void reply(ReplicaState& st, const std::string& subject, const Status& s,
           uint64_t split_hash = 0) {
  if (subject.empty()) return;
  storage::v1::AdminResponse resp;
  if (s.is_ok()) resp.set_split_hash(split_hash);
  resp.mutable_status()->set_code(s.is_ok() ? common::v1::CODE_OK
                                            : static_cast<common::v1::Code>(s.code()));
  resp.mutable_status()->set_message(s.message());
  if (s.code() == Code::kStaleRoute) resp.set_leader_node_id(leader_node(st));
  if (Status p = st.env->nats->publish(subject, resp.SerializeAsString()); !p.is_ok()) {
    spdlog::warn("replica {}: admin reply failed: {}", st.partition_id, p.to_string());
  }
}

void finish(ReplicaState& st, const Status& s) {
  auto& op = *st.membership;
  if (op.request.op() == storage::v1::ADMIN_OP_SPLIT) {
    spdlog::info("replica {}: split at {:016x} into {}: {}", st.partition_id,
                 op.done_split_hash, op.request.new_partition_id(),
                 s.is_ok() ? "applied" : s.to_string());
  } else if (s.is_ok() && op.request.op() == storage::v1::ADMIN_OP_TRANSFER_LEADER) {
    spdlog::info("replica {}: leadership is with raft id {} ({})", st.partition_id,
                 op.request.peer().raft_id(), op.request.peer().node_id());
  } else if (s.is_ok()) {
    spdlog::info("replica {}: {} of raft id {} ({}) committed", st.partition_id,
                 op_name(op.request.op()), op.request.peer().raft_id(),
                 op.request.peer().node_id());
  } else {
    spdlog::info("replica {}: {} of raft id {}: {}", st.partition_id, op_name(op.request.op()),
                 op.request.peer().raft_id(), s.to_string());
  }
  reply(st, op.reply_subject, s, op.done_split_hash);
  st.membership.reset();
}

const storage::v1::Peer* directory_peer(const ReplicaState& st, uint64_t raft_id) {
  for (const auto& p : st.record.replica().peers()) {
    if (p.raft_id() == raft_id) return &p;
  }
  return nullptr;
}

// Raft refused for now (another change or no entry of this term committed yet): retry later.
Status proposal_status(const Status& s) {
  if (s.code() == Code::kFailedPrecondition) return unavailable(s.message());
  return s;
}

// The change is already in force: done once the configuration's latest change is committed.
void wait_settled(ReplicaState& st) {
  auto& op = *st.membership;
  op.directory_stage = false;
  op.index = st.raft->last_conf_change_index();
  op.term = st.raft->term_at(op.index);
  if (op.index <= st.raft->commit_index()) finish(st, Status::ok());
}

// A split: answered OK at once if it is already applied here, else its entry is proposed and
// answered once this leader applied it.
void propose_split(ReplicaState& st) {
  auto& op = *st.membership;
  const auto& d = st.record.replica();
  uint64_t m = op.request.split_hash();
  const std::string& child = op.request.new_partition_id();
  if (child.empty() || child == st.partition_id) {
    return finish(st, invalid_argument("split of " + st.partition_id + " without a new partition id"));
  }
  std::string raw;
  if (st.env->store->get(st.env->meta_cf, meta_key(child), &raw).is_ok()) {
    // Done before (a retry): answer with where it was split.
    storage::v1::ReplicaRecord r;
    if (r.ParseFromString(raw)) op.done_split_hash = r.replica().hash_lo();
    return finish(st, Status::ok());
  }
  if (m == 0) {
    // The data's median: the first hash at which the bytes before it reach half. A hash
    // holds every item of one partition key, so the split falls between two keys' hashes.
    const std::string end = range_end_key(d.hash_hi());
    auto it = st.env->store->iterator(st.env->data_cf);
    uint64_t seen = 0, prev = d.hash_lo();
    bool any = false;
    for (it->Seek(range_begin_key(d.hash_lo())); it->Valid() && it->key().compare(end) < 0;
         it->Next()) {
      const uint64_t h = key_hash(std::string_view(it->key().data(), it->key().size()));
      if (any && h != prev && seen * 2 >= st.data_bytes) {
        m = h;
        break;
      }
      if (any && h != prev) m = h;  // the last boundary so far, if half is never reached
      any = true;
      prev = h;
      seen += it->key().size() + it->value().size();
    }
    if (m == 0 || m <= d.hash_lo()) {
      return finish(st, invalid_argument("no split point separates the data of " +
                                            st.partition_id + " (one partition key)"));
    }
  }
  if (m <= d.hash_lo() || m > d.hash_hi()) {
    return finish(st, invalid_argument("split hash outside the range of " + st.partition_id));
  }
  if (!st.raft->conf_state().learners.empty()) {
    return finish(st, failed_precondition("a membership change of " + st.partition_id +
                                          " is under way"));
  }
  storage::v1::LogEntry le;
  le.mutable_split()->set_split_hash(m);
  le.mutable_split()->set_new_partition_id(child);
  auto r = st.raft->propose(le.SerializeAsString());
  if (!r.ok()) return finish(st, proposal_status(r.status()));
  op.apply_stage = true;
  op.index = r->index;
  op.term = r->term;
  op.done_split_hash = m;
  op.request.set_split_hash(m);  // writes to [m, hi] wait for the split (splitting_off)
  spdlog::info("replica {}: split at {:016x} into {} proposed at {}", st.partition_id, m, child,
               r->index);
}

// Takes the next step of the change in progress: answers it, or proposes an entry.
void next_step(ReplicaState& st) {
  auto& op = *st.membership;
  const auto& peer = op.request.peer();
  const raft::NodeId id = peer.raft_id();
  auto& node = *st.raft;
  const bool voter = node.is_voter(id), learner = node.is_learner(id);
  raft::ConfChange cc;
  cc.node = id;
  switch (op.request.op()) {
    case storage::v1::ADMIN_OP_ADD_LEARNER: {
      if (voter || learner) return wait_settled(st);
      if (peer.node_id().empty()) return finish(st, invalid_argument("add-learner without a node id"));
      const auto* known = directory_peer(st, id);
      if (known && known->node_id() != peer.node_id()) {
        return finish(st, invalid_argument("raft id " + std::to_string(id) + " of " +
                                           st.partition_id + " is node " + known->node_id()));
      }
      if (!known) {
        // First every replica learns where the new member is.
        storage::v1::LogEntry le;
        *le.mutable_peer() = peer;
        le.mutable_peer()->set_learner(true);
        auto r = node.propose(le.SerializeAsString());
        if (!r.ok()) return finish(st, proposal_status(r.status()));
        op.directory_stage = true;
        op.index = r->index;
        op.term = r->term;
        return;
      }
      cc.type = raft::ConfChange::Type::kAddLearner;
      break;
    }
    case storage::v1::ADMIN_OP_PROMOTE:
      if (voter) return wait_settled(st);
      if (!learner) {
        return finish(st, failed_precondition("raft id " + std::to_string(id) +
                                              " is not a learner of " + st.partition_id));
      }
      cc.type = raft::ConfChange::Type::kPromote;
      break;
    case storage::v1::ADMIN_OP_REMOVE_PEER:
      if (!voter && !learner) return wait_settled(st);
      cc.type = raft::ConfChange::Type::kRemove;
      break;
    case storage::v1::ADMIN_OP_SPLIT:
      return propose_split(st);
    case storage::v1::ADMIN_OP_TRANSFER_LEADER: {
      if (id == node.id()) return finish(st, Status::ok());  // already leads
      if (!voter) {
        return finish(st, failed_precondition("raft id " + std::to_string(id) +
                                              " is not a voter of " + st.partition_id));
      }
      if (Status s = node.transfer_leadership(id); !s.is_ok()) return finish(st, s);
      op.transfer_stage = true;
      spdlog::info("replica {}: leadership transfer to raft id {} ({}) started", st.partition_id,
                   id, peer.node_id());
      return;
    }
    default:
      return finish(st, invalid_argument("not a membership op"));
  }
  auto r = node.propose_conf_change(cc);
  if (!r.ok()) return finish(st, proposal_status(r.status()));
  op.directory_stage = false;
  op.index = r->index;
  op.term = r->term;
  spdlog::info("replica {}: {} of raft id {} proposed at {}", st.partition_id,
               op_name(op.request.op()), id, r->index);
}

}  // namespace

void handle_membership(ReplicaState& st, const MembershipCallPtr& call) {
  if (!st.leader) {
    return reply(st, call->reply_subject, stale_route("not the leader of " + st.partition_id));
  }
  if (st.membership) {
    return reply(st, call->reply_subject,
                 unavailable("a membership change of " + st.partition_id + " is in progress"));
  }
  if (call->request.op() != storage::v1::ADMIN_OP_SPLIT && call->request.peer().raft_id() == 0) {
    return reply(st, call->reply_subject, invalid_argument("membership change without a raft id"));
  }
  ReplicaState::MembershipOp op;
  op.request = call->request;
  op.reply_subject = call->reply_subject;
  op.ticks_left = st.env->membership_wait_ticks;
  st.membership = std::move(op);
  next_step(st);
}

void check_membership(ReplicaState& st) {
  if (!st.membership) return;
  auto& op = *st.membership;
  auto& node = *st.raft;
  if (op.transfer_stage) {
    const raft::NodeId target = op.request.peer().raft_id();
    if (st.leader) {
      // Still leading with no transfer under way: the target did not catch up in time.
      if (node.transfer_target() == raft::kNoNode) {
        finish(st, unavailable("leadership transfer of " + st.partition_id + " to raft id " +
                               std::to_string(target) + " abandoned; retry"));
      }
      return;
    }
    if (node.leader() == target) return finish(st, Status::ok());
    if (node.leader() != raft::kNoNode) {
      return finish(st, unavailable("leadership of " + st.partition_id + " went to raft id " +
                                    std::to_string(node.leader()) + ", not " +
                                    std::to_string(target)));
    }
    return;  // between terms: the next message from the new leader decides
  }
  if (op.index == 0) return;
  if (node.commit_index() >= op.index) {
    if (node.term_at(op.index) != op.term) {
      return finish(st, unavailable("membership entry of " + st.partition_id +
                                    " superseded by a new leader; retry"));
    }
    if (op.apply_stage) {
      if (node.applied_index() < op.index) return;
      return finish(st, Status::ok());
    }
    if (!op.directory_stage) return finish(st, Status::ok());
    // The conf change goes out once this leader itself knows where the member is.
    if (node.applied_index() < op.index) return;
    if (!st.leader) return finish(st, stale_route("lost the leadership of " + st.partition_id));
    return next_step(st);
  }
  if (!st.leader) {
    finish(st, stale_route("lost the leadership of " + st.partition_id +
                           " before the membership change committed; retry"));
  }
}

void membership_ticks(ReplicaState& st, int ticks) {
  if (!st.membership) return;
  st.membership->ticks_left -= ticks;
  if (st.membership->ticks_left <= 0) {
    finish(st, unavailable("membership change of " + st.partition_id +
                           " not committed yet; retry"));
  }
}

void apply_directory_entry(ReplicaState& st, const storage::v1::Peer& peer) {
  auto* peers = st.record.mutable_replica()->mutable_peers();
  if (peers->empty()) {
    // A group of one from before Raft: make its implicit member explicit first.
    for (const auto& p : group_peers(st.record.replica(), st.env->self_node)) *peers->Add() = p;
  }
  bool found = false;
  for (auto& p : *peers) {
    if (p.raft_id() == peer.raft_id()) {
      p = peer;
      found = true;
    }
  }
  if (!found) *peers->Add() = peer;
  st.peer_nodes[peer.raft_id()] = peer.node_id();
  st.group_dirty = true;
}

void apply_conf_change(ReplicaState& st, const raft::Entry& e) {
  raft::ConfChange cc;
  raft::ConfState result;
  if (!raft::decode_conf_change(e.data, &cc, &result)) {
    die(st, "decoding a conf change", internal_error("bad conf change entry"));
  }
  auto* peers = st.record.mutable_replica()->mutable_peers();
  for (int i = 0; i < peers->size();) {
    auto& p = (*peers)[i];
    if (cc.type == raft::ConfChange::Type::kRemove && p.raft_id() == cc.node) {
      peers->DeleteSubrange(i, 1);
      continue;
    }
    if (contains(result.voters, p.raft_id())) p.set_learner(false);
    else if (contains(result.learners, p.raft_id())) p.set_learner(true);
    ++i;
  }
  if (cc.type == raft::ConfChange::Type::kRemove) st.peer_nodes.erase(cc.node);
  st.group_dirty = true;
  spdlog::info("replica {}: conf change at {} applied ({} voters, {} learners){}",
               st.partition_id, e.index, result.voters.size(), result.learners.size(),
               cc.type == raft::ConfChange::Type::kRemove && cc.node == st.raft->id()
                   ? "; this replica left the group"
                   : "");
}

void load_directory(ReplicaState& st) {
  st.peer_nodes.clear();
  for (const auto& p : group_peers(st.record.replica(), st.env->self_node)) {
    st.peer_nodes[p.raft_id()] = p.node_id();
  }
}

std::vector<storage::v1::Peer> group_members(const ReplicaState& st) {
  const raft::ConfState conf = st.raft->conf_state();
  std::vector<storage::v1::Peer> out;
  auto add = [&](raft::NodeId id, bool learner) {
    storage::v1::Peer p;
    if (const auto* known = directory_peer(st, id)) {
      p = *known;
    } else {
      p.set_raft_id(id);
      if (auto it = st.peer_nodes.find(id); it != st.peer_nodes.end()) p.set_node_id(it->second);
    }
    p.set_learner(learner);
    out.push_back(std::move(p));
  };
  for (auto id : conf.voters) add(id, false);
  for (auto id : conf.learners) add(id, true);
  return out;
}

}  // namespace shoal::storage
