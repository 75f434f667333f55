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

TEST(Raft, SingleVoterElectsItselfOnCampaignAndCommitsAlone) {
  TestCluster c(1);
  ASSERT_EQ(c.node(1).role(), Role::kFollower);
  ASSERT_TRUE(c.node(1).campaign().is_ok());
  EXPECT_EQ(c.node(1).role(), Role::kLeader);
  EXPECT_EQ(c.node(1).term(), 1u);
  c.deliver();
  EXPECT_EQ(c.node(1).commit_index(), 1u);  // its no-op, quorum 1
  auto r = c.node(1).propose("a");
  ASSERT_TRUE(r.ok());
  c.deliver();
  EXPECT_EQ(c.node(1).commit_index(), r->index);
  ASSERT_FALSE(c.disk(1).applied.empty());
  EXPECT_EQ(c.disk(1).applied.back().data, "a");
  // campaign() on a leader is a no-op.
  ASSERT_TRUE(c.node(1).campaign().is_ok());
  EXPECT_EQ(c.node(1).term(), 1u);
  EXPECT_EQ(c.node(1).role(), Role::kLeader);
}

TEST(Raft, SingleVoterElectsItselfOnElectionTimeout) {
  TestCluster c(1);
  int ticks = 0;
  while (c.node(1).role() != Role::kLeader && ticks < 20) {
    c.tick(1);
    ++ticks;
  }
  ASSERT_EQ(c.node(1).role(), Role::kLeader);
  EXPECT_GE(ticks, 10);
  auto r = c.node(1).propose("b");
  ASSERT_TRUE(r.ok());
  c.deliver();
  EXPECT_EQ(c.node(1).commit_index(), r->index);
  EXPECT_EQ(c.disk(1).applied.back().data, "b");
}

TEST(Raft, CampaignIgnoresLeasesLikeTimeoutNow) {
  TestCluster c(3);
  // A fresh group: nobody campaigns on its own yet; node 3 is told to.
  ASSERT_TRUE(c.node(3).campaign().is_ok());
  c.deliver();
  EXPECT_EQ(c.leader(), 3u);
  // Another campaign while a leader holds its lease still wins (transfer flag).
  ASSERT_TRUE(c.node(1).campaign().is_ok());
  c.deliver();
  EXPECT_EQ(c.leader(), 1u);
  EXPECT_EQ(c.node(3).role(), Role::kFollower);
  EXPECT_EQ(c.node(3).leader(), 1u);
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

TEST(Raft, CountsElectionsNotLostPreVotesAndReportsPeerProgress) {
  TestCluster c(3, /*pre_vote=*/true);
  NodeId l = c.elect();
  EXPECT_GE(c.node(l).elections_started(), 1u);
  uint64_t total = 0;
  for (NodeId id = 1; id <= 3; ++id) total += c.node(id).elections_started();
  EXPECT_GE(total, c.node(l).term());  // every term began with an election somewhere

  NodeId p = l == 3 ? 1 : 3;
  NodeId f = 6 - l - p;  // the other follower
  EXPECT_TRUE(c.node(p).peer_progress().empty());  // followers know no progress
  c.tick_all(2);
  auto progress = c.node(l).peer_progress();
  ASSERT_EQ(progress.size(), 2u);
  for (const auto& pr : progress) {
    EXPECT_NE(pr.id, l);
    EXPECT_FALSE(pr.learner);
    EXPECT_EQ(pr.match, c.node(l).last_index());
  }

  // An isolated follower falls behind by what the leader appends meanwhile; its pre-votes
  // fail, so it starts no election.
  const uint64_t before = c.node(p).elections_started();
  c.isolated_ = {p};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.node(l).propose("x").ok());
  c.tick_all(100);
  EXPECT_EQ(c.node(p).elections_started(), before);
  for (const auto& pr : c.node(l).peer_progress()) {
    uint64_t lag = c.node(l).last_index() - pr.match;
    EXPECT_EQ(lag, pr.id == p ? 5u : 0u) << "peer " << pr.id;
  }
  EXPECT_EQ(c.node(f).leader(), l);
}

TEST(Raft, WithoutPreVoteAPartitionedNodeInflatesItsTerm) {
  TestCluster c(3, /*pre_vote=*/false);
  NodeId l = c.elect();
  const uint64_t term = c.node(l).term();
  NodeId p = l == 3 ? 1 : 3;
  const uint64_t started = c.node(p).elections_started();
  c.isolated_ = {p};
  c.tick_all(200);
  EXPECT_GT(c.node(p).term(), term + 3);
  EXPECT_EQ(c.node(p).elections_started() - started, c.node(p).term() - term);  // one per term
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


// ---- snapshots and compaction ----

std::vector<std::string> datas(const std::vector<Entry>& applied) {
  std::vector<std::string> out;
  for (const Entry& e : applied) {
    if (e.type == EntryType::kNormal) out.push_back(e.data);
  }
  return out;
}

TEST(RaftSnapshot, CompactKeepsBaseAndRefusesBeyondApplied) {
  TestCluster c(3);
  NodeId l = c.elect();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.node(l).propose("e" + std::to_string(i)).ok());
  c.deliver();
  Node& n = c.node(l);
  const uint64_t last = n.last_index();
  ASSERT_EQ(n.applied_index(), last);
  const uint64_t t5 = n.term_at(5);
  EXPECT_FALSE(n.compact(last + 1).is_ok());
  ASSERT_TRUE(c.compact(l, 5).is_ok());
  EXPECT_EQ(n.first_index(), 6u);
  EXPECT_EQ(n.snapshot_index(), 5u);
  EXPECT_EQ(n.term_at(5), t5);
  EXPECT_EQ(n.term_at(4), 0u);  // compacted
  EXPECT_EQ(n.entry_at(5), nullptr);
  ASSERT_NE(n.entry_at(6), nullptr);
  EXPECT_EQ(n.entry_at(6)->index, 6u);
  EXPECT_EQ(n.last_index(), last);
  EXPECT_EQ(n.log().size(), last - 5);
  EXPECT_EQ(n.log().front().index, 6u);
  EXPECT_TRUE(c.compact(l, 3).is_ok());  // below the base: no-op
  EXPECT_EQ(n.first_index(), 6u);
  SnapshotMeta meta = n.snapshot_meta_at(7);
  EXPECT_EQ(meta.index, 7u);
  EXPECT_EQ(meta.term, n.term_at(7));
  EXPECT_EQ(meta.conf.voters, (std::vector<NodeId>{1, 2, 3}));
  // Replication goes on from the compacted log.
  ASSERT_TRUE(n.propose("after").ok());
  c.deliver();
  c.tick_all(2);
  for (NodeId id = 1; id <= 3; ++id) EXPECT_EQ(c.disk(id).applied.back().data, "after");
}

TEST(RaftSnapshot, LaggingFollowerCatchesUpThroughSnapshot) {
  TestCluster c(3);
  NodeId l = c.elect();
  NodeId f = l == 3 ? 1 : 3;
  ASSERT_TRUE(c.node(l).propose("early").ok());
  c.deliver();
  c.isolated_ = {f};
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(c.node(l).propose("v" + std::to_string(i)).ok());
  c.deliver();
  const uint64_t applied = c.node(l).applied_index();
  for (NodeId id = 1; id <= 3; ++id) {
    if (id != f) {
      ASSERT_TRUE(c.compact(id, c.node(id).applied_index()).is_ok());
    }
  }
  ASSERT_GT(c.node(l).first_index(), c.node(f).last_index() + 1);
  // The follower keeps a divergent-free but short log; it must get a snapshot.
  c.isolated_.clear();
  c.tick_all(5);
  EXPECT_GE(c.snapshots_sent, 1u);
  EXPECT_GE(c.snapshots_installed, 1u);
  EXPECT_EQ(c.node(f).snapshot_index(), applied);
  EXPECT_EQ(c.node(f).commit_index(), c.node(l).commit_index());
  EXPECT_EQ(datas(c.disk(f).applied), datas(c.disk(l).applied));
  EXPECT_EQ(c.disk(f).snap.index, applied);
  // New entries flow normally after the snapshot.
  ASSERT_TRUE(c.node(l).propose("later").ok());
  c.deliver();
  c.tick_all(2);
  EXPECT_EQ(c.disk(f).applied.back().data, "later");
  EXPECT_EQ(datas(c.disk(f).applied), datas(c.disk(l).applied));
  // The follower's disk log starts right after its snapshot.
  ASSERT_FALSE(c.disk(f).log.empty());
  EXPECT_EQ(c.disk(f).log.front().index, c.disk(f).snap.index + 1);
}

TEST(RaftSnapshot, LostSnapshotIsRetried) {
  TestCluster c(3);
  NodeId l = c.elect();
  NodeId f = l == 3 ? 1 : 3;
  c.isolated_ = {f};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.node(l).propose("v" + std::to_string(i)).ok());
  c.deliver();
  ASSERT_TRUE(c.compact(l, c.node(l).applied_index()).is_ok());
  c.isolated_.clear();
  size_t dropped = 0;
  c.drop = [&](const Message& m) {
    if (m.type == MessageType::kSnapshot && dropped < 2) {
      ++dropped;
      return true;
    }
    return false;
  };
  c.tick_all(40);
  EXPECT_EQ(dropped, 2u);
  EXPECT_EQ(c.node(f).commit_index(), c.node(l).commit_index());
  EXPECT_EQ(datas(c.disk(f).applied), datas(c.disk(l).applied));
}

TEST(RaftSnapshot, RestartFromSnapshotConstructor) {
  TestCluster c(3);
  NodeId l = c.elect();
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(c.node(l).propose("v" + std::to_string(i)).ok());
  c.deliver();
  c.tick_all(2);
  for (NodeId id = 1; id <= 3; ++id) ASSERT_TRUE(c.compact(id, 8).is_ok());
  const uint64_t term = c.node(l).term();
  const uint64_t last = c.node(l).last_index();
  const auto before = datas(c.disk(l).applied);
  for (NodeId id = 1; id <= 3; ++id) c.restart(id);
  for (NodeId id = 1; id <= 3; ++id) {
    Node& n = c.node(id);
    EXPECT_EQ(n.first_index(), 9u);
    EXPECT_EQ(n.snapshot_index(), 8u);
    EXPECT_EQ(n.last_index(), last);
    EXPECT_EQ(n.term(), term);
    EXPECT_EQ(n.applied_index(), 8u);
    EXPECT_EQ(n.conf_state().voters, (std::vector<NodeId>{1, 2, 3}));
  }
  c.deliver();  // re-applies entries after the snapshot from the log
  EXPECT_EQ(datas(c.disk(l).applied), before);
  NodeId l2 = c.elect();
  ASSERT_NE(l2, kNoNode);
  ASSERT_TRUE(c.node(l2).propose("post").ok());
  c.deliver();
  c.tick_all(2);
  for (NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(c.disk(id).applied.back().data, "post");
    EXPECT_EQ(datas(c.disk(id).applied), datas(c.disk(l2).applied));
  }
}

TEST(RaftSnapshot, FollowerKeepsEntriesAfterAMatchingSnapshot) {
  // A follower that has the snapshot's index with the same term keeps what follows.
  TestCluster c(3);
  c.elect();
  Config k = c.config(2, true, 1);
  Node n(k, HardState{2, 0, 2}, make_log({1, 1, 2, 2, 2}));
  Message m;
  m.type = MessageType::kSnapshot;
  m.from = 1;
  m.to = 2;
  m.term = 2;
  m.snapshot = Snapshot{SnapshotMeta{3, 2, ConfState{{1, 2, 3}, {}}}, "img"};
  n.step(m);
  EXPECT_EQ(n.snapshot_index(), 3u);
  EXPECT_EQ(n.last_index(), 5u);
  EXPECT_EQ(n.commit_index(), 3u);
  Ready rd = n.ready();
  ASSERT_TRUE(rd.snapshot.has_value());
  EXPECT_EQ(rd.snapshot->data, "img");
  ASSERT_EQ(rd.entries.size(), 2u);  // the whole log after the snapshot, to replace the disk's
  EXPECT_EQ(rd.entries.front().index, 4u);
  EXPECT_TRUE(rd.committed.empty());
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->commit, 3u);
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].type, MessageType::kAppendResp);
  EXPECT_EQ(rd.messages[0].index, 3u);
  EXPECT_FALSE(rd.messages[0].reject);
  n.advance();
  // A mismatching snapshot discards the log; an old one is only acknowledged.
  Node n2(k, HardState{2, 0, 2}, make_log({1, 1, 1, 1}));
  m.snapshot->meta = SnapshotMeta{3, 2, ConfState{{1, 2, 3}, {}}};
  n2.step(m);
  EXPECT_EQ(n2.last_index(), 3u);
  EXPECT_TRUE(n2.log().empty());
  m.snapshot->meta.index = 2;
  m.snapshot->meta.term = 1;
  n2.step(m);
  EXPECT_EQ(n2.snapshot_index(), 3u);
}

// ---- membership changes ----

void settle(TestCluster& c, int ticks = 3) {
  c.deliver();
  c.tick_all(ticks);
}

TEST(RaftConf, EncodeDecodeRoundTrip) {
  ConfChange cc{ConfChange::Type::kPromote, 7};
  ConfState cs{{1, 2, 7}, {9}};
  ConfChange cc2;
  ConfState cs2;
  ASSERT_TRUE(decode_conf_change(encode_conf_change(cc, cs), &cc2, &cs2));
  EXPECT_EQ(cc2, cc);
  EXPECT_EQ(cs2, cs);
  EXPECT_FALSE(decode_conf_change("garbage", &cc2, &cs2));
  std::string enc = encode_conf_change(cc, cs);
  EXPECT_FALSE(decode_conf_change(enc.substr(0, enc.size() - 1), &cc2, &cs2));
}

TEST(RaftConf, AddLearnerPromoteRemoveVoter) {
  TestCluster c(4, std::vector<NodeId>{1, 2, 3});
  NodeId l = c.elect();
  ASSERT_NE(l, kNoNode);
  ASSERT_NE(l, 4u);
  EXPECT_FALSE(c.node(4).is_voter(4));
  ASSERT_TRUE(c.node(l).propose("before").ok());
  settle(c);
  auto r = c.node(l).propose_conf_change({ConfChange::Type::kAddLearner, 4});
  ASSERT_TRUE(r.ok()) << r.status().message();
  // One change at a time.
  auto again = c.node(l).propose_conf_change({ConfChange::Type::kPromote, 4});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(c.node(l).is_learner(4));  // in force once appended
  settle(c);
  for (NodeId id = 1; id <= 4; ++id) {
    EXPECT_TRUE(c.node(id).is_learner(4)) << id;
    EXPECT_EQ(c.node(id).conf_state().voters, (std::vector<NodeId>{1, 2, 3}));
  }
  EXPECT_EQ(datas(c.disk(4).applied), datas(c.disk(l).applied));  // replicated to the learner
  bool saw_conf_entry = false;
  for (const Entry& e : c.disk(4).applied) saw_conf_entry |= e.type == EntryType::kConfChange;
  EXPECT_TRUE(saw_conf_entry);
  // Learners never campaign.
  c.isolated_ = {4};
  c.tick(4, 100);
  EXPECT_EQ(c.node(4).role(), Role::kFollower);
  c.isolated_.clear();
  settle(c);
  // Promote.
  ASSERT_TRUE(c.node(l).propose_conf_change({ConfChange::Type::kPromote, 4}).ok());
  settle(c);
  for (NodeId id = 1; id <= 4; ++id) {
    EXPECT_EQ(c.node(id).conf_state().voters, (std::vector<NodeId>{1, 2, 3, 4})) << id;
    EXPECT_TRUE(c.node(id).conf_state().learners.empty());
  }
  // Remove a voter other than the leader.
  NodeId victim = l == 1 ? 2 : 1;
  ASSERT_TRUE(c.node(l).propose_conf_change({ConfChange::Type::kRemove, victim}).ok());
  settle(c);
  std::vector<NodeId> expect;
  for (NodeId id = 1; id <= 4; ++id) {
    if (id != victim) expect.push_back(id);
  }
  for (NodeId id = 1; id <= 4; ++id) {
    if (id != victim) {
      EXPECT_EQ(c.node(id).conf_state().voters, expect) << id;
    }
  }
  // The group goes on without it, even with it gone for good.
  c.isolated_ = {victim};
  ASSERT_TRUE(c.node(l).propose("after").ok());
  settle(c);
  for (NodeId id : expect) EXPECT_EQ(c.disk(id).applied.back().data, "after") << id;
  // The configuration survives a restart (replayed from the log).
  for (NodeId id : expect) c.restart(id);
  for (NodeId id : expect) EXPECT_EQ(c.node(id).conf_state().voters, expect);
  NodeId l2 = c.elect();
  ASSERT_NE(l2, kNoNode);
  ASSERT_NE(l2, victim);
}

TEST(RaftConf, LeaderRemovesItself) {
  TestCluster c(3);
  NodeId l = c.elect();
  ASSERT_TRUE(c.node(l).propose("x").ok());
  settle(c);
  auto r = c.node(l).propose_conf_change({ConfChange::Type::kRemove, l});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(c.node(l).is_voter(l));
  EXPECT_EQ(c.node(l).role(), Role::kLeader);  // until the entry commits
  EXPECT_FALSE(c.node(l).propose("refused").ok());
  c.deliver();
  EXPECT_NE(c.node(l).role(), Role::kLeader);
  // It handed over with a TimeoutNow: the new leader is there without waiting for timeouts.
  NodeId nl = c.leader();
  ASSERT_NE(nl, kNoNode);
  EXPECT_NE(nl, l);
  EXPECT_EQ(c.node(nl).conf_state().voters.size(), 2u);
  ASSERT_TRUE(c.node(nl).propose("y").ok());
  c.isolated_ = {l};
  settle(c);
  for (NodeId id = 1; id <= 3; ++id) {
    if (id != l) {
      EXPECT_EQ(c.disk(id).applied.back().data, "y");
    }
  }
  c.tick_all(100);
  EXPECT_NE(c.node(l).role(), Role::kLeader);
  EXPECT_EQ(c.leader(), nl);
}

TEST(RaftConf, LearnerNotCountedInQuorumOrLease) {
  TestCluster c(4, std::vector<NodeId>{1, 2, 3});
  NodeId l = c.elect();
  ASSERT_TRUE(c.node(l).propose_conf_change({ConfChange::Type::kAddLearner, 4}).ok());
  settle(c);
  ASSERT_TRUE(c.node(l).is_learner(4));
  const uint64_t commit = c.node(l).commit_index();
  // Only the leader and the learner can talk: no quorum of voters.
  c.isolated_.clear();
  for (NodeId id = 1; id <= 3; ++id) {
    if (id != l) c.isolated_.insert(id);
  }
  auto r = c.node(l).propose("needs voters");
  ASSERT_TRUE(r.ok());
  c.deliver();
  c.tick(l, 3);
  c.tick(4, 3);
  EXPECT_EQ(c.node(4).last_index(), r->index);  // the learner has it
  EXPECT_EQ(c.node(l).commit_index(), commit);   // but it does not count
  for (int i = 0; i < 12; ++i) c.tick(l);
  EXPECT_FALSE(c.node(l).has_lease());
  // A learner asking for votes (it does not) or a vote from it would not count either: with the
  // voters back, everything commits.
  c.isolated_.clear();
  NodeId l2 = c.elect();
  ASSERT_NE(l2, kNoNode);
  EXPECT_NE(l2, 4u);
}

TEST(RaftConf, ConfChangeRefusals) {
  TestCluster c(3);
  NodeId l = c.elect();
  NodeId f = l == 1 ? 2 : 1;
  EXPECT_EQ(c.node(f).propose_conf_change({ConfChange::Type::kAddLearner, 9}).status().code(),
            Code::kStaleRoute);
  EXPECT_EQ(c.node(l).propose_conf_change({ConfChange::Type::kPromote, 9}).status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(c.node(l).propose_conf_change({ConfChange::Type::kAddLearner, f}).status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(c.node(l).propose_conf_change({ConfChange::Type::kRemove, 9}).status().code(),
            Code::kFailedPrecondition);
  TestCluster one(1);
  one.elect();
  EXPECT_EQ(one.node(1).propose_conf_change({ConfChange::Type::kRemove, 1}).status().code(),
            Code::kFailedPrecondition);
}

TEST(RaftConf, NewMemberCatchesUpFromSnapshot) {
  TestCluster c(4, std::vector<NodeId>{1, 2, 3});
  NodeId l = c.elect();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.node(l).propose("v" + std::to_string(i)).ok());
  settle(c);
  for (NodeId id = 1; id <= 3; ++id) ASSERT_TRUE(c.compact(id, c.node(id).applied_index()).is_ok());
  ASSERT_TRUE(c.node(l).propose_conf_change({ConfChange::Type::kAddLearner, 4}).ok());
  settle(c, 5);
  EXPECT_GE(c.snapshots_installed, 1u);
  EXPECT_TRUE(c.node(4).is_learner(4));
  EXPECT_EQ(datas(c.disk(4).applied), datas(c.disk(l).applied));
  ASSERT_TRUE(c.node(l).propose_conf_change({ConfChange::Type::kPromote, 4}).ok());
  settle(c);
  EXPECT_TRUE(c.node(4).is_voter(4));
  // Node 4 restarts from its snapshot and knows its membership from the snapshot + log.
  c.restart(4);
  EXPECT_TRUE(c.node(4).is_voter(4));
  ASSERT_TRUE(c.node(4).campaign().is_ok());
  c.deliver();
  EXPECT_EQ(c.leader(), 4u);
}

}  // namespace
}  // namespace shoal::raft
