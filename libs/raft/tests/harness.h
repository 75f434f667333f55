#pragma once
// A tiny synchronous cluster for unit tests: nodes, their "disks", and a FIFO network that
// tests can filter. The simulator (sim_test.cc) is the randomized counterpart.

#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <vector>

#include "shoal/raft/node.h"

namespace shoal::raft::testing {

struct Disk {
  HardState hs;
  std::vector<Entry> log;
  std::vector<Entry> applied;
};

class TestCluster {
 public:
  explicit TestCluster(size_t n, bool pre_vote = true, uint64_t seed = 1) {
    for (size_t i = 1; i <= n; ++i) voters_.push_back(i);
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
    disks_[id].applied.clear();
    nodes_[id] = std::make_unique<Node>(config(id, pre_vote, seed), disks_[id].hs,
                                        disks_[id].log);
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
        if (!rd.entries.empty()) {
          d.log.resize(rd.entries.front().index - 1);
          d.log.insert(d.log.end(), rd.entries.begin(), rd.entries.end());
        }
        for (auto& m : rd.messages) net_.push_back(std::move(m));
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

  std::set<NodeId> isolated_;
  std::function<bool(const Message&)> drop;
  std::deque<Message> net_;

 private:
  std::vector<NodeId> voters_;
  std::vector<Disk> disks_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace shoal::raft::testing
