#include "shoal/subjects/subjects.h"

#include <gtest/gtest.h>

namespace shoal::subjects {
namespace {

TEST(Subjects, UsePrefixEverywhere) {
  Subjects s("blue");
  EXPECT_EQ(s.meta_rpc("CreateTable"), "blue.meta.rpc.CreateTable");
  EXPECT_EQ(s.meta_rpc_wildcard(), "blue.meta.rpc.*");
  EXPECT_EQ(s.meta_events(), "blue.meta.events");
  EXPECT_EQ(s.node_data("n1"), "blue.node.n1.data");
  EXPECT_EQ(s.node_raft("n1"), "blue.node.n1.raft");
  EXPECT_EQ(s.node_snap("n1"), "blue.node.n1.snap");
  EXPECT_EQ(s.node_admin("n1"), "blue.node.n1.admin");
  EXPECT_EQ(s.stats("n2"), "blue.stats.n2");
  EXPECT_EQ(s.cdc("t1", "p3"), "blue.cdc.t1.p3");
  EXPECT_EQ(s.meta_raft("m1"), "blue.meta.raft.m1");
  EXPECT_EQ(s.meta_replica_rpc("m1", "ListTables"), "blue.meta.replica.m1.rpc.ListTables");
  EXPECT_EQ(s.meta_replica_rpc_wildcard("m1"), "blue.meta.replica.m1.rpc.*");
}

TEST(Subjects, MetaReplicaOpParsesOnlyOwnSubjects) {
  Subjects s;
  EXPECT_EQ(s.meta_replica_op("m1", s.meta_replica_rpc("m1", "DescribeTable")), "DescribeTable");
  EXPECT_EQ(s.meta_replica_op("m2", s.meta_replica_rpc("m1", "DescribeTable")), "");
  EXPECT_EQ(s.meta_replica_op("m1", s.meta_rpc("DescribeTable")), "");
}

TEST(Subjects, MetaOpParsesOnlyOwnSubjects) {
  Subjects s;
  EXPECT_EQ(s.meta_op(s.meta_rpc(Subjects::kListTables)), "ListTables");
  EXPECT_EQ(s.meta_op("other.meta.rpc.ListTables"), "");
  EXPECT_EQ(s.meta_op("shoal.meta.events"), "");
}

}  // namespace
}  // namespace shoal::subjects
