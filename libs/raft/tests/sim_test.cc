// Deterministic simulator for raft::Node.
//
// One schedule = one seed. A seed fixes everything: cluster size (3 or 5 nodes), number of
// Raft groups hosted on those nodes, per-node clock rates (skew), network faults (drops,
// duplicates, delays that reorder, partitions that come and go), crashes that lose all
// state not yet handed out by ready() (restart from persisted HardState + log), and client
// proposals. After every event the invariants below are checked; the first violation stops
// the schedule and is reported with its seed. Then the network heals and liveness is
// checked: every group elects a leader and every acknowledged proposal is applied on every
// node.
//
//   SHOAL_RAFT_SEEDS=<count>   schedules to run (default 10000), seeds 1..count
//   SHOAL_RAFT_SEED=<n>        replay only seed n (prints a summary)
//   SHOAL_RAFT_THREADS=<n>     worker threads (default: hardware concurrency)

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ULL + 0x1234567) {}
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

struct Disk {
  HardState hs;
  std::vector<Entry> log;
};

struct Replica {
  std::unique_ptr<Node> node;
  Disk disk;
  bool ready_scheduled = false;
  uint64_t checked_commit = 0;   // committed prefix already compared with the record
  uint64_t applied = 0;          // state machine position (rebuilt after a crash)
  uint64_t leader_term_seen = 0;
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
    end_ = fault_end_ + 500000;  // cap; the run stops once liveness holds
    for (NodeId id = 1; id <= n_; ++id) voters_.push_back(id);
    period_.assign(n_ + 1, 0);
    up_.assign(n_ + 1, true);
    epoch_.assign(n_ + 1, 0);
    side_.assign(n_ + 1, 0);
    reps_.resize(n_ + 1);
    gs_.resize(groups_);
    for (NodeId id = 1; id <= n_; ++id) {
      period_[id] = kBasePeriod * rng_.uniform(90, 110) / 100;  // clock skew: +-10%
      reps_[id].resize(groups_);
      for (size_t g = 0; g < groups_; ++g) start(id, g);
      schedule(rng_.uniform(1, period_[id]), mk(Ev::kTick, id, 0, epoch_[id]));
    }
    if (crash_interval_) schedule(rng_.uniform(1, crash_interval_), mk(Ev::kCrash));
    if (partition_interval_) {
      schedule(rng_.uniform(1, partition_interval_), mk(Ev::kPartition));
    }
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
    o << "nodes=" << n_ << " groups=" << groups_ << " drop=" << drop_p_ << " dup=" << dup_p_
      << " max_delay=" << max_delay_ << " crash_every=" << crash_interval_
      << " partition_every=" << partition_interval_ << " events=" << steps_
      << " crashes=" << crashes_ << " partitions=" << partitions_ << " messages=" << sent_;
    for (size_t g = 0; g < groups_; ++g) {
      o << "\n  group " << g << ": leaders in " << gs_[g].leader_of_term.size()
        << " terms, committed=" << gs_[g].committed.size()
        << " acked=" << gs_[g].acked.size();
    }
    return o.str();
  }

  size_t committed_total() const {
    size_t n = 0;
    for (auto& g : gs_) n += g.committed.size();
    return n;
  }

 private:
  struct Ev {
    enum Kind { kTick, kDeliver, kReady, kCrash, kRestart, kPartition, kPropose, kHeal, kCheck };
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
    c.voters = voters_;
    c.election_ticks = kElectionTicks;
    c.heartbeat_ticks = 2;
    c.lease_ticks = kLeaseTicks;
    c.pre_vote = true;
    c.max_inflight = inflight_;
    c.max_entries_per_msg = batch_;
    c.seed = rng_.next();
    r.node = std::make_unique<Node>(c, r.disk.hs, r.disk.log);
    r.ready_scheduled = false;
    r.applied = 0;
    r.checked_commit = 0;
  }

  void touched(NodeId id, size_t g) {
    Replica& r = reps_[id][g];
    check_replica(id, g);
    if (!r.ready_scheduled && r.node->has_ready()) {
      r.ready_scheduled = true;
      schedule(now_ + rng_.uniform(0, 20), mk(Ev::kReady, id, g, epoch_[id]));
    }
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
        if (!up_[m.to] || side_[m.from] != side_[m.to]) return;
        reps_[m.to][ev.group].node->step(m);
        touched(m.to, ev.group);
        return;
      }
      case Ev::kReady:
        if (ev.epoch != epoch_[ev.node]) return;
        process_ready(ev.node, ev.group);
        return;
      case Ev::kCrash: {
        if (now_ >= fault_end_) return;
        NodeId id = rng_.uniform(1, n_);
        if (up_[id]) {
          if (trace_) std::printf("t=%llu crash node %llu\n", static_cast<unsigned long long>(now_),
                                  static_cast<unsigned long long>(id));
          up_[id] = false;
          ++epoch_[id];
          ++crashes_;
          for (size_t g = 0; g < groups_; ++g) reps_[id][g].node.reset();
          schedule(now_ + rng_.uniform(50, 3000), mk(Ev::kRestart, id));
        }
        schedule(now_ + rng_.uniform(1, crash_interval_), mk(Ev::kCrash));
        return;
      }
      case Ev::kRestart:
        restart(ev.node);
        return;
      case Ev::kPartition: {
        if (now_ >= fault_end_) return;
        bool healed = std::all_of(side_.begin(), side_.end(), [](int s) { return s == 0; });
        if (healed) {
          ++partitions_;
          if (rng_.chance(0.5)) {
            side_[rng_.uniform(1, n_)] = 1;  // isolate one node
          } else {
            for (NodeId id = 1; id <= n_; ++id) side_[id] = static_cast<int>(rng_.uniform(0, 1));
          }
        } else {
          std::fill(side_.begin(), side_.end(), 0);
        }
        schedule(now_ + rng_.uniform(1, partition_interval_), mk(Ev::kPartition));
        return;
      }
      case Ev::kPropose:
        propose();
        schedule(now_ + rng_.uniform(1, propose_interval_ * 2), mk(Ev::kPropose));
        return;
      case Ev::kCheck:
        return;
      case Ev::kHeal:
        healing_ = true;
        schedule(now_ + 10000, mk(Ev::kCheck));
        std::fill(side_.begin(), side_.end(), 0);
        for (NodeId id = 1; id <= n_; ++id) {
          if (!up_[id]) restart(id);
        }
        return;
    }
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
    NodeId id = rng_.uniform(1, n_);
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

  void process_ready(NodeId id, size_t g) {
    Replica& r = reps_[id][g];
    r.ready_scheduled = false;
    GroupState& gs = gs_[g];
    while (r.node->has_ready()) {
      Ready rd = r.node->ready();
      const uint64_t old_commit = r.disk.hs.commit;
      if (rd.hard_state) r.disk.hs = *rd.hard_state;
      if (!rd.entries.empty()) {
        const uint64_t first = rd.entries.front().index;
        if (first == 0 || first > r.disk.log.size() + 1) fail(g, "ready entries leave a gap");
        if (first <= old_commit && first <= r.disk.log.size() &&
            rd.entries.front().term != r.disk.log[first - 1].term) {
          fail(g, "a committed entry was overwritten on disk");
        }
        r.disk.log.resize(first - 1);
        for (Entry& e : rd.entries) {
          const uint64_t prev_term = r.disk.log.empty() ? 0 : r.disk.log.back().term;
          if (e.index != r.disk.log.size() + 1) fail(g, "non-contiguous entries");
          std::string payload = std::to_string(static_cast<int>(e.type)) + ":" + e.data;
          const uint64_t key = (e.index << 24) ^ e.term;  // terms stay far below 2^24
          auto [it, inserted] = gs.seen.try_emplace(key, payload, prev_term);
          if (!inserted && (it->second.first != payload || it->second.second != prev_term)) {
            fail(g, "log matching: index " + std::to_string(e.index) + " term " +
                        std::to_string(e.term) + " differs between logs");
          }
          r.disk.log.push_back(std::move(e));
        }
      }
      if (r.disk.hs.commit > r.disk.log.size()) fail(g, "persisted commit beyond the log");
      if (trace_) {
        std::printf("t=%llu g%zu n%llu ready: term %llu vote %llu commit %llu role %s, %zu entries,"
                    " %zu committed\n",
                    static_cast<unsigned long long>(now_), g, static_cast<unsigned long long>(id),
                    static_cast<unsigned long long>(r.disk.hs.term),
                    static_cast<unsigned long long>(r.disk.hs.vote),
                    static_cast<unsigned long long>(r.disk.hs.commit),
                    std::string(role_name(r.node->role())).c_str(), rd.entries.size(),
                    rd.committed.size());
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
      for (Message& m : rd.messages) send(id, g, std::move(m));
      for (const Entry& e : rd.committed) apply(id, g, e);
      r.node->advance();
    }
    check_replica(id, g);
  }

  void record_committed(size_t g, uint64_t index, const Entry& e, uint64_t observer_term) {
    auto& c = gs_[g].committed;
    std::string payload = std::to_string(static_cast<int>(e.type)) + ":" + e.data;
    if (index <= c.size()) {
      c[index - 1].seen_in = std::min(c[index - 1].seen_in, observer_term);
      if (c[index - 1].term != e.term || c[index - 1].payload != payload) {
        fail(g, "state machine safety: index " + std::to_string(index) +
                    " committed with two different entries");
      }
    } else {
      if (index != c.size() + 1) fail(g, "commit gap");
      c.push_back({e.term, std::move(payload), observer_term});
    }
  }

  void apply(NodeId id, size_t g, const Entry& e) {
    Replica& r = reps_[id][g];
    if (e.index != r.applied + 1) fail(g, "applied out of order on node " + std::to_string(id));
    r.applied = e.index;
    record_committed(g, e.index, e, r.node->term());
    auto& pend = pending_[{id, g}];
    while (!pend.empty() && pend.front().index <= e.index) {
      const Pending& p = pend.front();
      if (p.epoch == epoch_[id] && p.index == e.index && p.term == e.term && p.data == e.data) {
        gs_[g].acked.emplace_back(p.index, p.data);
      }
      pend.erase(pend.begin());
    }
  }

  void check_replica(NodeId id, size_t g) {
    Replica& r = reps_[id][g];
    GroupState& gs = gs_[g];
    const Node& n = *r.node;
    // Committed prefixes agree (in memory, before they are even applied).
    if (n.commit_index() > n.last_index()) fail(g, "commit index beyond the log");
    for (uint64_t i = r.checked_commit + 1; i <= n.commit_index(); ++i) {
      record_committed(g, i, n.log()[i - 1], n.term());
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
        gs.max_leader_term = std::max(gs.max_leader_term, n.term());
        // Leader completeness: every entry committed in an earlier term is in the log of
        // the leader of a later term. (A late vote can still make a leader of an old term,
        // which need not hold what later terms committed.)
        for (uint64_t i = 1; i <= gs.committed.size(); ++i) {
          if (gs.committed[i - 1].seen_in < n.term() && n.term_at(i) != gs.committed[i - 1].term) {
            fail(g, "leader completeness: leader " + std::to_string(id) + " of term " +
                        std::to_string(n.term()) + " lacks committed index " +
                        std::to_string(i));
          }
        }
      }
      // Lease safety: nobody was elected in a later term while this leader holds a lease.
      if (n.has_lease() && gs.max_leader_term > n.term()) {
        fail(g, "lease: node " + std::to_string(id) + " holds a lease in term " +
                    std::to_string(n.term()) + " after term " +
                    std::to_string(gs.max_leader_term) + " had a leader");
      }
    }
  }

  bool live() const {
    for (size_t g = 0; g < groups_; ++g) {
      bool leader = false;
      for (NodeId id = 1; id <= n_; ++id) {
        leader = leader || reps_[id][g].node->role() == Role::kLeader;
      }
      if (!leader) return false;
      uint64_t need = 0;
      for (auto& a : gs_[g].acked) need = std::max(need, a.first);
      for (NodeId id = 1; id <= n_; ++id) {
        if (reps_[id][g].applied < need) return false;
      }
    }
    return true;
  }

  void check_liveness() {
    for (size_t g = 0; g < groups_; ++g) {
      NodeId leader = kNoNode;
      for (NodeId id = 1; id <= n_; ++id) {
        if (reps_[id][g].node->role() == Role::kLeader) leader = id;
      }
      if (leader == kNoNode) fail(g, "liveness: no leader after the network healed");
      for (auto& [index, data] : gs_[g].acked) {
        for (NodeId id = 1; id <= n_; ++id) {
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
  size_t n_, groups_;
  double drop_p_, dup_p_, long_delay_p_;
  uint64_t max_delay_, crash_interval_, partition_interval_, propose_interval_;
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
  uint64_t steps_ = 0, crashes_ = 0, partitions_ = 0, sent_ = 0;
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
  std::atomic<uint64_t> committed{0};
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
        if (v) {
          std::lock_guard lock(mu);
          failures.push_back(v->what);
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%llu schedules on %u threads in %.1f s, %llu entries committed, %zu failures\n",
              static_cast<unsigned long long>(count), threads, secs,
              static_cast<unsigned long long>(committed.load()), failures.size());
  std::sort(failures.begin(), failures.end());
  for (size_t i = 0; i < failures.size() && i < 20; ++i) {
    ADD_FAILURE() << failures[i] << "  (replay: SHOAL_RAFT_SEED=<seed> raft_sim_test)";
  }
}

}  // namespace
}  // namespace shoal::raft
