#pragma once
// raft::Node: one replica of one Raft group, as a pure state machine.
//
// Inputs: tick() (logical clock), step(message), propose(command), transfer_leadership().
// Outputs: ready() (state to persist, messages to send, entries to apply), then advance().
// A Node does no I/O, reads no clock and owns no thread; it is deterministic given its
// Config (including the seed) and the sequence of inputs. Not thread-safe: one owner (the
// replica actor) calls everything.
//
// Restart: build a new Node from the HardState, the latest saved SnapshotMeta (if any) and the
// log entries after it that were persisted from earlier Ready batches. Nothing else needs to
// survive a crash. The membership in force is the latest kConfChange entry of the log, else
// the snapshot's conf, else Config::voters/learners.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
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

// What a leader knows of another member's log (Node::peer_progress).
struct PeerProgress {
  NodeId id = kNoNode;
  uint64_t match = 0;  // highest index known to be stored there (0: nothing known yet)
  bool learner = false;
};

class Node {
 public:
  // `log` holds the persisted entries in order, starting at index 1 (no snapshot).
  Node(Config config, HardState state, std::vector<Entry> log);
  // Restart after a snapshot or compaction: `log_after_snapshot` starts at snapshot.index + 1.
  // When snapshot.index > 0 its conf replaces Config::voters/learners. The state machine is
  // assumed to hold the snapshot: applied = max(snapshot.index, Config::applied).
  Node(Config config, HardState state, SnapshotMeta snapshot,
       std::vector<Entry> log_after_snapshot);

  // Advances the logical clock by one tick: elections, heartbeats, quorum checks.
  void tick();

  // Handles one message from a peer. Messages for another node, from stale terms or
  // duplicated/reordered are all tolerated. Messages from nodes outside this node's
  // configuration are handled too (Raft dissertation 4.1): a joining node accepts the log of a
  // leader it does not know yet, and anyone may answer a vote request (only the candidate's
  // configuration decides whose votes count).
  void step(const Message& m);

  // Appends a command to the leader's log. On success returns where it went; the command is
  // committed once an entry with that index and term comes out of Ready::committed.
  // kStaleRoute when this node is not the leader (message carries "leader=<id>", 0 if
  // unknown; see also leader()), while a leadership transfer is under way, or while the
  // leader is removing itself from the group ("leader=0").
  Result<EntryId> propose(std::string data);

  // Leadership transfer: the leader brings `to` up to date and tells it to campaign at once.
  // Proposals are refused until it completes or times out (election_ticks).
  Status transfer_leadership(NodeId to);

  // Proposes one membership change (see ConfChange). Refused (kFailedPrecondition) while
  // another change is uncommitted, before this leader committed an entry of its term, or when
  // the change does not fit the current configuration; kStaleRoute as propose(). The change
  // takes effect when appended; it is committed when the returned entry comes out of
  // Ready::committed. A leader that removes itself keeps leading (without counting itself)
  // until the entry commits, then steps down and hands over with a TimeoutNow.
  Result<EntryId> propose_conf_change(ConfChange cc);

  // Starts an election now, as if the election timeout fired, but with the leadership-transfer
  // flag (like after a TimeoutNow): voters ignore their leader lease / check-quorum refusal.
  // Skips pre-vote. Meant for a brand-new group whose designated first leader is created last,
  // and for tests. No-op returning OK if already leader; kFailedPrecondition if this node is
  // not a voter. Log safety holds whenever it is called (voters still check the candidate's
  // log is up to date and vote once per term), but like a TimeoutNow the leader did not send,
  // it can elect a new leader while the current one still believes it holds a lease: do not
  // call it on a group that may have a live leader serving lease reads.
  Status campaign();

  // True while this leader may serve reads locally: it has committed an entry of its own
  // term and a quorum acknowledged messages it sent less than lease_ticks ago (during which
  // no other node can be elected, see Config::check_quorum).
  bool has_lease() const;

  // The embedding durably saved its state machine up to `index` (an index it applied): the
  // node drops log entries <= index, keeping index's term as the log's base. Indexes at or
  // below the current base are a no-op. kInvalidArgument when index > applied_index().
  // (After step() installed a snapshot, applied_index() is already the snapshot's index while
  // its Ready is not handled yet: compact at the embedding's own applied index, as always.)
  Status compact(uint64_t index);

  // What a snapshot of the state machine at `applied_index` must carry: its term and the
  // configuration in force at that index (not necessarily the latest one). Valid for
  // [first_index() - 1, commit_index()]; outside [first_index() - 1, last_index()] it returns
  // a meta with index 0. See the SNAPSHOT CONTRACT in types.h.
  SnapshotMeta snapshot_meta_at(uint64_t applied_index) const;

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
  uint64_t first_index() const { return snap_index_ + 1; }  // first entry held in log()
  uint64_t snapshot_index() const { return snap_index_; }   // the log's base (compacted)
  uint64_t snapshot_term() const { return snap_term_; }
  uint64_t last_index() const { return snap_index_ + log_.size(); }
  uint64_t last_term() const { return log_.empty() ? snap_term_ : log_.back().term; }
  // 0 for index 0, below the base (compacted) or beyond the log; the base's term at the base.
  uint64_t term_at(uint64_t index) const;
  // The entries after the base: log()[i] has index first_index() + i.
  const std::vector<Entry>& log() const { return log_; }
  // The entry at `index`, or nullptr if compacted or beyond the log.
  const Entry* entry_at(uint64_t index) const;
  // Membership in force (the latest in this node's log, committed or not).
  ConfState conf_state() const { return conf(); }
  bool is_voter(NodeId id) const;
  bool is_learner(NodeId id) const;
  // Index of the latest kConfChange entry in the log (0 if none since the base).
  uint64_t last_conf_change_index() const;
  HardState hard_state() const { return {term_, vote_, commit_}; }
  NodeId transfer_target() const { return transferee_; }
  // Elections this node started since it was built: each time it became a candidate (a new
  // term). A pre-vote round counts only if it won and led to that election, once.
  uint64_t elections_started() const { return elections_started_; }
  // Leader: every other member of the configuration in force (voters and learners), in id
  // order, with its match index. Empty unless leader.
  std::vector<PeerProgress> peer_progress() const;

 private:
  struct Progress {
    enum class State : uint8_t { kProbe, kReplicate, kSnapshot };
    uint64_t match = 0;
    uint64_t next = 1;
    State state = State::kProbe;
    bool paused = false;            // probe: one append outstanding
    std::deque<uint64_t> inflight;  // replicate: last index of each append in flight
    bool recent_active = false;     // heard from since the last quorum check
    bool lease_acked = false;
    uint64_t lease_ack_tick = 0;    // our tick when we sent the newest acknowledged message
    uint64_t pending_snapshot = 0;  // snapshot: index of the snapshot sent (a lower bound)
    int snapshot_elapsed = 0;       // snapshot: ticks since it was sent
  };

  const ConfState& conf() const {
    return conf_log_.empty() ? base_conf_ : conf_log_.rbegin()->second;
  }
  const ConfState& conf_at(uint64_t index) const;
  size_t quorum() const { return conf().voters.size() / 2 + 1; }
  const Entry& at(uint64_t index) const { return log_[index - snap_index_ - 1]; }
  void on_conf_changed();
  bool maybe_step_down_removed();  // true if it stepped down
  void send_snapshot(NodeId to, Progress& pr);
  void handle_snapshot(const Message& m);
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
  std::vector<Entry> log_;   // log_[i] has index snap_index_ + 1 + i
  uint64_t snap_index_ = 0;  // the log's base: entries up to here are compacted
  uint64_t snap_term_ = 0;   // term of the entry at snap_index_
  ConfState base_conf_;      // configuration in force at snap_index_
  std::map<uint64_t, ConfState> conf_log_;  // kConfChange entries in log_: index -> result
  uint64_t stable_ = 0;      // entries up to here are persisted
  std::optional<Snapshot> pending_snapshot_;  // installed, not yet handed out by ready()

  Role role_ = Role::kFollower;
  NodeId leader_ = kNoNode;
  NodeId transferee_ = kNoNode;
  int transfer_elapsed_ = 0;
  bool timeout_now_sent_ = false;
  bool pending_bcast_ = false;

  uint64_t now_ = 0;  // ticks since construction
  uint64_t elections_started_ = 0;
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
