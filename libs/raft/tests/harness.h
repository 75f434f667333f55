#pragma once
// A tiny synchronous cluster for unit tests: nodes, their "disks", and a FIFO network that
// tests can filter. The simulator (sim_test.cc) is the randomized counterpart.

#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "shoal/raft/node.h"

namespace shoal::raft::testing {

struct Disk {
  HardState hs;
  SnapshotMeta snap;       // latest snapshot (index 0: none)
  std::string snap_data;   // its state machine image
  std::vector<Entry> log;  // entries after snap.index
  std::vector<Entry> applied;  // the state machine: every entry applied, from index 1
};

// The test state machine image: the applied entries, one per line "index term type data".
inline std::string encode_applied(const std::vector<Entry>& applied, uint64_t upto) {
  std::string s;
  for (const Entry& e : applied) {
    if (e.index > upto) break;
    s += std::to_string(e.index) + " " + std::to_string(e.term) + " " +
         std::to_string(static_cast<int>(e.type)) + " " + std::to_string(e.data.size()) + " " +
         e.data + "\n";
  }
  return s;
}
inline std::vector<Entry> decode_applied(const std::string& s) {
  std::vector<Entry> out;
  size_t pos = 0;
  auto num = [&] {
    size_t end = s.find(' ', pos);
    uint64_t v = std::stoull(s.substr(pos, end - pos));
    pos = end + 1;
    return v;
  };
  while (pos < s.size()) {
    Entry e;
    e.index = num();
    e.term = num();
    e.type = static_cast<EntryType>(num());
    size_t len = num();
    e.data = s.substr(pos, len);
    pos += len + 1;
    out.push_back(std::move(e));
  }
  return out;
}

class TestCluster {
 public:
  explicit TestCluster(size_t n, bool pre_vote = true, uint64_t seed = 1) {
    for (size_t i = 1; i <= n; ++i) voters_.push_back(i);
    disks_.resize(n + 1);
    nodes_.resize(n + 1);
    for (NodeId id = 1; id <= n; ++id) restart(id, pre_vote, seed);
  }
  // Nodes 1..n whose initial configuration is `voters` (the others start as non-members,
  // waiting to be added).
  TestCluster(size_t n, std::vector<NodeId> voters, bool pre_vote = true, uint64_t seed = 1)
      : voters_(std::move(voters)) {
    disks_.resize(n + 1);
    nodes_.resize(n + 1);
    for (NodeId id = 1; id <= n; ++id) restart(id, pre_vote, seed);
  }

  Config config(NodeId id, bool pre_vote, uint64_t seed) const {
    Config c;
    c.id = id;
    c.voters = voters_;
    c.election_ticks = 10;
    c.heartbeat_ticks = 1;
    c.pre_vote = pre_vote;
    c.seed = seed;
    return c;
  }

  // Rebuilds node `id` from what its disk holds.
  void restart(NodeId id, bool pre_vote = true, uint64_t seed = 1) {
    Disk& d = disks_[id];
    d.applied = decode_applied(d.snap_data);  // the state machine restarts from the snapshot
    if (d.snap.index == 0) {
      nodes_[id] = std::make_unique<Node>(config(id, pre_vote, seed), d.hs, d.log);
    } else {
      nodes_[id] = std::make_unique<Node>(config(id, pre_vote, seed), d.hs, d.snap, d.log);
    }
  }

  // The embedding saves its state machine up to `index` and lets the node compact.
  Status compact(NodeId id, uint64_t index) {
    Node& n = *nodes_[id];
    Disk& d = disks_[id];
    if (index <= d.snap.index) return Status::ok();
    SnapshotMeta meta = n.snapshot_meta_at(index);
    std::string data = encode_applied(d.applied, index);
    Status st = n.compact(index);
    if (!st.is_ok()) return st;
    d.log.erase(d.log.begin(), d.log.begin() + static_cast<ptrdiff_t>(index - d.snap.index));
    d.snap = meta;
    d.snap_data = std::move(data);
    return st;
  }
  void replace(NodeId id, const Config& c, HardState hs, std::vector<Entry> log) {
    disks_[id].hs = hs;
    disks_[id].log = log;
    nodes_[id] = std::make_unique<Node>(c, hs, std::move(log));
  }

  Node& node(NodeId id) { return *nodes_[id]; }
  Disk& disk(NodeId id) { return disks_[id]; }
  size_t size() const { return nodes_.size() - 1; }

  // Handles every node's Ready: persist, queue messages, apply.
  void flush() {
    for (NodeId id = 1; id <= size(); ++id) {
      Node& n = *nodes_[id];
      while (n.has_ready()) {
        Ready rd = n.ready();
        Disk& d = disks_[id];
        if (rd.hard_state) d.hs = *rd.hard_state;
        if (rd.snapshot) {
          ++snapshots_installed;
          d.snap = rd.snapshot->meta;
          d.snap_data = rd.snapshot->data;
          d.applied = decode_applied(d.snap_data);
          d.log.clear();
        }
        if (!rd.entries.empty()) {
          d.log.resize(rd.entries.front().index - d.snap.index - 1);
          d.log.insert(d.log.end(), rd.entries.begin(), rd.entries.end());
        }
        for (auto& m : rd.messages) {
          if (m.type == MessageType::kSnapshot) {
            // Send our own durable state machine image instead of the bare meta.
            ++snapshots_sent;
            m.snapshot->meta = d.snap;
            m.snapshot->data = d.snap_data;
          }
          net_.push_back(std::move(m));
        }
        for (auto& e : rd.committed) d.applied.push_back(e);
        n.advance();
      }
    }
  }

  bool cut(NodeId a, NodeId b) const {
    return isolated_.count(a) != isolated_.count(b);
  }

  // Delivers messages until the network is empty. Returns the number delivered.
  size_t deliver(size_t limit = 100000) {
    size_t n = 0;
    flush();
    while (!net_.empty() && n < limit) {
      Message m = std::move(net_.front());
      net_.pop_front();
      if (cut(m.from, m.to) || (drop && drop(m))) continue;
      nodes_[m.to]->step(m);
      ++n;
      flush();
    }
    return n;
  }

  void tick(NodeId id, int times = 1) {
    for (int i = 0; i < times; ++i) {
      nodes_[id]->tick();
      deliver();
    }
  }
  void tick_all(int times = 1) {
    for (int i = 0; i < times; ++i) {
      for (NodeId id = 1; id <= size(); ++id) nodes_[id]->tick();
      deliver();
    }
  }

  NodeId leader() const {
    NodeId l = kNoNode;
    uint64_t term = 0;
    for (NodeId id = 1; id <= size(); ++id) {
      if (nodes_[id]->role() == Role::kLeader && nodes_[id]->term() >= term) {
        l = id;
        term = nodes_[id]->term();
      }
    }
    return l;
  }

  // Ticks until some node leads (and the cluster settled); returns it.
  NodeId elect(int max_ticks = 200) {
    for (int i = 0; i < max_ticks; ++i) {
      tick_all();
      NodeId l = leader();
      if (l != kNoNode && nodes_[l]->commit_index() == nodes_[l]->last_index()) return l;
    }
    return kNoNode;
  }

  size_t snapshots_sent = 0, snapshots_installed = 0;
  std::set<NodeId> isolated_;
  std::function<bool(const Message&)> drop;
  std::deque<Message> net_;

 private:
  std::vector<NodeId> voters_;
  std::vector<Disk> disks_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace shoal::raft::testing
