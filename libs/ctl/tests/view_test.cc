#include "shoal/ctl/view.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace shoal::ctl {
namespace {

meta::v1::Partition partition(const std::string& id, uint64_t lo, uint64_t hi,
                              const std::string& leader) {
  meta::v1::Partition p;
  p.set_partition_id(id);
  p.set_hash_lo(lo);
  p.set_hash_hi(hi);
  for (const char* z : {"a", "b", "c"}) {
    p.add_replica_node_ids(std::string("n") + char('1' + (z[0] - 'a')));
    p.add_replica_zones(std::string("zone-") + z);
  }
  p.set_leader_node_id(leader);
  return p;
}

meta::v1::Table sample_table() {
  meta::v1::Table t;
  t.set_name("orders");
  t.set_table_id("t7-abc");
  t.set_status(meta::v1::TABLE_STATUS_ACTIVE);
  t.set_map_epoch(4);
  *t.add_partitions() = partition("t7-abc.0", 0, 0x7fffffffffffffffull, "n2");
  auto* p1 = t.add_partitions();
  *p1 = partition("t7-abc.1", 0x8000000000000000ull, UINT64_MAX, "");
  p1->mutable_split()->set_new_partition_id("t7-abc.2");
  p1->mutable_split()->set_split_hash(0xc000000000000000ull);
  p1->mutable_split()->set_reason("hot");
  return t;
}

TEST(StatsIndex, PrefersCatalogLeaderThenReportedLeaderThenAny) {
  StatsIndex s;
  EXPECT_EQ(s.pick("p", "n1"), nullptr);
  s.add("p", "n1", false, 10, 100);
  EXPECT_EQ(s.pick("p", "")->node_id, "n1");
  s.add("p", "n3", true, 12, 120);
  EXPECT_EQ(s.pick("p", "")->node_id, "n3");     // says it leads
  EXPECT_EQ(s.pick("p", "n9")->node_id, "n3");   // catalog's leader did not report
  s.add("p", "n2", false, 11, 110);
  EXPECT_EQ(s.pick("p", "n2")->node_id, "n2");   // catalog's leader wins
  s.add("p", "n2", true, 13, 130);                // a newer report replaces the older
  EXPECT_EQ(s.pick("p", "n2")->items, 13u);
  EXPECT_EQ(s.pick("q", "n2"), nullptr);
}

TEST(StatsIndex, FromAdminAndNodeStats) {
  storage::v1::AdminResponse admin;
  auto* r = admin.add_replicas();
  r->mutable_replica()->set_partition_id("t7-abc.0");
  r->set_item_count(5);
  r->set_size_bytes(2048);
  r->set_leader(true);
  meta::v1::NodeStats ns;
  ns.set_node_id("n3");
  auto* ps = ns.add_partitions();
  ps->set_partition_id("t7-abc.1");
  ps->set_item_count(9);
  ps->set_size_bytes(4096);
  StatsIndex s;
  s.add("n2", admin);
  s.add(ns);
  EXPECT_EQ(s.pick("t7-abc.0", "n2")->size_bytes, 2048u);
  EXPECT_EQ(s.pick("t7-abc.1", "")->node_id, "n3");
  EXPECT_EQ(s.pick("t7-abc.1", "")->items, 9u);
}

TEST(View, Names) {
  EXPECT_EQ(table_status_name(meta::v1::TABLE_STATUS_CREATING), "CREATING");
  EXPECT_EQ(stage_name(meta::v1::ReplicaChange::STAGE_ADD_LEARNER), "add-learner");
  EXPECT_EQ(stage_name(meta::v1::ReplicaChange::STAGE_CATCH_UP), "catch-up");
  EXPECT_EQ(stage_name(meta::v1::ReplicaChange::STAGE_NONE), "none");
}

TEST(View, ReplicasAndOperations) {
  auto t = sample_table();
  EXPECT_EQ(replicas_text(t.partitions(0)), "n1@zone-a n2@zone-b* n3@zone-c");
  EXPECT_EQ(replicas_text(t.partitions(1)), "n1@zone-a n2@zone-b n3@zone-c");  // no leader known
  EXPECT_EQ(operation_text(t.partitions(0)), "-");
  EXPECT_EQ(operation_text(t.partitions(1)), "split at 0xc000000000000000 -> t7-abc.2 (hot)");

  meta::v1::Partition p = t.partitions(0);
  auto* c = p.mutable_change();
  c->set_stage(meta::v1::ReplicaChange::STAGE_NONE);  // present but idle: nothing shown
  EXPECT_EQ(operation_text(p), "-");
  c->set_stage(meta::v1::ReplicaChange::STAGE_CATCH_UP);
  c->set_dead_node_id("n1");
  c->set_new_node_id("n4");
  c->set_reason("drain");
  EXPECT_EQ(operation_text(p), "replica n1 -> n4: catch-up (drain)");
  p.mutable_split()->set_new_partition_id("t7-abc.3");
  EXPECT_EQ(operation_text(p), "split at 0x0000000000000000 -> t7-abc.3; replica n1 -> n4: "
                               "catch-up (drain)");

  meta::v1::Partition lonely;
  lonely.add_replica_node_ids("n5");  // zones missing (older record)
  EXPECT_EQ(replicas_text(lonely), "n5");
  EXPECT_EQ(replicas_text(meta::v1::Partition()), "-");
}

TEST(View, PartitionsText) {
  StatsIndex s;
  s.add("t7-abc.0", "n2", true, 1200, 1536);
  EXPECT_EQ(partitions_text(sample_table(), s),
            "PARTITION  HASH RANGE                              REPLICAS                        "
            "ITEMS    SIZE  OPERATION\n"
            "t7-abc.0   0x0000000000000000..0x7fffffffffffffff  n1@zone-a n2@zone-b* n3@zone-c  "
            " 1200  1.5 KB  -\n"
            "t7-abc.1   0x8000000000000000..0xffffffffffffffff  n1@zone-a n2@zone-b n3@zone-c   "
            "    -       -  split at 0xc000000000000000 -> t7-abc.2 (hot)\n");
}

TEST(View, PartitionsJson) {
  StatsIndex s;
  s.add("t7-abc.0", "n2", true, 1200, 1536);
  std::string text = partitions_json(sample_table(), s);
  ASSERT_EQ(text.back(), '\n');
  rapidjson::Document d;
  d.Parse(text.c_str());
  ASSERT_FALSE(d.HasParseError()) << text;
  EXPECT_STREQ(d["table"].GetString(), "orders");
  EXPECT_STREQ(d["table_id"].GetString(), "t7-abc");
  EXPECT_STREQ(d["status"].GetString(), "ACTIVE");
  EXPECT_EQ(d["map_epoch"].GetUint64(), 4u);
  const auto& parts = d["partitions"];
  ASSERT_EQ(parts.Size(), 2u);
  const auto& p0 = parts[0];
  EXPECT_STREQ(p0["id"].GetString(), "t7-abc.0");
  EXPECT_STREQ(p0["hash_lo"].GetString(), "0x0000000000000000");
  EXPECT_STREQ(p0["hash_hi"].GetString(), "0x7fffffffffffffff");
  EXPECT_STREQ(p0["leader"].GetString(), "n2");
  ASSERT_EQ(p0["replicas"].Size(), 3u);
  EXPECT_STREQ(p0["replicas"][1]["node"].GetString(), "n2");
  EXPECT_STREQ(p0["replicas"][1]["zone"].GetString(), "zone-b");
  EXPECT_TRUE(p0["replicas"][1]["leader"].GetBool());
  EXPECT_FALSE(p0["replicas"][0]["leader"].GetBool());
  EXPECT_EQ(p0["items"].GetUint64(), 1200u);
  EXPECT_EQ(p0["size_bytes"].GetUint64(), 1536u);
  EXPECT_TRUE(p0["operation"].IsNull());
  const auto& p1 = parts[1];
  EXPECT_TRUE(p1["leader"].IsNull());
  EXPECT_TRUE(p1["items"].IsNull());
  EXPECT_TRUE(p1["size_bytes"].IsNull());
  EXPECT_STREQ(p1["operation"]["type"].GetString(), "split");
  EXPECT_STREQ(p1["operation"]["new_partition_id"].GetString(), "t7-abc.2");
  EXPECT_STREQ(p1["operation"]["split_hash"].GetString(), "0xc000000000000000");
  EXPECT_STREQ(p1["operation"]["reason"].GetString(), "hot");

  auto t = sample_table();
  auto* c = t.mutable_partitions(0)->mutable_change();
  c->set_stage(meta::v1::ReplicaChange::STAGE_PROMOTE);
  c->set_dead_node_id("n1");
  c->set_new_node_id("n4");
  c->set_zone("zone-a");
  c->set_reason("move");
  d.Parse(partitions_json(t, s).c_str());
  const auto& op = d["partitions"][0]["operation"];
  EXPECT_STREQ(op["type"].GetString(), "replica_change");
  EXPECT_STREQ(op["stage"].GetString(), "promote");
  EXPECT_STREQ(op["from"].GetString(), "n1");
  EXPECT_STREQ(op["to"].GetString(), "n4");
  EXPECT_STREQ(op["zone"].GetString(), "zone-a");
  EXPECT_STREQ(op["reason"].GetString(), "move");
}

TEST(View, Tables) {
  auto t = sample_table();
  meta::v1::Table empty;
  empty.set_name("new");
  empty.set_table_id("t8-x");
  empty.set_status(meta::v1::TABLE_STATUS_CREATING);
  StatsIndex s;
  s.add("t7-abc.0", "n2", true, 1200, 1536);
  s.add("t7-abc.1", "n1", false, 34, 1024 * 1024);
  EXPECT_EQ(tables_text({t, empty}, s),
            "NAME    TABLE ID  STATUS    PARTITIONS  ITEMS    SIZE\n"
            "orders  t7-abc    ACTIVE             2   1234  1.0 MB\n"
            "new     t8-x      CREATING           0      -       -\n");
  rapidjson::Document d;
  d.Parse(tables_json({t, empty}, s).c_str());
  ASSERT_FALSE(d.HasParseError());
  ASSERT_EQ(d["tables"].Size(), 2u);
  EXPECT_EQ(d["tables"][0]["items"].GetUint64(), 1234u);
  EXPECT_EQ(d["tables"][0]["size_bytes"].GetUint64(), 1536u + 1024 * 1024);
  EXPECT_EQ(d["tables"][0]["partitions"].GetInt(), 2);
  EXPECT_TRUE(d["tables"][1]["items"].IsNull());
  EXPECT_STREQ(d["tables"][1]["status"].GetString(), "CREATING");
}

TEST(View, Nodes) {
  std::vector<meta::v1::Node> nodes(2);
  nodes[0].set_node_id("n1");
  nodes[0].set_zone("zone-a");
  nodes[0].set_alive(true);
  nodes[0].set_replica_count(12);
  nodes[0].set_leader_count(4);
  nodes[1].set_node_id("n2");
  nodes[1].set_zone("zone-b");
  nodes[1].set_draining(true);
  EXPECT_EQ(nodes_text(nodes),
            "NODE  ZONE    ALIVE  DRAINING  REPLICAS  LEADERS\n"
            "n1    zone-a  yes    no              12        4\n"
            "n2    zone-b  no     yes              0        0\n");
  rapidjson::Document d;
  d.Parse(nodes_json(nodes).c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_STREQ(d["nodes"][1]["node"].GetString(), "n2");
  EXPECT_TRUE(d["nodes"][1]["draining"].GetBool());
  EXPECT_FALSE(d["nodes"][1]["alive"].GetBool());
  EXPECT_EQ(d["nodes"][0]["replicas"].GetInt(), 12);
  EXPECT_EQ(d["nodes"][0]["leaders"].GetInt(), 4);
}

TEST(View, FindPartition) {
  auto t = sample_table();
  EXPECT_EQ(find_partition(t, "t7-abc.1")->partition_id(), "t7-abc.1");
  EXPECT_EQ(find_partition(t, "0")->partition_id(), "t7-abc.0");
  EXPECT_EQ(find_partition(t, "7"), nullptr);
  EXPECT_EQ(find_partition(t, ""), nullptr);
}

}  // namespace
}  // namespace shoal::ctl
