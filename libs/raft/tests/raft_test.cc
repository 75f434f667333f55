#include <gtest/gtest.h>

#include "harness.h"
#include "shoal/raft/node.h"

namespace shoal::raft {
namespace {

using testing::TestCluster;

std::vector<Entry> make_log(std::initializer_list<uint64_t> terms) {
  std::vector<Entry> log;
  for (uint64_t t : terms) log.push_back(Entry{t, log.size() + 1, EntryType::kNormal, "x"});
  return log;
}

TEST(Raft, ElectsOneLeaderAndReplicates) {
  TestCluster c(3);
  NodeId l = c.elect();
  ASSERT_NE(l, kNoNode);
  int leaders = 0;
  for (NodeId id = 1; id <= 3; ++id) {
    if (c.node(id).role() == Role::kLeader) ++leaders;
    EXPECT_EQ(c.node(id).leader(), l);
    EXPECT_EQ(c.node(id).term(), c.node(l).term());
  }
  EXPECT_EQ(leaders, 1);
  auto r = c.node(l).propose("hello");
  ASSERT_TRUE(r.ok());
  c.deliver();
  c.tick_all(2);
  for (NodeId id = 1; id <= 3; ++id) {
    ASSERT_FALSE(c.disk(id).applied.empty());
    EXPECT_EQ(c.disk(id).applied.back().data, "hello");
    EXPECT_EQ(c.disk(id).applied.back().index, r->index);
  }
}

TEST(Raft, FollowerRefusesProposalsWithLeaderHint) {
  TestCluster c(3);
  NodeId l = c.elect();
  NodeId f = l == 1 ? 2 : 1;
  auto r = c.node(f).propose("x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kStaleRoute);
  EXPECT_NE(r.status().message().find("leader=" + std::to_string(l)), std::string::npos);
  EXPECT_EQ(c.node(f).leader(), l);
}

TEST(Raft, SingleNodeCommitsAlone) {
  TestCluster c(1);
  NodeId l = c.elect();
  ASSERT_EQ(l, 1u);
  ASSERT_TRUE(c.node(1).propose("a").ok());
  c.deliver();
  EXPECT_EQ(c.disk(1).applied.back().data, "a");
}

TEST(Raft, PreVoteStopsTermInflationFromPartitionedNode) {
  TestCluster c(3, /*pre_vote=*/true);
  NodeId l = c.elect();
  const uint64_t term = c.node(l).term();
  NodeId p = l == 3 ? 1 : 3;
  c.isolated_ = {p};
  c.tick_all(200);
  EXPECT_EQ(c.node(p).term(), term);  // pre-votes never succeed, so the term never moves
  c.isolated_.clear();
  c.tick_all(50);
  EXPECT_EQ(c.leader(), l);  // the rejoining node does not depose the leader
  EXPECT_EQ(c.node(l).term(), term);
  EXPECT_EQ(c.node(p).leader(), l);
}

TEST(Raft, WithoutPreVoteAPartitionedNodeInflatesItsTerm) {
  TestCluster c(3, /*pre_vote=*/false);
  NodeId l = c.elect();
  const uint64_t term = c.node(l).term();
  NodeId p = l == 3 ? 1 : 3;
  c.isolated_ = {p};
  c.tick_all(200);
  EXPECT_GT(c.node(p).term(), term + 3);
}

TEST(Raft, LogRepairAfterLeaderChange) {
  TestCluster c(3);
  NodeId old = c.elect();
  ASSERT_TRUE(c.node(old).propose("committed").ok());
  c.deliver();
  // The old leader gets cut off and appends entries nobody else sees.
  c.isolated_ = {old};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.node(old).propose("lost" + std::to_string(i)).ok());
  c.deliver();
  NodeId nl = kNoNode;
  for (int i = 0; i < 300 && nl == kNoNode; ++i) {
    c.tick_all();
    for (NodeId id = 1; id <= 3; ++id) {
      if (id != old && c.node(id).role() == Role::kLeader) nl = id;
    }
  }
  ASSERT_NE(nl, kNoNode);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.node(nl).propose("new" + std::to_string(i)).ok());
  c.deliver();
  c.isolated_.clear();
  c.tick_all(30);
  EXPECT_EQ(c.leader(), nl);
  for (NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(c.node(id).log(), c.node(nl).log()) << "node " << id;
    EXPECT_EQ(c.node(id).commit_index(), c.node(nl).last_index());
    for (const Entry& e : c.disk(id).applied) EXPECT_EQ(e.data.rfind("lost", 0), std::string::npos);
  }
}

TEST(Raft, FastBacktrackingSkipsConflictingTerms) {
  // Follower 2 holds a long divergent tail of term 2; the leader (term 3 history) repairs it
  // in a few round trips instead of one per entry.
  TestCluster c(3);
  // Nodes only tick node 1, so fresh nodes must not hold back votes for a lease.
  auto cfg = [&](NodeId id) {
    Config k = c.config(id, true, 1);
    k.check_quorum = false;
    return k;
  };
  c.replace(1, cfg(1), HardState{3, 1, 2}, make_log({1, 1, 3, 3, 3}));
  c.replace(2, cfg(2), HardState{2, 0, 2},
            make_log({1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}));
  c.replace(3, cfg(3), HardState{3, 1, 2}, make_log({1, 1, 3, 3, 3}));
  size_t appends_to_2 = 0;
  c.drop = [&](const Message& m) {
    if (m.type == MessageType::kAppend && m.to == 2) ++appends_to_2;
    return false;
  };
  // Node 1 campaigns on its own: pre-vote wins (3 agrees), then real election.
  for (int i = 0; i < 100 && c.node(1).role() != Role::kLeader; ++i) c.tick(1);
  ASSERT_EQ(c.node(1).role(), Role::kLeader);
  c.deliver();
  EXPECT_EQ(c.node(2).log(), c.node(1).log());
  EXPECT_LE(appends_to_2, 5u);
}

TEST(Raft, Figure8OnlyCurrentTermEntriesCommitByCounting) {
  // Node 1 was leader in term 2 and appended index 2 (term 2) without replicating it. Now it
  // wins term 4. Replicating index 2 to node 2 makes it present on a majority, but it must
  // not be committed until the term-4 no-op (index 3) is also on a majority.
  TestCluster c(3);
  auto cfg = [&](NodeId id) {
    Config k = c.config(id, true, 1);
    k.check_quorum = false;  // only node 1 ticks
    k.max_entries_per_msg = 1;
    return k;
  };
  c.replace(1, cfg(1), HardState{3, 1, 1}, make_log({1, 2}));
  c.replace(2, cfg(2), HardState{3, 0, 1}, make_log({1}));
  c.replace(3, cfg(3), HardState{3, 3, 1}, make_log({1, 3}));
  c.isolated_ = {3};
  // Once node 2 holds index 2, hold back anything that would give it index 3 (earlier
  // appends pass, so that node 2 rejects them and the leader backs up to index 2).
  c.drop = [&](const Message& m) {
    if (m.type != MessageType::kAppend || c.node(2).last_index() < 2) return false;
    for (const Entry& e : m.entries) {
      if (e.index >= 3) return true;
    }
    return false;
  };
  for (int i = 0; i < 100 && c.node(1).role() != Role::kLeader; ++i) c.tick(1);
  ASSERT_EQ(c.node(1).role(), Role::kLeader);
  EXPECT_EQ(c.node(1).term(), 4u);
  c.tick(1, 5);
  ASSERT_GE(c.node(2).last_index(), 2u);
  EXPECT_EQ(c.node(2).term_at(2), 2u);
  EXPECT_EQ(c.node(1).commit_index(), 1u) << "a term-2 entry was committed by counting";
  c.drop = nullptr;
  c.tick(1, 3);
  EXPECT_EQ(c.node(1).commit_index(), 3u);
}

TEST(Raft, StaleTermMessagesAreRejected) {
  TestCluster c(3);
  NodeId l = c.elect();
  NodeId f = l == 1 ? 2 : 1;
  const uint64_t term = c.node(f).term();
  const uint64_t last = c.node(f).last_index();
  // An append from an old term with conflicting entries must not touch the log.
  Message m;
  m.type = MessageType::kAppend;
  m.from = l == 3 ? 2 : 3;
  if (m.from == f) m.from = l;
  m.to = f;
  m.term = term - 1;
  m.index = 0;
  m.entries = {Entry{term - 1, 1, EntryType::kNormal, "evil"}};
  m.commit = 1;
  c.node(f).step(m);
  EXPECT_EQ(c.node(f).term(), term);
  EXPECT_EQ(c.node(f).last_index(), last);
  EXPECT_NE(c.node(f).log()[0].data, "evil");
  // A vote request from an old term is not granted.
  Message v;
  v.type = MessageType::kVote;
  v.from = m.from;
  v.to = f;
  v.term = term - 1;
  v.index = 100;
  v.log_term = 100;
  c.node(f).step(v);
  EXPECT_NE(c.node(f).vote(), v.from);
  Ready rd = c.node(f).ready();
  for (const Message& r : rd.messages) {
    EXPECT_FALSE(r.type == MessageType::kVoteResp && !r.reject);
  }
  c.node(f).advance();
}

TEST(Raft, OldLeaderStepsDownOnHigherTerm) {
  TestCluster c(3);
  NodeId l = c.elect();
  Message m;
  m.type = MessageType::kHeartbeatResp;
  m.from = l == 1 ? 2 : 1;
  m.to = l;
  m.term = c.node(l).term() + 5;
  c.node(l).step(m);
  EXPECT_EQ(c.node(l).role(), Role::kFollower);
  EXPECT_EQ(c.node(l).term(), m.term);
}

TEST(Raft, VotesAreDurableAcrossRestart) {
  TestCluster c(3);
  NodeId l = c.elect();
  const uint64_t term = c.node(l).term();
  for (NodeId id = 1; id <= 3; ++id) c.restart(id);
  for (NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(c.node(id).term(), term);
    EXPECT_EQ(c.disk(id).hs.term, term);
  }
  EXPECT_EQ(c.disk(l).hs.vote, l);
  NodeId l2 = c.elect();
  ASSERT_NE(l2, kNoNode);
  EXPECT_GT(c.node(l2).term(), term);
}

TEST(Raft, PipelinesAndBatches) {
  TestCluster c(3);
  NodeId l = c.elect();
  size_t appends = 0, max_batch = 0;
  c.drop = [&](const Message& m) {
    if (m.type == MessageType::kAppend && !m.entries.empty()) {
      ++appends;
      max_batch = std::max(max_batch, m.entries.size());
    }
    return false;
  };
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(c.node(l).propose(std::to_string(i)).ok());
  c.deliver();
  c.tick_all(2);
  for (NodeId id = 1; id <= 3; ++id) EXPECT_EQ(c.node(id).commit_index(), c.node(l).last_index());
  EXPECT_EQ(max_batch, 64u);  // default max_entries_per_msg
  EXPECT_LE(appends, 2u * 4u);  // 200 entries, 4 messages per follower
}

TEST(Raft, LeaseHeldWithQuorumAndLostWithout) {
  TestCluster c(3);
  NodeId l = c.elect();
  c.tick_all(2);
  EXPECT_TRUE(c.node(l).has_lease());
  c.isolated_ = {l};
  bool lost = false;
  for (int i = 0; i < 10 && !lost; ++i) {
    c.tick(l);
    lost = !c.node(l).has_lease();
  }
  EXPECT_TRUE(lost);
  // Followers keep refusing votes for election_ticks after their last contact, so nobody
  // can be elected while the old lease could still be held.
  for (NodeId id = 1; id <= 3; ++id) {
    if (id != l) {
      EXPECT_NE(c.node(id).role(), Role::kLeader);
    }
  }
}

TEST(Raft, LeadershipTransfer) {
  TestCluster c(3);
  NodeId l = c.elect();
  NodeId t = l == 3 ? 1 : 3;
  ASSERT_TRUE(c.node(l).propose("before").ok());
  ASSERT_TRUE(c.node(l).transfer_leadership(t).is_ok());
  EXPECT_FALSE(c.node(l).has_lease());
  c.deliver();
  c.tick_all(3);
  EXPECT_EQ(c.leader(), t);
  EXPECT_EQ(c.node(l).role(), Role::kFollower);
  EXPECT_GT(c.node(t).term(), 1u);
}

}  // namespace
}  // namespace shoal::raft
