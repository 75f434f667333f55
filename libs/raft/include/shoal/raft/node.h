#pragma once
// raft::Node: one replica of one Raft group, as a pure state machine.
//
// Inputs: tick() (logical clock), step(message), propose(command), transfer_leadership().
// Outputs: ready() (state to persist, messages to send, entries to apply), then advance().
// A Node does no I/O, reads no clock and owns no thread; it is deterministic given its
// Config (including the seed) and the sequence of inputs. Not thread-safe: one owner (the
// replica actor) calls everything.
//
// Restart: build a new Node from the HardState and log entries that were persisted from
// earlier Ready batches. Nothing else needs to survive a crash.

#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "shoal/common/status.h"
#include "shoal/raft/types.h"

namespace shoal::raft {

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
std::string_view role_name(Role r);

struct EntryId {
  uint64_t index = 0;
  uint64_t term = 0;
};

class Node {
 public:
  // `log` holds the persisted entries in order, starting at index 1 (no snapshots yet).
  Node(Config config, HardState state, std::vector<Entry> log);

  // Advances the logical clock by one tick: elections, heartbeats, quorum checks.
  void tick();

  // Handles one message from a peer. Messages for another node, from non-members, from
  // stale terms or duplicated/reordered are all tolerated.
  void step(const Message& m);

  // Appends a command to the leader's log. On success returns where it went; the command is
  // committed once an entry with that index and term comes out of Ready::committed.
  // kStaleRoute when this node is not the leader (message carries "leader=<id>", 0 if
  // unknown; see also leader()), or while a leadership transfer is under way.
  Result<EntryId> propose(std::string data);

  // Leadership transfer: the leader brings `to` up to date and tells it to campaign at once.
  // Proposals are refused until it completes or times out (election_ticks).
  Status transfer_leadership(NodeId to);

  // True while this leader may serve reads locally: it has committed an entry of its own
  // term and a quorum acknowledged messages it sent less than lease_ticks ago (during which
  // no other node can be elected, see Config::check_quorum).
  bool has_lease() const;

  bool has_ready() const;
  Ready ready();
  void advance();

  // Introspection (tests, metrics, routing hints).
  NodeId id() const { return cfg_.id; }
  Role role() const { return role_; }
  NodeId leader() const { return leader_; }
  uint64_t term() const { return term_; }
  NodeId vote() const { return vote_; }
  uint64_t commit_index() const { return commit_; }
  uint64_t applied_index() const { return applied_; }
  uint64_t last_index() const { return log_.size(); }
  uint64_t last_term() const { return log_.empty() ? 0 : log_.back().term; }
  uint64_t term_at(uint64_t index) const;  // 0 for index 0 or beyond the log
  const std::vector<Entry>& log() const { return log_; }
  HardState hard_state() const { return {term_, vote_, commit_}; }
  NodeId transfer_target() const { return transferee_; }

 private:
  struct Progress {
    enum class State : uint8_t { kProbe, kReplicate };
    uint64_t match = 0;
    uint64_t next = 1;
    State state = State::kProbe;
    bool paused = false;            // probe: one append outstanding
    std::deque<uint64_t> inflight;  // replicate: last index of each append in flight
    bool recent_active = false;     // heard from since the last quorum check
    bool lease_acked = false;
    uint64_t lease_ack_tick = 0;    // our tick when we sent the newest acknowledged message
  };

  size_t quorum() const { return cfg_.voters.size() / 2 + 1; }
  bool is_voter(NodeId id) const;
  void reset(uint64_t term);
  void become_follower(uint64_t term, NodeId leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void campaign(bool pre, bool transfer);
  void reset_election_timeout();
  void send(Message m);
  bool send_append(NodeId to, bool allow_empty);
  void send_heartbeat(NodeId to);
  void broadcast_append(bool allow_empty);
  bool maybe_commit();
  bool log_up_to_date(uint64_t last_index, uint64_t last_term) const;
  uint64_t find_conflict_by_term(uint64_t index, uint64_t term) const;
  void append_local(Entry e);
  void truncate_from(uint64_t index);

  void step_leader(const Message& m);
  void step_candidate(const Message& m);
  void step_follower(const Message& m);
  void handle_vote_request(const Message& m);
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_append_resp(const Message& m);
  void handle_heartbeat_resp(const Message& m);
  void note_ack(Progress& pr, const Message& m);

  Config cfg_;
  std::mt19937_64 rng_;

  uint64_t term_ = 0;
  NodeId vote_ = kNoNode;
  uint64_t commit_ = 0;
  uint64_t applied_ = 0;
  std::vector<Entry> log_;  // log_[i - 1] has index i
  uint64_t stable_ = 0;     // entries up to here are persisted

  Role role_ = Role::kFollower;
  NodeId leader_ = kNoNode;
  NodeId transferee_ = kNoNode;
  int transfer_elapsed_ = 0;
  bool timeout_now_sent_ = false;
  bool pending_bcast_ = false;

  uint64_t now_ = 0;  // ticks since construction
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_timeout_ = 0;
  int since_leader_contact_ = 0;  // ticks; a fresh node counts as "just heard a leader"

  std::map<NodeId, bool> votes_;
  std::map<NodeId, Progress> progress_;
  std::vector<Message> msgs_;

  HardState persisted_hs_;
  bool ready_pending_ = false;
  uint64_t ready_stable_ = 0;
  uint64_t ready_applied_ = 0;
};

}  // namespace shoal::raft
