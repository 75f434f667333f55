#pragma once
// Membership of a partition's Raft group, on the replica actor.
//
// PEER DIRECTORY. Every replica knows the node and zone of each raft id of its group: the
// directory is ReplicaRecord.replica.peers, persisted with the apply batches, and mirrored in
// ReplicaState::peer_nodes (where Raft messages go). A new group starts with the descriptor's
// peers. Adding a member proposes, before its AddLearner conf change, a normal entry
// (LogEntry.peer) that every replica applies to its directory; applying a conf change updates
// the learner flags and removes a removed member. A snapshot carries the directory at its index.
//
// ADMIN OPS (ADD_LEARNER, PROMOTE, REMOVE_PEER; sent to the leader's node). The admin thread
// hands them to the actor, which answers on NATS itself (the admin thread never waits):
//   - not the leader: STALE_ROUTE with AdminResponse.leader_node_id;
//   - another change in progress on this leader: UNAVAILABLE (retry);
//   - already in force: OK once the configuration's latest change is committed;
//   - otherwise (ADD_LEARNER: directory entry first, once applied) the conf change is
//     proposed and OK is answered when it is committed. Raft refusing it for now (another
//     change uncommitted, no entry of this term committed yet) is UNAVAILABLE; losing
//     leadership before the commit is STALE_ROUTE; not committed within membership_wait_ticks
//     (2.5 s, under the callers' 3 s timeout) is UNAVAILABLE. Retrying is always safe.
// A removed replica stays open until metadata drops it: it is not a voter of the configuration
// it knows (or, if it missed its removal, its log is behind), so it never wins an election,
// and libs/raft never lets a non-voter campaign; pre-vote and check-quorum keep its attempts
// from disturbing the group.

#include "replica.h"

namespace shoal::storage {

// A MembershipCall from the admin subject (the caller drives afterwards).
void handle_membership(ReplicaState& st, const MembershipCallPtr& call);
// After each turn and tick: advances the change in progress or answers it.
void check_membership(ReplicaState& st);
void membership_ticks(ReplicaState& st, int ticks);

// Applying committed entries (part of the apply batch: the caller persists st.record).
void apply_directory_entry(ReplicaState& st, const storage::v1::Peer& peer);
void apply_conf_change(ReplicaState& st, const raft::Entry& e);

// raft id -> node from the record's directory.
void load_directory(ReplicaState& st);
// The configuration in force, with node, zone and learner flag (admin stats).
std::vector<storage::v1::Peer> group_members(const ReplicaState& st);

}  // namespace shoal::storage
