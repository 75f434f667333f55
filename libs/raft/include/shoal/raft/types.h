#pragma once
// Plain data that crosses the boundary of a raft::Node: log entries, the durable hard state,
// messages between replicas, configuration and the Ready batch of outputs.
//
// Nothing here does I/O. The embedding code (a CAF replica actor, or the simulator in
// tests) turns Messages into bytes and HardState/Entries into storage writes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::raft {

using NodeId = uint64_t;  // 0 means "none"
inline constexpr NodeId kNoNode = 0;

enum class EntryType : uint8_t {
  kNormal = 0,      // application command
  kNoop = 1,        // appended by every new leader; applies to nothing
  kConfChange = 2,  // membership change (see ConfChange); data = encode_conf_change(...)
};

struct Entry {
  uint64_t term = 0;
  uint64_t index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// A group's membership. Voters elect leaders and count for commit quorums, check-quorum
// and leases; learners only receive the log (and snapshots).
struct ConfState {
  std::vector<NodeId> voters;    // kept sorted
  std::vector<NodeId> learners;  // kept sorted, disjoint from voters

  friend bool operator==(const ConfState&, const ConfState&) = default;
};

// One single-server membership change (Raft dissertation 4.1). At most one is uncommitted at a
// time, and a leader proposes one only after it committed an entry of its own term. The new
// configuration takes effect on every node as soon as the entry is in its log (appended, not
// committed); if the entry is truncated away, the node reverts to the previous one.
struct ConfChange {
  enum class Type : uint8_t {
    kAddLearner = 0,  // node becomes a learner (must be neither voter nor learner)
    kPromote = 1,     // learner becomes a voter
    kRemove = 2,      // voter or learner leaves the group (a removed leader steps down once
                      // the entry commits)
  };
  Type type = Type::kAddLearner;
  NodeId node = kNoNode;

  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

// The payload of a kConfChange entry: the change and the whole configuration it produces (so a
// node can take its membership from the latest such entry without knowing earlier ones).
std::string encode_conf_change(const ConfChange& cc, const ConfState& result);
// False when `data` is not a valid encoding.
bool decode_conf_change(std::string_view data, ConfChange* cc, ConfState* result);

// Where a snapshot stands in the log: it replaces every entry up to `index` (whose term is
// `term`), and `conf` is the configuration in force at `index`.
struct SnapshotMeta {
  uint64_t index = 0;
  uint64_t term = 0;
  ConfState conf;

  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

// A state machine image. `data` is opaque to raft: only the embedding produces and reads it.
struct Snapshot {
  SnapshotMeta meta;
  std::string data;

  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

// SNAPSHOT CONTRACT for embeddings.
//  * Compaction: once the state machine is durably saved up to an applied index I (its image
//    plus Node::snapshot_meta_at(I)), call Node::compact(I); the node forgets entries <= I and
//    the embedding may delete them from its log storage. Restart with the Node constructor
//    that takes the saved SnapshotMeta and the log entries after it.
//  * Sending: when a follower needs entries the leader compacted, Ready::messages holds a
//    kSnapshot message whose `snapshot` has meta = the leader's compaction point (index, term,
//    conf) and EMPTY data. Before sending it, the embedding must replace `*m.snapshot` with its
//    own durable state machine image: data, and meta = snapshot_meta_at(A) for the image's
//    applied index A (A >= the index the node put there; any saved image at or after the
//    compaction point works).
//  * Receiving: a follower that installs a snapshot returns it in Ready::snapshot. In the same
//    atomic persist step as hard_state/entries, the embedding must replace its state machine
//    with snapshot.data, save snapshot.meta, and replace its WHOLE persisted log by
//    Ready::entries (which then start at snapshot.meta.index + 1). Ready::committed of that
//    batch only holds entries after the snapshot.

// What must be on disk before any message produced together with it is sent.
struct HardState {
  uint64_t term = 0;
  NodeId vote = kNoNode;
  uint64_t commit = 0;

  friend bool operator==(const HardState&, const HardState&) = default;
};

enum class MessageType : uint8_t {
  kPreVote,
  kPreVoteResp,
  kVote,
  kVoteResp,
  kAppend,
  kAppendResp,
  kHeartbeat,
  kHeartbeatResp,
  kTimeoutNow,  // leadership transfer: "campaign now, ignoring leases"
  kSnapshot,    // leader -> follower: install `snapshot` (see the SNAPSHOT CONTRACT above)
};

std::string_view message_type_name(MessageType t);

// One struct for every message type; fields a type does not use stay zero. The meaning of
// the overloaded fields per type:
//
//   kPreVote/kVote      term = campaign term, index/log_term = candidate's last entry,
//                       transfer = caused by leadership transfer (voters ignore leases)
//   k(Pre)VoteResp      term = campaign term if granted, else the voter's term; reject
//   kAppend             index/log_term = entry preceding `entries`; commit = leader commit;
//                       context = leader's tick at send (echoed, used for leases)
//   kAppendResp         accepted: index = last index known to match. rejected: index =
//                       the rejected prev index, reject_hint/log_term = where the follower
//                       suggests probing next (fast backtracking)
//   kHeartbeat          commit = min(leader commit, follower match); context as kAppend
//   kHeartbeatResp      context echoed
//   kSnapshot           snapshot = the image to install (meta only when produced by a Node,
//                       the embedding fills in data); commit = leader commit; context as
//                       kAppend. The follower answers with kAppendResp index = snapshot index
//                       (or its commit index if the snapshot is not newer than that).
struct Message {
  MessageType type = MessageType::kHeartbeat;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  uint64_t term = 0;
  uint64_t log_term = 0;
  uint64_t index = 0;
  std::vector<Entry> entries;
  uint64_t commit = 0;
  bool reject = false;
  uint64_t reject_hint = 0;
  uint64_t context = 0;
  bool transfer = false;
  std::optional<Snapshot> snapshot;  // kSnapshot only
};

struct Config {
  NodeId id = kNoNode;
  // The initial configuration (used while neither a snapshot nor a kConfChange entry in the
  // log says otherwise). A node that is not a voter never campaigns: a node created to join
  // an existing group may pass the group's voters (or none) and learns its membership from
  // the log or snapshot the leader sends it.
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  // A follower campaigns after a random timeout in [election_ticks, 2 * election_ticks).
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  bool pre_vote = true;
  // Leader steps down when it has not heard from a quorum within election_ticks; followers
  // refuse to vote while they heard from a leader within election_ticks. Leases need it.
  bool check_quorum = true;
  // A leader holds a read lease for lease_ticks (its own ticks) after the send time of the
  // latest messages a quorum acknowledged. Must satisfy, with the worst relative clock rate
  // error r between replicas: (lease_ticks + 1) * (1 + r) < (election_ticks - 1) * (1 - r).
  // 0 = election_ticks / 2.
  int lease_ticks = 0;
  size_t max_inflight = 64;          // append messages in flight per follower (pipelining)
  size_t max_entries_per_msg = 64;   // batching
  uint64_t seed = 1;                 // randomizes election timeouts deterministically
  uint64_t applied = 0;              // last index the state machine already applied
};

// Outputs of a Node since the last advance(). Handle in this order:
//   1. persist `hard_state` (if set) and `entries` (truncate the log at
//      entries.front().index, then append) - atomically, durably; if `snapshot` is set,
//      in the same step replace the state machine with snapshot->data, save snapshot->meta
//      and replace the whole log with `entries`;
//   2. send `messages`;
//   3. apply `committed` to the state machine;
//   4. call Node::advance().
struct Ready {
  std::optional<HardState> hard_state;
  std::vector<Entry> entries;
  std::vector<Message> messages;
  std::vector<Entry> committed;  // kConfChange entries included: the membership moved
  std::optional<Snapshot> snapshot;  // installed from the leader (follower only)

  bool empty() const {
    return !hard_state && entries.empty() && messages.empty() && committed.empty() &&
           !snapshot;
  }
};

}  // namespace shoal::raft
