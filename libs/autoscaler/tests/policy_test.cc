// The autoscaler's decisions over made-up stats and catalogs, with an explicit clock: size
// splits, heat splits (sustained vs a burst, the weighted-median split point, a single hot
// key, load no split point separates), rebalancing plans and desired node counts.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "shoal/autoscaler/policy.h"

namespace shoal::autoscaler {
namespace {

constexpr uint64_t kMax = UINT64_MAX;

// ---- builders ----------------------------------------------------------------------------

struct Sample {
  uint64_t hash;
  uint32_t count;
};

meta::v1::PartitionStats pstats(const std::string& pid, uint64_t lo, uint64_t hi, bool leader,
                                uint64_t size, uint64_t read_x10 = 0, uint64_t write_x10 = 0,
                                std::vector<Sample> samples = {}) {
  meta::v1::PartitionStats p;
  p.set_table_id("t1-x");
  p.set_partition_id(pid);
  p.set_hash_lo(lo);
  p.set_hash_hi(hi);
  p.set_leader(leader);
  p.set_size_bytes(size);
  p.set_read_units_x10(read_x10);
  p.set_write_units_x10(write_x10);
  p.set_interval_ms(1000);
  for (auto s : samples) {
    auto* k = p.add_key_sample();
    k->set_hash(s.hash);
    k->set_count(s.count);
  }
  return p;
}

meta::v1::NodeStats node_stats(const std::string& node, std::vector<meta::v1::PartitionStats> ps) {
  meta::v1::NodeStats s;
  s.set_node_id(node);
  s.set_zone("zone-a");
  for (auto& p : ps) *s.add_partitions() = std::move(p);
  return s;
}

meta::v1::Partition partition(const std::string& id, uint64_t lo, uint64_t hi,
                              std::vector<std::string> nodes, std::vector<std::string> zones,
                              std::string leader = "") {
  meta::v1::Partition p;
  p.set_partition_id(id);
  p.set_hash_lo(lo);
  p.set_hash_hi(hi);
  for (auto& n : nodes) p.add_replica_node_ids(n);
  for (auto& z : zones) p.add_replica_zones(z);
  p.set_leader_node_id(leader.empty() ? nodes.front() : leader);
  return p;
}

meta::v1::Node node(const std::string& id, const std::string& zone, bool alive = true) {
  meta::v1::Node n;
  n.set_node_id(id);
  n.set_zone(zone);
  n.set_alive(alive);
  return n;
}

// One table t1-x "T" with partitions p0 [0, 2^63-1] and p1 [2^63, max] on n1/n2/n3.
Catalog two_partitions() {
  Catalog c;
  meta::v1::Table t;
  t.set_name("T");
  t.set_table_id("t1-x");
  t.set_status(meta::v1::TABLE_STATUS_ACTIVE);
  const std::vector<std::string> nodes = {"n1", "n2", "n3"};
  const std::vector<std::string> zones = {"zone-a", "zone-b", "zone-c"};
  *t.add_partitions() = partition("t1-x.0", 0, (1ull << 63) - 1, nodes, zones);
  *t.add_partitions() = partition("t1-x.1", 1ull << 63, kMax, nodes, zones);
  c.tables["t1-x"] = t;
  for (int i = 0; i < 3; ++i) c.nodes.push_back(node(nodes[i], zones[i]));
  return c;
}

Options small() {
  Options o;
  o.split_size_bytes = 8ull << 20;
  o.heat_read_units = 3000;
  o.heat_write_units = 1000;
  o.heat_ms = 10000;
  o.cooldown_ms = 10000;
  o.min_key_samples = 10;
  return o;
}

// Reports for p0 from its leader n1 once a second, from `from_s` for `seconds` seconds.
void report(Policy& policy, int64_t from_s, int seconds, uint64_t read_x10, uint64_t write_x10,
            std::vector<Sample> samples = {}, uint64_t size = 1000) {
  for (int i = 0; i < seconds; ++i) {
    policy.observe(node_stats("n1", {pstats("t1-x.0", 0, (1ull << 63) - 1, true, size, read_x10,
                                            write_x10, samples)}),
                   (from_s + i) * 1000);
  }
}

// ---- size ---------------------------------------------------------------------------------

TEST(SizeSplit, AboveThresholdSplitsAtMidpoint) {
  Policy policy(small());
  Catalog c = two_partitions();
  // Followers report a large size: only the leader's report counts.
  policy.observe(node_stats("n2", {pstats("t1-x.0", 0, (1ull << 63) - 1, false, 100 << 20)}), 1000);
  EXPECT_TRUE(policy.partitions().empty());
  EXPECT_TRUE(policy.plan_splits(c, 1000).empty());

  // Exactly at the threshold: no split; above: split at the data median.
  policy.observe(node_stats("n1", {pstats("t1-x.0", 0, (1ull << 63) - 1, true, 8ull << 20)}), 2000);
  EXPECT_TRUE(policy.plan_splits(c, 2000).empty());
  uint64_t size = (8ull << 20) + (1ull << 20) + (1ull << 20) / 10 + 1;  // 9.1 MiB and a bit
  policy.observe(node_stats("n1", {pstats("t1-x.0", 0, (1ull << 63) - 1, true, size)}), 3000);
  auto ds = policy.plan_splits(c, 3000);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].kind, Kind::kSplitSize);
  EXPECT_EQ(kind_name(ds[0].kind), "split_size");
  EXPECT_EQ(ds[0].table_name, "T");
  EXPECT_EQ(ds[0].partition_id, "t1-x.0");
  EXPECT_EQ(ds[0].split_hash, 0u);  // the leader halves the data
  EXPECT_EQ(ds[0].reason, "size: 9.1 MiB > 8 MiB at the data median");

  // Decided once: cooldown, then asked again if still too big.
  policy.observe(node_stats("n1", {pstats("t1-x.0", 0, (1ull << 63) - 1, true, size)}), 4000);
  EXPECT_TRUE(policy.plan_splits(c, 4000).empty());
  policy.observe(node_stats("n1", {pstats("t1-x.0", 0, (1ull << 63) - 1, true, size)}), 13000);
  EXPECT_EQ(policy.plan_splits(c, 13000).size(), 1u);
}

TEST(SizeSplit, WaitsForBusyOrStalePartitions) {
  Policy policy(small());
  Catalog c = two_partitions();
  policy.observe(node_stats("n1", {pstats("t1-x.0", 0, (1ull << 63) - 1, true, 9ull << 20)}), 1000);

  Catalog split_under_way = c;
  split_under_way.tables["t1-x"].mutable_partitions(0)->mutable_split()->set_new_partition_id("t1-x.2");
  EXPECT_TRUE(policy.plan_splits(split_under_way, 1000).empty());

  Catalog change_under_way = c;
  change_under_way.tables["t1-x"].mutable_partitions(0)->mutable_change()->set_stage(
      meta::v1::ReplicaChange::STAGE_CATCH_UP);
  EXPECT_TRUE(policy.plan_splits(change_under_way, 1000).empty());

  Catalog creating = c;
  creating.tables["t1-x"].set_status(meta::v1::TABLE_STATUS_CREATING);
  EXPECT_TRUE(policy.plan_splits(creating, 1000).empty());

  // The catalog already shows the split (p0 shrank) but the stats do not yet.
  Catalog newer = c;
  newer.tables["t1-x"].mutable_partitions(0)->set_hash_hi((1ull << 62) - 1);
  EXPECT_TRUE(policy.plan_splits(newer, 1000).empty());

  Catalog unknown_table;
  EXPECT_TRUE(policy.plan_splits(unknown_table, 1000).empty());

  // A replica with learners is being changed.
  auto learning = pstats("t1-x.0", 0, (1ull << 63) - 1, true, 9ull << 20);
  learning.set_learners(1);
  Policy p2(small());
  p2.observe(node_stats("n1", {learning}), 1000);
  EXPECT_TRUE(p2.plan_splits(c, 1000).empty());

  EXPECT_EQ(policy.plan_splits(c, 1000).size(), 1u);
}

TEST(SizeSplit, ForgetsSilentPartitions) {
  Policy policy(small());
  policy.observe(node_stats("n1", {pstats("t1-x.0", 0, (1ull << 63) - 1, true, 1)}), 1000);
  policy.expire(5000);
  EXPECT_EQ(policy.partitions().size(), 1u);
  policy.expire(11000);
  EXPECT_TRUE(policy.partitions().empty());
}

// ---- heat ---------------------------------------------------------------------------------

// Sampled keys spread over p0's lower half: a split point exists.
std::vector<Sample> spread() {
  std::vector<Sample> s;
  for (uint64_t i = 1; i <= 8; ++i) s.push_back({i << 56, 3});
  return s;
}

TEST(HeatSplit, SustainedLoadSplitsAtSampledMedian) {
  Policy policy(small());
  Catalog c = two_partitions();
  // 3500 RCU/s for 9 s: not yet.
  report(policy, 1, 9, 35000, 0, spread());
  EXPECT_TRUE(policy.plan_splits(c, 9000).empty());
  // Ten seconds above the cap.
  report(policy, 10, 1, 35000, 0, spread());
  auto ds = policy.plan_splits(c, 10000);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].kind, Kind::kSplitHeat);
  // Eight equal hashes 1<<56 .. 8<<56: half the load below 5<<56, so halfway between 4 and 5.
  uint64_t a = 4ull << 56, b = 5ull << 56;
  EXPECT_EQ(ds[0].split_hash, a + 1 + (b - a - 1) / 2);
  EXPECT_GT(ds[0].split_hash, 0u);
  EXPECT_NE(ds[0].reason.find("heat: reads 3500/3000 RCU/s"), std::string::npos) << ds[0].reason;
  // The hot period ended with the decision.
  EXPECT_TRUE(policy.plan_splits(c, 11000).empty());
}

TEST(HeatSplit, WritesAboveTheirCapCountToo) {
  Policy policy(small());
  Catalog c = two_partitions();
  report(policy, 1, 10, 0, 10010, spread());  // 1001 WCU/s
  auto ds = policy.plan_splits(c, 10000);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].kind, Kind::kSplitHeat);
  // Exactly at the cap is not above it.
  Policy p2(small());
  report(p2, 1, 20, 30000, 10000, spread());
  EXPECT_TRUE(p2.plan_splits(c, 20000).empty());
}

TEST(HeatSplit, ShortBurstDoesNotSplit) {
  Policy policy(small());
  Catalog c = two_partitions();
  report(policy, 1, 6, 50000, 0, spread());  // 6 s hot
  report(policy, 7, 1, 1000, 0, spread());   // one quiet second ends it
  report(policy, 8, 6, 50000, 0, spread());  // 6 s hot again
  for (int64_t t = 1000; t <= 13000; t += 1000) EXPECT_TRUE(policy.plan_splits(c, t).empty()) << t;
  // A gap in the leader's reports ends the hot period too.
  Policy p2(small());
  report(p2, 1, 6, 50000, 0, spread());
  report(p2, 20, 6, 50000, 0, spread());
  EXPECT_TRUE(p2.plan_splits(c, 25000).empty());
  report(p2, 26, 4, 50000, 0, spread());
  EXPECT_EQ(p2.plan_splits(c, 29000).size(), 1u);
}

TEST(HeatSplit, SingleHotKeyDoesNotSplit) {
  Policy policy(small());
  Catalog c = two_partitions();
  // One hash has 60 % of the sampled requests.
  std::vector<Sample> s = {{1ull << 56, 12}, {2ull << 56, 2}, {3ull << 56, 2}, {4ull << 56, 4}};
  report(policy, 1, 10, 50000, 0, s);
  auto ds = policy.plan_splits(c, 10000);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].kind, Kind::kNoSplitSingleKey);
  EXPECT_EQ(kind_name(ds[0].kind), "no_split_single_key");
  // Said once per hot period, not every second.
  report(policy, 11, 5, 50000, 0, s);
  EXPECT_TRUE(policy.plan_splits(c, 15000).empty());
}

TEST(HeatSplit, TooFewSamplesWaits) {
  Policy policy(small());
  Catalog c = two_partitions();
  report(policy, 1, 12, 50000, 0, {});
  EXPECT_TRUE(policy.plan_splits(c, 12000).empty());
  report(policy, 13, 1, 50000, 0, spread());  // now 24 samples
  EXPECT_EQ(policy.plan_splits(c, 13000).size(), 1u);
}

TEST(SplitPoint, WeightedMedian) {
  Options o = small();
  // Weights 1, 1, 1, 7 at hashes 10, 20, 30, 40 (40 has 70 %: a single key at 50 %).
  std::map<uint64_t, uint64_t> samples = {{10, 1}, {20, 1}, {30, 1}, {40, 7}};
  EXPECT_EQ(heat_split_point(samples, 0, 100, o).outcome, SplitPoint::Outcome::kSingleKey);
  o.hot_key_percent = 80;
  auto sp = heat_split_point(samples, 0, 100, o);
  ASSERT_EQ(sp.outcome, SplitPoint::Outcome::kSplit);
  // Left of 40: 3 of 10 (the closest to half there is): split in (30, 40].
  EXPECT_EQ(sp.split_hash, 35u);
  EXPECT_EQ(sp.left, 3u);
  EXPECT_EQ(sp.total, 10u);

  // Uneven weights: 4, 3, 2, 1 -> left 4 of 10 (|8-10| = 2) vs 7 (|14-10| = 4): between 1 and 2.
  o = small();
  sp = heat_split_point({{100, 4}, {200, 3}, {300, 2}, {400, 1}}, 0, 1000, o);
  ASSERT_EQ(sp.outcome, SplitPoint::Outcome::kSplit);
  EXPECT_EQ(sp.split_hash, 150u);
  EXPECT_EQ(sp.left, 4u);

  // Adjacent hashes: the split point is the upper one (strictly above the lower).
  sp = heat_split_point({{7, 5}, {8, 5}}, 0, 1000, o);
  ASSERT_EQ(sp.outcome, SplitPoint::Outcome::kSplit);
  EXPECT_EQ(sp.split_hash, 8u);

  // Strictly inside (lo, hi]: samples outside the range are ignored, the lowest sample may be
  // lo itself, the highest may be hi.
  sp = heat_split_point({{0, 1}, {49, 100}, {50, 5}, {kMax, 5}}, 50, kMax, o);
  ASSERT_EQ(sp.outcome, SplitPoint::Outcome::kSplit);
  EXPECT_GT(sp.split_hash, 50u);
  EXPECT_LE(sp.split_hash, kMax);
  EXPECT_EQ(sp.total, 10u);
  EXPECT_EQ(sp.left, 5u);
  EXPECT_EQ(sp.split_hash, 50 + 1 + (kMax - 50 - 1) / 2);
}

TEST(SplitPoint, NoPointSeparatesTheLoad) {
  Options o = small();
  o.hot_key_percent = 100;  // let the split-point rule speak
  // All samples on one hash: nothing to split between.
  EXPECT_EQ(heat_split_point({{42, 100}}, 0, 1000, o).outcome, SplitPoint::Outcome::kNoPoint);
  // 95 % on one hash, the rest on another: whatever the point, one side keeps ~all the load.
  EXPECT_EQ(heat_split_point({{42, 95}, {43, 5}}, 0, 1000, o).outcome,
            SplitPoint::Outcome::kNoPoint);
  // 10 % on the light side is enough (min_side_percent 10).
  EXPECT_EQ(heat_split_point({{42, 90}, {43, 10}}, 0, 1000, o).outcome,
            SplitPoint::Outcome::kSplit);
  // Too few samples.
  EXPECT_EQ(heat_split_point({{1, 2}, {2, 2}}, 0, 1000, o).outcome,
            SplitPoint::Outcome::kTooFewSamples);
}

TEST(HeatSplit, NoPointIsReportedOnce) {
  Options o = small();
  o.hot_key_percent = 100;
  Policy policy(o);
  Catalog c = two_partitions();
  report(policy, 1, 10, 50000, 0, {{1ull << 56, 50}});
  auto ds = policy.plan_splits(c, 10000);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].kind, Kind::kNoSplitNoPoint);
  EXPECT_EQ(kind_name(ds[0].kind), "no_split_no_point");
}

// ---- rebalancing --------------------------------------------------------------------------

// `per_node` partitions with replicas on n1/n2/n3 (zones a/b/c), plus empty nodes n4 (a),
// n5 (b) and n6 (c) that just joined.
Catalog joined(int partitions) {
  Catalog c;
  meta::v1::Table t;
  t.set_name("T");
  t.set_table_id("t1-x");
  t.set_status(meta::v1::TABLE_STATUS_ACTIVE);
  uint64_t step = kMax / static_cast<uint64_t>(partitions);
  for (int i = 0; i < partitions; ++i) {
    uint64_t lo = step * static_cast<uint64_t>(i);
    uint64_t hi = i + 1 == partitions ? kMax : lo + step - 1;
    *t.add_partitions() = partition("t1-x." + std::to_string(i), lo, hi, {"n1", "n2", "n3"},
                                    {"zone-a", "zone-b", "zone-c"}, i % 2 ? "n1" : "n2");
  }
  c.tables["t1-x"] = t;
  const char* zones[] = {"zone-a", "zone-b", "zone-c"};
  for (int i = 1; i <= 6; ++i) c.nodes.push_back(node("n" + std::to_string(i), zones[(i - 1) % 3]));
  return c;
}

// Applies a move to the catalog as metadata would once it completes.
void apply(Catalog& c, const Decision& d) {
  for (auto& p : *c.tables[d.table_id].mutable_partitions()) {
    if (p.partition_id() != d.partition_id) continue;
    for (int i = 0; i < p.replica_node_ids_size(); ++i) {
      if (p.replica_node_ids(i) == d.from_node_id) p.set_replica_node_ids(i, d.to_node_id);
    }
    if (p.leader_node_id() == d.from_node_id) p.set_leader_node_id(d.to_node_id);
  }
}

TEST(Rebalance, MovesWithinZonesUntilWithinTwentyPercent) {
  Options o = small();
  o.max_moves = 2;
  Catalog c = joined(10);
  int rounds = 0, total_moves = 0;
  std::set<std::string> moved;
  for (;;) {
    auto ds = plan_moves(c, o);
    if (ds.empty()) break;
    EXPECT_LE(ds.size(), 2u);
    std::set<std::string> in_round;
    for (const auto& d : ds) {
      EXPECT_EQ(d.kind, Kind::kMove);
      EXPECT_TRUE(in_round.insert(d.partition_id).second) << "two moves of one partition";
      // Same zone, fullest to emptiest.
      const char* zone_of[] = {"", "zone-a", "zone-b", "zone-c", "zone-a", "zone-b", "zone-c"};
      EXPECT_EQ(zone_of[d.from_node_id[1] - '0'], d.zone);
      EXPECT_EQ(zone_of[d.to_node_id[1] - '0'], d.zone);
      EXPECT_NE(d.reason.find("rebalance " + d.zone), std::string::npos);
      apply(c, d);
      ++total_moves;
    }
    ASSERT_LT(++rounds, 100);
  }
  // 10 replicas over 2 nodes per zone: mean 5, so 4..6 is within 20 %; it stops at 6/4.
  auto counts = replica_counts(c);
  for (const auto& [node, n] : counts) {
    EXPECT_GE(n, 4) << node;
    EXPECT_LE(n, 6) << node;
  }
  EXPECT_EQ(total_moves, 12);
}

// With the leaders' stats, the replica that moves onto a joining node is the hottest one the
// fuller node can give (every replica applies its partition's writes), not the first.
TEST(Rebalance, MovesHotReplicasOntoEmptierNodes) {
  Options o = small();
  o.max_moves = 3;
  Catalog c = joined(10);  // leaders alternate n2 (even) and n1 (odd)
  Policy policy(o);
  for (int s = 0; s < 3; ++s) {
    std::map<std::string, std::vector<meta::v1::PartitionStats>> by_node;
    for (const auto& p : c.tables["t1-x"].partitions()) {
      const bool hot = p.partition_id() == "t1-x.6";
      by_node[p.leader_node_id()].push_back(pstats(p.partition_id(), p.hash_lo(), p.hash_hi(),
                                                   true, 1000, hot ? 2000 : 0, hot ? 500 : 0));
    }
    for (auto& [n, ps] : by_node) policy.observe(node_stats(n, ps), s * 1000);
  }
  EXPECT_EQ(partition_load_x10(policy, "t1-x.6"), 2000u + 3 * 500u);
  EXPECT_EQ(partition_load_x10(policy, "t1-x.0"), 0u);
  auto plain = plan_moves(c, o);
  auto loaded = plan_moves(c, o, &policy);
  auto zone_a = [](const std::vector<Decision>& ds) {
    for (const auto& d : ds)
      if (d.zone == "zone-a") return d;
    return Decision{};
  };
  // zone-a: n1 follows t1-x.6 (led by n2): without stats the first follower replica moves.
  EXPECT_EQ(zone_a(plain).partition_id, "t1-x.0");
  const Decision d = zone_a(loaded);
  EXPECT_EQ(d.partition_id, "t1-x.6");
  EXPECT_EQ(d.from_node_id, "n1");
  EXPECT_EQ(d.to_node_id, "n4");
  EXPECT_NE(d.reason.find("its load 350 units/s"), std::string::npos) << d.reason;
  EXPECT_EQ(plain.size(), loaded.size());
}

TEST(Rebalance, RespectsMovesUnderWayAndBusyPartitions) {
  Options o = small();
  o.max_moves = 2;
  Catalog c = joined(10);
  auto& t = c.tables["t1-x"];
  // One move under way (n1 -> n4): it counts against the budget and as done.
  auto* ch = t.mutable_partitions(0)->mutable_change();
  ch->set_stage(meta::v1::ReplicaChange::STAGE_CATCH_UP);
  ch->set_dead_node_id("n1");
  ch->set_new_node_id("n4");
  EXPECT_EQ(moves_in_flight(c), 1);
  auto counts = replica_counts(c);
  EXPECT_EQ(counts["n1"], 9);
  EXPECT_EQ(counts["n4"], 1);
  auto ds = plan_moves(c, o);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_NE(ds[0].partition_id, "t1-x.0");
  // A split under way also keeps a partition still.
  for (int i = 1; i < 10; ++i) t.mutable_partitions(i)->mutable_split()->set_new_partition_id("x");
  EXPECT_TRUE(plan_moves(c, o).empty());
  // Budget 0: nothing.
  o.max_moves = 0;
  EXPECT_TRUE(plan_moves(joined(10), o).empty());
}

TEST(Rebalance, PrefersFollowersAndSkipsDeadOrDrainingNodes) {
  Options o = small();
  o.max_moves = 1;
  Catalog c = joined(4);  // leaders alternate n2, n1
  c.nodes[4].set_alive(false);    // n5 (zone-b) dead
  c.nodes[5].set_draining(true);  // n6 (zone-c) draining
  auto ds = plan_moves(c, o);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].zone, "zone-a");
  EXPECT_EQ(ds[0].from_node_id, "n1");
  EXPECT_EQ(ds[0].to_node_id, "n4");
  EXPECT_EQ(ds[0].partition_id, "t1-x.0");  // led by n2: a follower on n1
  // Zones b and c have one eligible node: nothing to balance there.
  o.max_moves = 10;
  ds = plan_moves(c, o);
  for (const auto& d : ds) EXPECT_EQ(d.zone, "zone-a");
  EXPECT_EQ(ds.size(), 2u);
}

TEST(Rebalance, StopsWhenNoBetterSpreadExists) {
  Options o = small();
  o.max_moves = 10;
  // 2 replicas per zone over 3 nodes: (1, 1, 0) is as even as it gets even though 0 is not
  // within 20 % of the mean 0.67.
  Catalog c = joined(2);
  meta::v1::Node n7 = node("n7", "zone-a");
  c.nodes.push_back(n7);
  int moves = 0;
  for (int round = 0; round < 10; ++round) {
    auto ds = plan_moves(c, o);
    if (ds.empty()) break;
    for (const auto& d : ds) apply(c, d), ++moves;
  }
  auto counts = replica_counts(c);
  EXPECT_EQ(counts["n1"] + counts["n4"] + counts["n7"], 2);
  EXPECT_LE(std::max({counts["n1"], counts["n4"], counts["n7"]}), 1);
  // Balanced already: nothing.
  Catalog even = two_partitions();
  EXPECT_TRUE(plan_moves(even, o).empty());
}

// A size split metadata drops (one partition key holds all the data) is asked again, each
// time after twice the cooldown, and the reason says so; a split that happens starts over.
TEST(SizeSplit, AskedAgainWithADoublingCooldownWhileTheRangeStays) {
  Options o = small();
  o.cooldown_ms = 1000;
  Policy policy(o);
  Catalog c = two_partitions();
  const auto& p0 = c.tables["t1-x"].partitions(0);
  std::vector<int64_t> asked;
  for (int64_t s = 0; s < 40; ++s) {
    policy.observe(node_stats("n1", {pstats("t1-x.0", p0.hash_lo(), p0.hash_hi(), true,
                                            20ull << 20)}), s * 1000);
    for (const auto& d : policy.plan_splits(c, s * 1000)) {
      ASSERT_EQ(d.kind, Kind::kSplitSize);
      if (!asked.empty()) {
        EXPECT_NE(d.reason.find("the last one did not split it"), std::string::npos);
      }
      asked.push_back(s);
    }
  }
  // Cooldowns 1, 2, 4, 8, 16 s.
  EXPECT_EQ(asked, (std::vector<int64_t>{0, 1, 3, 7, 15, 31}));
  // The range changed (it was split): the next ask is a first one again.
  Catalog split = c;
  split.tables["t1-x"].mutable_partitions(0)->set_hash_hi(p0.hash_hi() / 2);
  const auto& q = split.tables["t1-x"].partitions(0);
  policy.observe(node_stats("n1", {pstats("t1-x.0", q.hash_lo(), q.hash_hi(), true, 20ull << 20)}),
                 63000);
  auto ds = policy.plan_splits(split, 63000);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].reason.find("did not split"), std::string::npos) << ds[0].reason;
}

// Partitions an operator pinned keep their replicas and leaders until the pin expires.
TEST(Rebalance, LeavesPinnedPartitionsAlone) {
  Options o = small();
  o.max_moves = 10;
  o.max_leader_transfers = 10;
  Catalog c = joined(4);
  c.fetched_epoch_ms = 1'000'000;
  auto& t = c.tables["t1-x"];
  for (auto& p : *t.mutable_partitions()) {
    p.set_leader_node_id("n1");
    p.set_pinned_until_epoch_ms(2'000'000);
  }
  Policy policy(o);
  EXPECT_TRUE(plan_moves(c, o).empty());
  EXPECT_TRUE(plan_leaders(c, policy).empty());
  EXPECT_TRUE(pinned(t.partitions(0), c));
  // One pin expired: only that partition moves.
  t.mutable_partitions(2)->set_pinned_until_epoch_ms(999'999);
  auto moves = plan_moves(c, o);
  ASSERT_FALSE(moves.empty());
  for (const auto& d : moves) EXPECT_EQ(d.partition_id, "t1-x.2");
  auto leads = plan_leaders(c, policy);
  ASSERT_EQ(leads.size(), 1u);
  EXPECT_EQ(leads[0].partition_id, "t1-x.2");
}

// ---- leader balance ---------------------------------------------------------------------

void apply_leader(Catalog& c, const Decision& d) {
  for (auto& p : *c.tables[d.table_id].mutable_partitions()) {
    if (p.partition_id() == d.partition_id) p.set_leader_node_id(d.to_node_id);
  }
}

std::map<std::string, int> leader_counts(const Catalog& c) {
  std::map<std::string, int> out;
  for (const auto& [_, t] : c.tables)
    for (const auto& p : t.partitions()) ++out[p.leader_node_id()];
  return out;
}

TEST(LeaderBalance, EvensLeaderCountsAcrossMembers) {
  Options o = small();
  o.max_leader_transfers = 3;
  Catalog c = joined(12);
  for (auto& p : *c.tables["t1-x"].mutable_partitions()) p.set_leader_node_id("n1");
  Policy policy(o);  // no stats: the catalog's leaders count
  int rounds = 0, total = 0;
  for (;;) {
    auto ds = plan_leaders(c, policy);
    if (ds.empty()) break;
    EXPECT_LE(ds.size(), 3u);
    std::set<std::string> in_round;
    for (const auto& d : ds) {
      EXPECT_EQ(d.kind, Kind::kTransferLeader);
      EXPECT_EQ(kind_name(d.kind), "transfer_leader");
      EXPECT_TRUE(in_round.insert(d.partition_id).second) << "two transfers of one partition";
      EXPECT_NE(d.to_node_id, d.from_node_id);
      EXPECT_TRUE(d.to_node_id == "n2" || d.to_node_id == "n3") << d.to_node_id;  // members only
      EXPECT_NE(d.reason.find("leader count: " + d.from_node_id + " leads"), std::string::npos)
          << d.reason;
      apply_leader(c, d);
      ++total;
    }
    ASSERT_LT(++rounds, 20);
  }
  // 12 leaders over the 3 nodes holding replicas (n4..n6 hold none): 4 each.
  auto counts = leader_counts(c);
  EXPECT_EQ(counts["n1"], 4);
  EXPECT_EQ(counts["n2"], 4);
  EXPECT_EQ(counts["n3"], 4);
  EXPECT_EQ(total, 8);
  // Balanced: nothing more, and nothing at all when turned off.
  EXPECT_TRUE(plan_leaders(c, policy).empty());
  o.max_leader_transfers = 0;
  Catalog skewed = joined(12);
  for (auto& p : *skewed.tables["t1-x"].mutable_partitions()) p.set_leader_node_id("n1");
  EXPECT_TRUE(plan_leaders(skewed, Policy(o)).empty());
}

// A node below the range is lifted even when nobody is above it (6, 6, 6, 5, 4, 5 over six
// nodes: 6 is within +20 % of 5.3, 4 is not within -20 %).
TEST(LeaderBalance, LiftsANodeLeadingTooFew) {
  Options o = small();
  o.max_leader_transfers = 4;
  Catalog c;
  meta::v1::Table t;
  t.set_name("T");
  t.set_table_id("t1-x");
  t.set_status(meta::v1::TABLE_STATUS_ACTIVE);
  // 32 partitions: those led by n1, n3, n5 on (n1, n5, n3), the others on (n4, n2, n6).
  const std::map<std::string, int> leads = {{"n1", 6}, {"n2", 6}, {"n3", 6},
                                            {"n4", 5}, {"n5", 4}, {"n6", 5}};
  int i = 0;
  for (const auto& [leader, k] : leads) {
    const bool a = leader == "n1" || leader == "n3" || leader == "n5";
    for (int j = 0; j < k; ++j, ++i) {
      *t.add_partitions() = partition("t1-x." + std::to_string(i), i, i,
                                      a ? std::vector<std::string>{"n1", "n5", "n3"}
                                        : std::vector<std::string>{"n4", "n2", "n6"},
                                      {"zone-a", "zone-b", "zone-c"}, leader);
    }
  }
  c.tables["t1-x"] = t;
  const char* zones[] = {"zone-a", "zone-b", "zone-c"};
  for (int k = 1; k <= 6; ++k) c.nodes.push_back(node("n" + std::to_string(k), zones[(k - 1) % 3]));
  Policy policy(o);
  auto ds = plan_leaders(c, policy);
  ASSERT_FALSE(ds.empty());
  EXPECT_EQ(ds[0].to_node_id, "n5");
  EXPECT_TRUE(ds[0].from_node_id == "n1" || ds[0].from_node_id == "n3") << ds[0].from_node_id;
  EXPECT_NE(ds[0].reason.find("leader count: n5 leads 4"), std::string::npos) << ds[0].reason;
  ASSERT_EQ(ds.size(), 1u);  // then 5 to 6 each: all within 20 % of the mean
  apply_leader(c, ds[0]);
  auto counts = leader_counts(c);
  for (const auto& [n, k] : counts) EXPECT_GE(k, 5) << n;
  EXPECT_TRUE(plan_leaders(c, policy).empty());
}

TEST(LeaderBalance, SkipsBusyPartitionsAndDeadOrDrainingNodes) {
  Options o = small();
  o.max_leader_transfers = 10;
  Catalog c = joined(6);
  auto& t = c.tables["t1-x"];
  for (auto& p : *t.mutable_partitions()) p.set_leader_node_id("n1");
  c.nodes[1].set_alive(false);    // n2 dead
  c.nodes[2].set_draining(true);  // n3 draining
  Policy policy(o);
  EXPECT_TRUE(plan_leaders(c, policy).empty()) << "n1 is the only eligible member";
  c.nodes[2].set_draining(false);
  // Partitions with an operation under way keep their leader.
  for (int i = 0; i < 5; ++i) t.mutable_partitions(i)->mutable_split()->set_new_partition_id("x");
  auto ds = plan_leaders(c, policy);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].partition_id, "t1-x.5");
  EXPECT_EQ(ds[0].to_node_id, "n3");
}

TEST(LeaderBalance, MovesHotLeadersOffTheBusiestNode) {
  Options o = small();
  o.max_leader_transfers = 4;
  o.leader_load_floor_units = 100;
  Catalog c = joined(6);
  auto& t = c.tables["t1-x"];
  // Two leaders each (counts even); n1's two are hot: 400 RCU/s and 100 WCU/s (load 700).
  const char* leaders[] = {"n1", "n1", "n2", "n2", "n3", "n3"};
  for (int i = 0; i < 6; ++i) t.mutable_partitions(i)->set_leader_node_id(leaders[i]);
  Policy policy(o);
  auto feed = [&](int64_t at_s) {
    std::map<std::string, std::vector<meta::v1::PartitionStats>> by_node;
    for (const auto& p : t.partitions()) {
      const bool hot = p.partition_id() == "t1-x.0" || p.partition_id() == "t1-x.1";
      by_node[p.leader_node_id()].push_back(pstats(p.partition_id(), p.hash_lo(), p.hash_hi(),
                                                   true, 1000, hot ? 4000 : 10, hot ? 1000 : 0));
    }
    for (auto& [n, ps] : by_node) policy.observe(node_stats(n, ps), at_s * 1000);
  };
  for (int s = 0; s < 3; ++s) feed(s);
  auto ds = plan_leaders(c, policy);
  ASSERT_FALSE(ds.empty());
  EXPECT_EQ(ds[0].from_node_id, "n1");
  EXPECT_TRUE(ds[0].partition_id == "t1-x.0" || ds[0].partition_id == "t1-x.1");
  EXPECT_NE(ds[0].reason.find("leader load: n1 leads 1400 units/s, fleet mean 468"), std::string::npos) << ds[0].reason;
  for (const auto& d : ds) apply_leader(c, d);
  for (int s = 3; s < 6; ++s) feed(s);
  for (const auto& d : plan_leaders(c, policy)) apply_leader(c, d);
  // The two hot partitions are led by different nodes; counts stay within one of each other.
  std::string a, b;
  for (const auto& p : t.partitions()) {
    if (p.partition_id() == "t1-x.0") a = p.leader_node_id();
    if (p.partition_id() == "t1-x.1") b = p.leader_node_id();
  }
  EXPECT_NE(a, b);
  auto counts = leader_counts(c);
  for (const auto& [n, k] : counts) EXPECT_LE(k, 3) << n;
  // Below the load floor only counts matter: the same skew is left alone.
  Options quiet = o;
  quiet.leader_load_floor_units = 100000;
  Catalog c2 = joined(6);
  for (int i = 0; i < 6; ++i) c2.tables["t1-x"].mutable_partitions(i)->set_leader_node_id(leaders[i]);
  Policy p2(quiet);
  EXPECT_TRUE(plan_leaders(c2, p2).empty());
}

// ---- sizing -------------------------------------------------------------------------------

TEST(DesiredNodes, FromBytesAndLoad) {
  Options o = small();
  o.node_capacity_bytes = 10ull << 20;  // 10 MiB per node
  o.node_read_units = 1000;
  o.node_write_units = 500;
  Policy policy(o);
  Catalog c = two_partitions();
  // Nothing reported: the current count (1 per zone), and never below 1.
  auto want = desired_nodes(c, policy);
  EXPECT_EQ(want, (std::map<std::string, int>{{"zone-a", 1}, {"zone-b", 1}, {"zone-c", 1}}));
  Catalog empty_zone = c;
  empty_zone.nodes[0].set_alive(false);
  EXPECT_EQ(desired_nodes(empty_zone, policy)["zone-a"], 1);

  // 25 MiB + 1 byte in each zone: 3 nodes of 10 MiB.
  policy.observe(node_stats("n1", {pstats("t1-x.0", 0, (1ull << 63) - 1, true, 20ull << 20),
                                   pstats("t1-x.1", 1ull << 63, kMax, true, (5ull << 20) + 1)}),
                 1000);
  want = desired_nodes(c, policy);
  EXPECT_EQ(want["zone-a"], 3);
  EXPECT_EQ(want["zone-c"], 3);

  // Writes: 1,200 WCU/s over the window -> 3 nodes of 500; reads 4,500 RCU/s -> 5 of 1,000.
  policy.observe(node_stats("n1", {pstats("t1-x.0", 0, (1ull << 63) - 1, true, 1, 45000, 12000)}),
                 2000);
  policy.observe(node_stats("n1", {pstats("t1-x.0", 0, (1ull << 63) - 1, true, 1, 45000, 12000)}),
                 3000);
  policy.observe(node_stats("n1", {pstats("t1-x.1", 1ull << 63, kMax, true, 1)}), 3000);
  want = desired_nodes(c, policy);
  // t1-x.0's window holds 0 + 45000 + 45000 over 3 s: 3000 RCU/s; t1-x.1 nothing.
  EXPECT_EQ(want["zone-b"], 3);
  policy.observe(node_stats("n1", {pstats("t1-x.0", 0, (1ull << 63) - 1, true, 1, 45000, 12000)}),
                 20000);
  want = desired_nodes(c, policy);  // the window now holds only the last report
  EXPECT_EQ(want["zone-b"], 5);
}

TEST(Format, BytesAndUnits) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(8ull << 20), "8 MiB");
  EXPECT_EQ(format_bytes((8ull << 20) + (1ull << 19)), "8.5 MiB");
  EXPECT_EQ(format_bytes(10ull << 30), "10 GiB");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_units_x10(35005), "3500.5");
  EXPECT_EQ(format_units_x10(30000), "3000");
}

}  // namespace
}  // namespace shoal::autoscaler
