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
  kNormal = 0,  // application command
  kNoop = 1,    // appended by every new leader; applies to nothing
};

struct Entry {
  uint64_t term = 0;
  uint64_t index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  friend bool operator==(const Entry&, const Entry&) = default;
};

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
};

struct Config {
  NodeId id = kNoNode;
  std::vector<NodeId> voters;  // must contain id
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
//      entries.front().index, then append) - atomically, durably;
//   2. send `messages`;
//   3. apply `committed` to the state machine;
//   4. call Node::advance().
struct Ready {
  std::optional<HardState> hard_state;
  std::vector<Entry> entries;
  std::vector<Message> messages;
  std::vector<Entry> committed;

  bool empty() const {
    return !hard_state && entries.empty() && messages.empty() && committed.empty();
  }
};

}  // namespace shoal::raft
