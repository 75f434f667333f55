// Deterministic simulator for raft::Node.
//
// One schedule = one seed. A seed fixes everything: cluster size (3 or 5 nodes, plus a spare
// node when the seed changes membership), number of Raft groups hosted on those nodes,
// per-node clock rates (skew), network faults (drops, duplicates, delays that reorder,
// partitions that come and go), crashes that lose all state not yet handed out by ready()
// (restart from the persisted HardState, snapshot and log), log compaction at random points
// (so lagging, partitioned and restarted replicas catch up through snapshots), membership
// changes (add a learner, promote it, remove a voter - sometimes the leader), leader churn
// (new leaders isolated or crashed right after their election: Figure 8 shapes) and client
// proposals. After every event the invariants below are checked; the first violation stops
// the schedule and is reported with its seed. Then the network heals and liveness is
// checked: every group elects a leader and every acknowledged proposal is applied on every
// member of the group's final configuration.
//
//   SHOAL_RAFT_SEEDS=<count>   schedules to run (default 10000), seeds 1..count
//   SHOAL_RAFT_SEED=<n>        replay only seed n (prints a summary)
//   SHOAL_RAFT_THREADS=<n>     worker threads (default: hardware concurrency)
//   SHOAL_RAFT_TRACE=1         with SHOAL_RAFT_SEED: print every Ready, message, leader, crash

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "shoal/raft/node.h"

namespace shoal::raft {
namespace {

class Rng {
 public:
  // The seed is hashed first: seed s + 1 must not replay seed s's stream shifted by one.
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ULL + 0x1234567) { s_ = next(); }
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t uniform(uint64_t lo, uint64_t hi) { return lo + next() % (hi - lo + 1); }  // [lo, hi]
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  double real(double lo, double hi) {
    return lo + (hi - lo) * (static_cast<double>(next() >> 11) * 0x1.0p-53);
  }

 private:
  uint64_t s_;
};

struct Violation {
  std::string what;
};

constexpr int kElectionTicks = 10;
constexpr int kLeaseTicks = 5;     // (5 + 1) * 1.1 < (10 - 1) * 0.9: safe for +-10% skew
constexpr uint64_t kBasePeriod = 100;  // simulated time units per tick at nominal rate

// The simulated state machine: the (term, payload) of every applied index, in order.
using Applied = std::pair<uint64_t, std::string>;

std::string payload_of(const Entry& e) {
  return std::to_string(static_cast<int>(e.type)) + ":" + e.data;
}

void put_u64(std::string& s, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  s.append(b, 8);
}
uint64_t get_u64(const std::string& s, size_t& pos) {
  uint64_t v = 0;
  if (pos + 8 > s.size()) return ~0ULL;
  std::memcpy(&v, s.data() + pos, 8);
  pos += 8;
  return v;
}

// Snapshot data = the state machine serialized.
std::string serialize(const std::vector<Applied>& sm, uint64_t upto) {
  std::string s;
  put_u64(s, upto);
  for (uint64_t i = 0; i < upto; ++i) {
    put_u64(s, sm[i].first);
    put_u64(s, sm[i].second.size());
    s += sm[i].second;
  }
  return s;
}
bool deserialize(const std::string& s, std::vector<Applied>* out) {
  out->clear();
  if (s.empty()) return true;
  size_t pos = 0;
  const uint64_t n = get_u64(s, pos);
  if (n > s.size()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t term = get_u64(s, pos);
    const uint64_t len = get_u64(s, pos);
    if (len > s.size() || pos + len > s.size()) return false;
    out->emplace_back(term, s.substr(pos, len));
    pos += len;
  }
  return pos == s.size();
}

struct Disk {
  HardState hs;
  SnapshotMeta snap;
  std::string snap_data;
  std::vector<Entry> log;  // entries after snap.index

  uint64_t last() const { return snap.index + log.size(); }
  // Term at `index` if the disk has it; 0 if beyond the log; ~0 if inside the snapshot.
  uint64_t term_at(uint64_t index) const {
    if (index == snap.index) return snap.term;
    if (index < snap.index) return ~0ULL;
    if (index > last()) return 0;
    return log[index - snap.index - 1].term;
  }
};

struct Replica {
  std::unique_ptr<Node> node;
  Disk disk;
  bool ready_scheduled = false;
  uint64_t checked_commit = 0;   // committed prefix already compared with the record
  uint64_t applied = 0;          // state machine position (rebuilt after a crash)
  std::vector<Applied> sm;       // the state machine: sm[i - 1] is index i
  uint64_t leader_term_seen = 0;
  uint64_t quorum_checked = 0;   // leader commit index already checked against disks
};

struct Pending {  // a proposal acknowledged by propose(), waiting to be applied there
  uint64_t index, term;
  std::string data;
  uint64_t epoch;
};

struct GroupState {
  std::map<uint64_t, NodeId> leader_of_term;
  uint64_t max_leader_term = 0;
  struct Committed {
    uint64_t term;         // the entry's term
    std::string payload;
    uint64_t seen_in;      // lowest term of a node that saw it committed (>= commit term)
  };
  std::vector<Committed> committed;  // [i - 1] is index i
  // Log matching: (index, term) -> (payload, term of index - 1).
  std::unordered_map<uint64_t, std::pair<std::string, uint64_t>> seen;
  std::vector<std::pair<uint64_t, std::string>> acked;  // (index, data)
  uint64_t next_value = 0;
  uint64_t conf_changes = 0;  // committed kConfChange entries
};

class Sim {
 public:
  explicit Sim(uint64_t seed) : seed_(seed), rng_(seed) {
    n_ = rng_.chance(0.8) ? 3 : 5;
    groups_ = rng_.uniform(1, 3);
    drop_p_ = rng_.chance(0.2) ? 0.0 : rng_.real(0.0, 0.25);
    dup_p_ = rng_.real(0.0, 0.1);
    max_delay_ = rng_.uniform(5, 250);
    long_delay_p_ = rng_.real(0.0, 0.03);
    crash_interval_ = rng_.chance(0.2) ? 0 : rng_.uniform(300, 6000);
    partition_interval_ = rng_.chance(0.2) ? 0 : rng_.uniform(300, 6000);
    propose_interval_ = rng_.uniform(20, 200);
    batch_ = rng_.chance(0.3) ? 1 : rng_.uniform(2, 16);
    inflight_ = rng_.uniform(1, 8);
    fault_end_ = rng_.uniform(30000, 90000);
    compact_interval_ = rng_.chance(0.2) ? 0 : rng_.uniform(200, 4000);
    membership_ = rng_.chance(0.3);
    conf_interval_ = rng_.uniform(100, 3000);
    // Leader churn: each new leader is, with churn_p_, isolated or crashed a few message
    // delays after its election, while its no-op and the old entries it re-replicates are
    // on their way. With one entry per message, an old-term entry can then reach a majority
    // without the no-op: the Figure 8 situation the 5.4.2 commit rule is about.
    churn_p_ = rng_.chance(0.4) ? rng_.real(0.3, 0.9) : 0.0;
    // Figure 8 adversary (half of the churn seeds): new leaders are cut off at once (their
    // no-op stays local, so logs diverge with entries of different terms), and a leader is
    // cut off right when a follower acknowledged an old-term entry while none of its own
    // term is committed yet - the moment the 5.4.2 rule is about.
    figure8_ = churn_p_ > 0 && rng_.chance(0.5);
    if (figure8_) {  // other faults would mostly leave the group without a quorum
      partition_interval_ = 0;
      if (rng_.chance(0.7)) crash_interval_ = 0;
    }
    if (churn_p_ > 0 && rng_.chance(0.8)) batch_ = 1;
    if (churn_p_ > 0 && rng_.chance(0.5)) partition_interval_ = 0;
    end_ = fault_end_ + 500000;  // cap; the run stops once liveness holds
    nodes_ = n_ + (membership_ ? 1 : 0);
    for (NodeId id = 1; id <= n_; ++id) voters_.push_back(id);
    period_.assign(nodes_ + 1, 0);
    up_.assign(nodes_ + 1, true);
    epoch_.assign(nodes_ + 1, 0);
    side_.assign(nodes_ + 1, 0);
    reps_.resize(nodes_ + 1);
    gs_.resize(groups_);
    cut_.assign(groups_, std::vector<bool>(nodes_ + 1, false));
    isolation_.assign(groups_, 0);
    for (NodeId id = 1; id <= nodes_; ++id) {
      period_[id] = kBasePeriod * rng_.uniform(90, 110) / 100;  // clock skew: +-10%
      reps_[id].resize(groups_);
      for (size_t g = 0; g < groups_; ++g) start(id, g);
      schedule(rng_.uniform(1, period_[id]), mk(Ev::kTick, id, 0, epoch_[id]));
    }
    if (crash_interval_) schedule(rng_.uniform(1, crash_interval_), mk(Ev::kCrash));
    if (partition_interval_) {
      schedule(rng_.uniform(1, partition_interval_), mk(Ev::kPartition));
    }
    if (compact_interval_) schedule(rng_.uniform(1, compact_interval_), mk(Ev::kCompact));
    if (membership_) schedule(rng_.uniform(1, conf_interval_), mk(Ev::kConfChange));
    if (figure8_) schedule(rng_.uniform(1, 3000), mk(Ev::kDepose));
    schedule(rng_.uniform(1, propose_interval_), mk(Ev::kPropose));
    schedule(fault_end_, mk(Ev::kHeal));
  }

  // Returns the first violation, if any.
  std::optional<Violation> run() {
    try {
      while (!q_.empty()) {
        auto [t, seq] = q_.top().first;
        Ev ev = std::move(events_.at(seq));
        events_.erase(seq);
        q_.pop();
        if (t > end_) break;
        now_ = t;
        if (ev.kind == Ev::kCheck) {
          if (live()) break;
          schedule(now_ + 2000, mk(Ev::kCheck));
          continue;
        }
        handle(std::move(ev));
        ++steps_;
      }
      check_liveness();
    } catch (const Violation& v) {
      return v;
    }
    return std::nullopt;
  }

  std::string summary() const {
    std::ostringstream o;
    o << "nodes=" << n_ << (membership_ ? "+1 (membership)" : "") << " groups=" << groups_
      << " drop=" << drop_p_ << " dup=" << dup_p_ << " max_delay=" << max_delay_
      << " batch=" << batch_ << " inflight=" << inflight_ << " crash_every=" << crash_interval_
      << " partition_every=" << partition_interval_ << " compact_every=" << compact_interval_
      << " churn=" << churn_p_ << (figure8_ ? " (figure 8)" : "") << " events=" << steps_ << " crashes=" << crashes_
      << " partitions=" << partitions_ << " churns=" << churns_ << " messages=" << sent_
      << " compactions=" << compactions_ << " snapshots sent=" << snapshots_sent_
      << " installed=" << snapshots_installed_;
    for (size_t g = 0; g < groups_; ++g) {
      o << "\n  group " << g << ": leaders in " << gs_[g].leader_of_term.size()
        << " terms, committed=" << gs_[g].committed.size()
        << " acked=" << gs_[g].acked.size() << " conf changes=" << gs_[g].conf_changes;
    }
    return o.str();
  }

  size_t committed_total() const {
    size_t n = 0;
    for (auto& g : gs_) n += g.committed.size();
    return n;
  }
  uint64_t snapshots_installed() const { return snapshots_installed_; }
  uint64_t conf_changes() const {
    uint64_t n = 0;
    for (auto& g : gs_) n += g.conf_changes;
    return n;
  }

 private:
  struct Ev {
    enum Kind {
      kTick, kDeliver, kReady, kCrash, kRestart, kPartition, kPropose, kHeal, kCheck,
      kCompact, kConfChange, kChurn, kUnisolate, kDepose
    };
    Kind kind;
    NodeId node = 0;
    size_t group = 0;
    uint64_t epoch = 0;
    Message msg;
  };
  static Ev mk(Ev::Kind k, NodeId node = 0, size_t group = 0, uint64_t epoch = 0) {
    Ev e{k, node, group, epoch, Message{}};
    return e;
  }

  [[noreturn]] void fail(size_t g, const std::string& what) {
    std::ostringstream o;
    o << "seed " << seed_ << " t=" << now_ << " group " << g << ": " << what;
    throw Violation{o.str()};
  }

  void schedule(uint64_t at, Ev ev) {
    uint64_t seq = seq_++;
    events_.emplace(seq, std::move(ev));
    q_.push({{at, seq}, 0});
  }

  void start(NodeId id, size_t g) {
    Replica& r = reps_[id][g];
    Config c;
    c.id = id;
    c.voters = voters_;  // the initial configuration; a spare node starts outside it
    c.election_ticks = kElectionTicks;
    c.heartbeat_ticks = 2;
    c.lease_ticks = kLeaseTicks;
    c.pre_vote = true;
    c.max_inflight = inflight_;
    c.max_entries_per_msg = batch_;
    c.seed = rng_.next();
    if (r.disk.snap.index > 0) {
      r.node = std::make_unique<Node>(c, r.disk.hs, r.disk.snap, r.disk.log);
    } else {
      r.node = std::make_unique<Node>(c, r.disk.hs, r.disk.log);
    }
    r.ready_scheduled = false;
    if (!deserialize(r.disk.snap_data, &r.sm)) fail(g, "saved snapshot does not decode");
    r.applied = r.sm.size();
    if (r.applied != r.disk.snap.index) fail(g, "saved snapshot size differs from its index");
    r.checked_commit = r.applied;
    r.quorum_checked = 0;
  }

  void touched(NodeId id, size_t g) {
    Replica& r = reps_[id][g];
    check_replica(id, g);
    if (!r.ready_scheduled && r.node->has_ready()) {
      r.ready_scheduled = true;
      schedule(now_ + rng_.uniform(0, 20), mk(Ev::kReady, id, g, epoch_[id]));
    }
  }

  bool healed() const {
    return std::all_of(side_.begin(), side_.end(), [](int s) { return s == 0; });
  }

  void crash(NodeId id) {
    if (!up_[id]) return;
    if (trace_) {
      std::printf("t=%llu crash node %llu\n", static_cast<unsigned long long>(now_),
                  static_cast<unsigned long long>(id));
    }
    up_[id] = false;
    ++epoch_[id];
    ++crashes_;
    for (size_t g = 0; g < groups_; ++g) reps_[id][g].node.reset();
    schedule(now_ + rng_.uniform(50, 3000), mk(Ev::kRestart, id));
  }

  void handle(Ev ev) {
    switch (ev.kind) {
      case Ev::kTick: {
        if (ev.epoch != epoch_[ev.node]) return;  // crashed since
        for (size_t g = 0; g < groups_; ++g) {
          reps_[ev.node][g].node->tick();
          touched(ev.node, g);
        }
        schedule(now_ + period_[ev.node], mk(Ev::kTick, ev.node, 0, ev.epoch));
        return;
      }
      case Ev::kDeliver: {
        const Message& m = ev.msg;
        if (!up_[m.to] || side_[m.from] != side_[m.to] || cut_[ev.group][m.from] ||
            cut_[ev.group][m.to]) {
          return;
        }
        Node& n = *reps_[m.to][ev.group].node;
        n.step(m);
        if (figure8_ && now_ < fault_end_ && m.type == MessageType::kAppendResp && !m.reject &&
            n.role() == Role::kLeader && n.term_at(m.index) != 0 &&
            n.term_at(m.index) < n.term() && n.term_at(n.commit_index()) != n.term() &&
            rng_.chance(churn_p_)) {
          isolate(m.to, ev.group);
        }
        touched(m.to, ev.group);
        return;
      }
      case Ev::kReady:
        if (ev.epoch != epoch_[ev.node]) return;
        process_ready(ev.node, ev.group);
        return;
      case Ev::kCrash: {
        if (now_ >= fault_end_) return;
        crash(static_cast<NodeId>(rng_.uniform(1, nodes_)));
        schedule(now_ + rng_.uniform(1, crash_interval_), mk(Ev::kCrash));
        return;
      }
      case Ev::kRestart:
        restart(ev.node);
        return;
      case Ev::kPartition: {
        if (now_ >= fault_end_) return;
        if (healed()) {
          ++partitions_;
          if (rng_.chance(0.5)) {
            side_[rng_.uniform(1, nodes_)] = 1;  // isolate one node
          } else {
            for (NodeId id = 1; id <= nodes_; ++id) {
              side_[id] = static_cast<int>(rng_.uniform(0, 1));
            }
          }
        } else {
          std::fill(side_.begin(), side_.end(), 0);
        }
        schedule(now_ + rng_.uniform(1, partition_interval_), mk(Ev::kPartition));
        return;
      }
      case Ev::kChurn: {
        // A leader elected a moment ago: cut it off (or crash it) before its term's entries
        // spread.
        if (now_ >= fault_end_ || ev.epoch != epoch_[ev.node] || !up_[ev.node]) return;
        if (rng_.chance(0.2)) {
          ++churns_;
          crash(ev.node);
        } else {
          isolate(ev.node, ev.group);
        }
        return;
      }
      case Ev::kDepose: {
        // Keep leaders changing: cut off the leader of a random group.
        if (now_ >= fault_end_) return;
        const size_t g = rng_.uniform(0, groups_ - 1);
        for (NodeId id = 1; id <= nodes_; ++id) {
          if (up_[id] && !cut_[g][id] && reps_[id][g].node->role() == Role::kLeader) {
            isolate(id, g);
            break;
          }
        }
        schedule(now_ + rng_.uniform(300, 3000), mk(Ev::kDepose));
        return;
      }
      case Ev::kUnisolate:
        // Unless a later churn moved the cut.
        if (ev.epoch == isolation_[ev.group]) cut_[ev.group][ev.node] = false;
        return;
      case Ev::kPropose:
        propose();
        schedule(now_ + rng_.uniform(1, propose_interval_ * 2), mk(Ev::kPropose));
        return;
      case Ev::kCompact:
        compact();
        schedule(now_ + rng_.uniform(1, compact_interval_ * 2), mk(Ev::kCompact));
        return;
      case Ev::kConfChange:
        if (now_ >= fault_end_) return;
        change_membership();
        schedule(now_ + rng_.uniform(1, conf_interval_ * 2), mk(Ev::kConfChange));
        return;
      case Ev::kCheck:
        return;
      case Ev::kHeal:
        healing_ = true;
        schedule(now_ + 10000, mk(Ev::kCheck));
        std::fill(side_.begin(), side_.end(), 0);
        for (auto& c : cut_) std::fill(c.begin(), c.end(), false);
        for (NodeId id = 1; id <= nodes_; ++id) {
          if (!up_[id]) restart(id);
        }
        return;
    }
  }

  // Rotate: whoever was cut off rejoins, `id` is cut off for a while - from group g's traffic
  // only (a loss pattern like any other; groups rotate independently).
  void isolate(NodeId id, size_t g) {
    ++churns_;
    std::fill(cut_[g].begin(), cut_[g].end(), false);
    cut_[g][id] = true;
    schedule(now_ + rng_.uniform(kBasePeriod * kElectionTicks, kBasePeriod * 60),
             mk(Ev::kUnisolate, id, g, ++isolation_[g]));
  }

  void restart(NodeId id) {
    if (up_[id]) return;
    up_[id] = true;
    ++epoch_[id];
    for (size_t g = 0; g < groups_; ++g) start(id, g);
    schedule(now_ + rng_.uniform(1, period_[id]), mk(Ev::kTick, id, 0, epoch_[id]));
    for (size_t g = 0; g < groups_; ++g) touched(id, g);
  }

  void propose() {
    if (now_ >= fault_end_) return;
    size_t g = rng_.uniform(0, groups_ - 1);
    NodeId id = rng_.uniform(1, nodes_);
    for (int attempt = 0; attempt < 2 && up_[id]; ++attempt) {
      Replica& r = reps_[id][g];
      std::string value = "v" + std::to_string(gs_[g].next_value);
      auto res = r.node->propose(value);
      if (res.ok()) {
        ++gs_[g].next_value;
        pending_[{id, g}].push_back(Pending{res->index, res->term, value, epoch_[id]});
        touched(id, g);
        return;
      }
      NodeId hint = r.node->leader();
      if (hint == kNoNode || hint == id || !up_[hint]) return;
      id = hint;
    }
  }

  // The embedding saves its state machine at a random applied point and compacts the log.
  void compact() {
    NodeId id = rng_.uniform(1, nodes_);
    size_t g = rng_.uniform(0, groups_ - 1);
    if (!up_[id]) return;
    Replica& r = reps_[id][g];
    Node& n = *r.node;
    // A snapshot installed by step() moves the node's applied index before the embedding has
    // handled its Ready: compact only once that is done.
    if (r.applied != n.applied_index()) {
      if (r.applied > n.applied_index() || !n.has_ready()) {
        fail(g, "state machine and node disagree on applied");
      }
      return;
    }
    if (r.applied <= n.snapshot_index()) return;
    const uint64_t index =
        rng_.chance(0.5) ? r.applied : rng_.uniform(n.snapshot_index() + 1, r.applied);
    SnapshotMeta meta = n.snapshot_meta_at(index);
    if (meta.index != index || meta.term != n.term_at(index) ||
        meta.term != r.sm[index - 1].first) {
      fail(g, "snapshot_meta_at gives a wrong index or term");
    }
    check_conf(g, meta, r.sm);
    Status st = n.compact(index);
    if (!st.is_ok()) fail(g, "compact refused: " + st.message());
    if (n.first_index() != index + 1 || n.term_at(index) != meta.term) {
      fail(g, "compact left a wrong base");
    }
    // Durable: the image first, then the log is cut.
    r.disk.snap_data = serialize(r.sm, index);
    r.disk.log.erase(r.disk.log.begin(),
                     r.disk.log.begin() + static_cast<ptrdiff_t>(index - r.disk.snap.index));
    r.disk.snap = meta;
    ++compactions_;
  }

  // The configuration a snapshot claims must be the one the applied entries up to it produce.
  void check_conf(size_t g, const SnapshotMeta& meta, const std::vector<Applied>& sm) {
    ConfState expect{voters_, {}};
    for (uint64_t i = meta.index; i > 0; --i) {
      const std::string& p = sm[i - 1].second;
      if (p.size() > 2 && p[0] == '2' && p[1] == ':') {
        if (!decode_conf_change(std::string_view(p).substr(2), nullptr, &expect)) {
          fail(g, "a committed conf change does not decode");
        }
        break;
      }
    }
    if (meta.conf != expect) fail(g, "snapshot meta carries the wrong configuration");
  }

  // Membership workload: learner in, promote it, remove a voter (sometimes the leader).
  void change_membership() {
    size_t g = rng_.uniform(0, groups_ - 1);
    NodeId leader = kNoNode;
    for (NodeId id = 1; id <= nodes_; ++id) {
      if (up_[id] && reps_[id][g].node->role() == Role::kLeader &&
          (leader == kNoNode || reps_[id][g].node->term() > reps_[leader][g].node->term())) {
        leader = id;
      }
    }
    if (leader == kNoNode) return;
    Node& n = *reps_[leader][g].node;
    const ConfState cs = n.conf_state();
    ConfChange cc;
    if (!cs.learners.empty()) {
      cc = {ConfChange::Type::kPromote, cs.learners[rng_.uniform(0, cs.learners.size() - 1)]};
    } else if (cs.voters.size() > n_) {
      NodeId victim = cs.voters[rng_.uniform(0, cs.voters.size() - 1)];
      if (rng_.chance(0.3) && n.is_voter(leader)) victim = leader;
      cc = {ConfChange::Type::kRemove, victim};
    } else {
      std::vector<NodeId> out;
      for (NodeId id = 1; id <= nodes_; ++id) {
        if (!n.is_voter(id) && !n.is_learner(id)) out.push_back(id);
      }
      if (out.empty()) return;
      cc = {ConfChange::Type::kAddLearner, out[rng_.uniform(0, out.size() - 1)]};
    }
    auto res = n.propose_conf_change(cc);
    if (res.ok()) {
      if (n.conf_state() == cs) fail(g, "an appended conf change is not in force");
      touched(leader, g);
    } else if (res.status().code() != Code::kFailedPrecondition &&
               res.status().code() != Code::kStaleRoute) {
      fail(g, "conf change refused oddly: " + res.status().message());
    }
  }

  void send(NodeId from, size_t g, Message m) {
    ++sent_;
    const bool faults = !healing_;
    if (faults && rng_.chance(drop_p_)) return;
    int copies = faults && rng_.chance(dup_p_) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      uint64_t delay = rng_.uniform(1, max_delay_);
      if (faults && rng_.chance(long_delay_p_)) delay += rng_.uniform(500, 5000);
      schedule(now_ + delay, Ev{Ev::kDeliver, 0, g, 0, m});
    }
  }

  // The embedding's half of the snapshot contract: put its own image in the message.
  void fill_snapshot(NodeId id, size_t g, Message& m) {
    Replica& r = reps_[id][g];
    if (!m.snapshot || !m.snapshot->data.empty()) fail(g, "a Node's snapshot message has data");
    const SnapshotMeta& asked = m.snapshot->meta;
    // (The node may have compacted further since it produced the message.)
    if (asked.index > r.node->snapshot_index() || asked.index == 0 ||
        asked.term != r.sm[asked.index - 1].first) {
      fail(g, "snapshot message is not at a compaction point");
    }
    if (r.applied > r.disk.snap.index && rng_.chance(0.5)) {
      // A fresh image at the current applied index.
      SnapshotMeta meta = r.node->snapshot_meta_at(r.applied);
      if (meta.index != r.applied || meta.term != r.sm[r.applied - 1].first) {
        fail(g, "snapshot_meta_at(applied) is wrong");
      }
      m.snapshot->meta = meta;
      m.snapshot->data = serialize(r.sm, r.applied);
    } else {
      // The saved image.
      if (r.disk.snap.index < asked.index) fail(g, "the saved snapshot is behind the log base");
      m.snapshot->meta = r.disk.snap;
      m.snapshot->data = r.disk.snap_data;
    }
    ++snapshots_sent_;
  }

  void install_snapshot(NodeId id, size_t g, const Snapshot& s) {
    Replica& r = reps_[id][g];
    const SnapshotMeta& meta = s.meta;
    if (meta.index <= r.applied) fail(g, "installed a snapshot that is not newer");
    std::vector<Applied> sm;
    if (!deserialize(s.data, &sm) || sm.size() != meta.index) {
      fail(g, "installed snapshot does not decode to its index");
    }
    if (sm.back().first != meta.term) fail(g, "snapshot meta term differs from its data");
    // State machine safety across snapshots: the image agrees with everything committed.
    for (uint64_t i = 1; i <= meta.index; ++i) {
      record_payload(g, i, sm[i - 1].first, sm[i - 1].second, r.node->term());
    }
    check_conf(g, meta, sm);
    if (r.sm.size() > sm.size() ||
        !std::equal(r.sm.begin(), r.sm.end(), sm.begin())) {
      fail(g, "snapshot does not extend the state machine it replaces");
    }
    r.sm = std::move(sm);
    r.applied = meta.index;
    r.checked_commit = std::max(r.checked_commit, meta.index);
    r.disk.snap = meta;
    r.disk.snap_data = s.data;
    r.disk.log.clear();
    ++snapshots_installed_;
    resolve_pending(id, g);
  }

  void process_ready(NodeId id, size_t g) {
    Replica& r = reps_[id][g];
    r.ready_scheduled = false;
    GroupState& gs = gs_[g];
    while (r.node->has_ready()) {
      Ready rd = r.node->ready();
      const uint64_t old_commit = r.disk.hs.commit;
      if (rd.hard_state) r.disk.hs = *rd.hard_state;
      if (rd.snapshot) {
        install_snapshot(id, g, *rd.snapshot);
        if (!rd.entries.empty() && rd.entries.front().index != rd.snapshot->meta.index + 1) {
          fail(g, "entries after a snapshot do not start right after it");
        }
      }
      if (!rd.entries.empty()) {
        const uint64_t first = rd.entries.front().index;
        if (first <= r.disk.snap.index || first > r.disk.last() + 1) {
          fail(g, "ready entries leave a gap or rewrite the snapshot");
        }
        if (first <= old_commit && first <= r.disk.last() &&
            rd.entries.front().term != r.disk.term_at(first)) {
          fail(g, "a committed entry was overwritten on disk");
        }
        r.disk.log.resize(first - r.disk.snap.index - 1);
        for (Entry& e : rd.entries) {
          const uint64_t prev_term = r.disk.term_at(r.disk.last());
          if (e.index != r.disk.last() + 1) fail(g, "non-contiguous entries");
          std::string payload = payload_of(e);
          const uint64_t key = (e.index << 24) ^ e.term;  // terms stay far below 2^24
          auto [it, inserted] = gs.seen.try_emplace(key, payload, prev_term);
          if (!inserted && (it->second.first != payload || it->second.second != prev_term)) {
            fail(g, "log matching: index " + std::to_string(e.index) + " term " +
                        std::to_string(e.term) + " differs between logs");
          }
          r.disk.log.push_back(std::move(e));
        }
      }
      if (r.disk.hs.commit > r.disk.last()) fail(g, "persisted commit beyond the log");
      if (r.disk.hs.commit < r.disk.snap.index) fail(g, "persisted commit behind the snapshot");
      if (trace_) {
        std::printf("t=%llu g%zu n%llu ready: term %llu vote %llu commit %llu role %s, %zu entries,"
                    " %zu committed%s\n",
                    static_cast<unsigned long long>(now_), g, static_cast<unsigned long long>(id),
                    static_cast<unsigned long long>(r.disk.hs.term),
                    static_cast<unsigned long long>(r.disk.hs.vote),
                    static_cast<unsigned long long>(r.disk.hs.commit),
                    std::string(role_name(r.node->role())).c_str(), rd.entries.size(),
                    rd.committed.size(), rd.snapshot ? " +snapshot" : "");
        for (const Message& m : rd.messages) {
          std::printf("   %s %llu->%llu term %llu idx %llu lt %llu n=%zu commit %llu rej %d\n",
                      std::string(message_type_name(m.type)).c_str(),
                      static_cast<unsigned long long>(m.from),
                      static_cast<unsigned long long>(m.to),
                      static_cast<unsigned long long>(m.term),
                      static_cast<unsigned long long>(m.index),
                      static_cast<unsigned long long>(m.log_term), m.entries.size(),
                      static_cast<unsigned long long>(m.commit), m.reject ? 1 : 0);
        }
      }
      for (Message& m : rd.messages) {
        if (m.type == MessageType::kSnapshot) fill_snapshot(id, g, m);
        send(id, g, std::move(m));
      }
      for (const Entry& e : rd.committed) apply(id, g, e);
      r.node->advance();
    }
    check_replica(id, g);
  }

  void record_payload(size_t g, uint64_t index, uint64_t term, const std::string& payload,
                      uint64_t observer_term) {
    auto& c = gs_[g].committed;
    if (index <= c.size()) {
      c[index - 1].seen_in = std::min(c[index - 1].seen_in, observer_term);
      if (c[index - 1].term != term || c[index - 1].payload != payload) {
        fail(g, "state machine safety: index " + std::to_string(index) +
                    " committed with two different entries");
      }
    } else {
      if (index != c.size() + 1) fail(g, "commit gap");
      if (payload.size() > 1 && payload[0] == '2') ++gs_[g].conf_changes;
      c.push_back({term, payload, observer_term});
    }
  }

  void record_committed(size_t g, uint64_t index, const Entry& e, uint64_t observer_term) {
    record_payload(g, index, e.term, payload_of(e), observer_term);
  }

  void resolve_pending(NodeId id, size_t g) {
    Replica& r = reps_[id][g];
    auto& pend = pending_[{id, g}];
    while (!pend.empty() && pend.front().index <= r.applied) {
      const Pending& p = pend.front();
      const Applied& a = r.sm[p.index - 1];
      if (p.epoch == epoch_[id] && p.term == a.first && "0:" + p.data == a.second) {
        gs_[g].acked.emplace_back(p.index, p.data);
      }
      pend.erase(pend.begin());
    }
  }

  void apply(NodeId id, size_t g, const Entry& e) {
    Replica& r = reps_[id][g];
    if (e.index != r.applied + 1) fail(g, "applied out of order on node " + std::to_string(id));
    r.applied = e.index;
    r.sm.emplace_back(e.term, payload_of(e));
    record_committed(g, e.index, e, r.node->term());
    resolve_pending(id, g);
  }

  void check_replica(NodeId id, size_t g) {
    Replica& r = reps_[id][g];
    GroupState& gs = gs_[g];
    const Node& n = *r.node;
    // Committed prefixes agree (in memory, before they are even applied).
    if (n.commit_index() > n.last_index()) fail(g, "commit index beyond the log");
    if (n.snapshot_index() > n.commit_index()) fail(g, "log base beyond the commit index");
    for (uint64_t i = std::max(r.checked_commit, n.snapshot_index()) + 1; i <= n.commit_index();
         ++i) {
      const Entry* e = n.entry_at(i);
      if (!e || e->index != i) fail(g, "entry_at is wrong");
      record_committed(g, i, *e, n.term());
    }
    r.checked_commit = std::max(r.checked_commit, n.commit_index());
    if (n.role() == Role::kLeader) {
      // Election safety: one leader per term, over the whole history.
      auto [it, inserted] = gs.leader_of_term.try_emplace(n.term(), id);
      if (!inserted && it->second != id) {
        fail(g, "election safety: nodes " + std::to_string(it->second) + " and " +
                    std::to_string(id) + " both lead term " + std::to_string(n.term()));
      }
      if (r.leader_term_seen != n.term()) {
        if (trace_) {
          std::printf("t=%llu group %zu: node %llu leads term %llu (last index %llu)\n",
                      static_cast<unsigned long long>(now_), g,
                      static_cast<unsigned long long>(id),
                      static_cast<unsigned long long>(n.term()),
                      static_cast<unsigned long long>(n.last_index()));
        }
        r.leader_term_seen = n.term();
        r.quorum_checked = n.commit_index();
        gs.max_leader_term = std::max(gs.max_leader_term, n.term());
        if (!n.is_voter(id)) fail(g, "a non-voter became leader");
        // Leader completeness: every entry committed in an earlier term is in the log of
        // the leader of a later term (or in its snapshot). (A late vote can still make a
        // leader of an old term, which need not hold what later terms committed.)
        for (uint64_t i = std::max<uint64_t>(1, n.snapshot_index()); i <= gs.committed.size();
             ++i) {
          if (gs.committed[i - 1].seen_in < n.term() && n.term_at(i) != gs.committed[i - 1].term) {
            fail(g, "leader completeness: leader " + std::to_string(id) + " of term " +
                        std::to_string(n.term()) + " lacks committed index " +
                        std::to_string(i));
          }
        }
        if (churn_p_ > 0 && now_ < fault_end_ && rng_.chance(churn_p_)) {
          if (figure8_) {
            isolate(id, g);
          } else {
            schedule(now_ + rng_.uniform(1, 4 * max_delay_ + 40),
                     mk(Ev::kChurn, id, g, epoch_[id]));
          }
        }
      }
      // Commit quorum, with the configuration in force at the leader: a majority of its
      // voters hold the newly committed entry on disk (or in a snapshot past it).
      if (n.commit_index() > r.quorum_checked) {
        const uint64_t c = n.commit_index();
        const uint64_t term = n.term_at(c);
        const ConfState cs = n.conf_state();
        size_t holders = 0;
        for (NodeId v : cs.voters) {
          if (v > nodes_) fail(g, "unknown voter");
          const uint64_t t = reps_[v][g].disk.term_at(c);
          if (t == term || t == ~0ULL) ++holders;
        }
        if (holders < cs.voters.size() / 2 + 1) {
          fail(g, "commit quorum: leader " + std::to_string(id) + " committed index " +
                      std::to_string(c) + " held by " + std::to_string(holders) + " of " +
                      std::to_string(cs.voters.size()) + " voters");
        }
        r.quorum_checked = c;
      }
      // Lease safety: nobody was elected in a later term while this leader holds a lease.
      if (n.has_lease() && gs.max_leader_term > n.term()) {
        fail(g, "lease: node " + std::to_string(id) + " holds a lease in term " +
                    std::to_string(n.term()) + " after term " +
                    std::to_string(gs.max_leader_term) + " had a leader");
      }
    }
  }

  // The leader of group g whose configuration decides liveness: the highest-term leader.
  NodeId final_leader(size_t g) const {
    NodeId leader = kNoNode;
    for (NodeId id = 1; id <= nodes_; ++id) {
      const Node& n = *reps_[id][g].node;
      if (n.role() == Role::kLeader && n.is_voter(id) &&
          (leader == kNoNode || n.term() > reps_[leader][g].node->term())) {
        leader = id;
      }
    }
    return leader;
  }

  std::vector<NodeId> members(NodeId leader, size_t g) const {
    const ConfState cs = reps_[leader][g].node->conf_state();
    std::vector<NodeId> m = cs.voters;
    m.insert(m.end(), cs.learners.begin(), cs.learners.end());
    return m;
  }

  bool live() const {
    for (size_t g = 0; g < groups_; ++g) {
      NodeId leader = final_leader(g);
      if (leader == kNoNode) return false;
      const Node& l = *reps_[leader][g].node;
      if (l.last_conf_change_index() > l.commit_index()) return false;
      if (l.term_at(l.commit_index()) != l.term()) return false;  // settled in its term
      uint64_t need = 0;
      for (auto& a : gs_[g].acked) need = std::max(need, a.first);
      for (NodeId id : members(leader, g)) {
        if (reps_[id][g].applied < need) return false;
      }
    }
    return true;
  }

  void check_liveness() {
    for (size_t g = 0; g < groups_; ++g) {
      NodeId leader = final_leader(g);
      if (leader == kNoNode) fail(g, "liveness: no leader after the network healed");
      for (auto& [index, data] : gs_[g].acked) {
        for (NodeId id : members(leader, g)) {
          if (reps_[id][g].applied < index) {
            fail(g, "liveness: acknowledged index " + std::to_string(index) +
                        " not applied on node " + std::to_string(id));
          }
        }
      }
    }
    // Sanity of the schedule itself: something must have happened.
    if (committed_total() == 0) fail(0, "liveness: nothing committed in the whole run");
  }

  uint64_t seed_;
  Rng rng_;
  size_t n_, groups_, nodes_;
  double drop_p_, dup_p_, long_delay_p_, churn_p_;
  uint64_t max_delay_, crash_interval_, partition_interval_, propose_interval_;
  uint64_t compact_interval_, conf_interval_;
  bool membership_, figure8_;
  uint64_t fault_end_, end_;
  size_t batch_ = 8, inflight_ = 4;
  bool healing_ = false;
  bool trace_ = std::getenv("SHOAL_RAFT_TRACE") != nullptr;
  std::vector<NodeId> voters_;
  std::vector<uint64_t> period_;
  std::vector<bool> up_;
  std::vector<uint64_t> epoch_;
  std::vector<int> side_;
  std::vector<std::vector<Replica>> reps_;
  std::vector<GroupState> gs_;
  std::map<std::pair<NodeId, size_t>, std::vector<Pending>> pending_;

  using Key = std::pair<uint64_t, uint64_t>;  // (time, sequence): FIFO among equal times
  std::priority_queue<std::pair<Key, int>, std::vector<std::pair<Key, int>>, std::greater<>> q_;
  std::unordered_map<uint64_t, Ev> events_;
  uint64_t seq_ = 0;
  uint64_t now_ = 0;
  uint64_t steps_ = 0, crashes_ = 0, partitions_ = 0, churns_ = 0, sent_ = 0;
  std::vector<std::vector<bool>> cut_;  // [group][node]: churn isolation, per group
  std::vector<uint64_t> isolation_;     // [group]: generation of the latest churn isolation
  uint64_t compactions_ = 0, snapshots_sent_ = 0, snapshots_installed_ = 0;
};

uint64_t env_u64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : def;
}

TEST(RaftSim, SeededSchedules) {
  if (const char* one = std::getenv("SHOAL_RAFT_SEED"); one && *one) {
    uint64_t seed = std::strtoull(one, nullptr, 10);
    Sim sim(seed);
    auto v = sim.run();
    std::printf("seed %llu: %s\n", static_cast<unsigned long long>(seed),
                sim.summary().c_str());
    ASSERT_FALSE(v.has_value()) << v->what;
    return;
  }
  const uint64_t count = env_u64("SHOAL_RAFT_SEEDS", 10000);
  unsigned threads = static_cast<unsigned>(
      env_u64("SHOAL_RAFT_THREADS", std::max(1u, std::thread::hardware_concurrency())));
  std::atomic<uint64_t> next{1};
  std::atomic<uint64_t> committed{0}, installed{0}, conf_changes{0};
  std::mutex mu;
  std::vector<std::string> failures;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (uint64_t s = next++; s <= count; s = next++) {
        Sim sim(s);
        auto v = sim.run();
        committed += sim.committed_total();
        installed += sim.snapshots_installed();
        conf_changes += sim.conf_changes();
        if (v) {
          std::lock_guard lock(mu);
          failures.push_back(v->what);
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%llu schedules on %u threads in %.1f s, %llu entries committed, %llu snapshots "
              "installed, %llu conf changes committed, %zu failures\n",
              static_cast<unsigned long long>(count), threads, secs,
              static_cast<unsigned long long>(committed.load()),
              static_cast<unsigned long long>(installed.load()),
              static_cast<unsigned long long>(conf_changes.load()), failures.size());
  std::sort(failures.begin(), failures.end());
  for (size_t i = 0; i < failures.size() && i < 20; ++i) {
    ADD_FAILURE() << failures[i] << "  (replay: SHOAL_RAFT_SEED=<seed> raft_sim_test)";
  }
}

}  // namespace
}  // namespace shoal::raft
