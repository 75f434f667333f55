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
  EXPECT_EQ(s.node_admin("n1"), "blue.node.n1.admin");
  EXPECT_EQ(s.stats("n2"), "blue.stats.n2");
  EXPECT_EQ(s.cdc("t1", "p3"), "blue.cdc.t1.p3");
}

TEST(Subjects, MetaOpParsesOnlyOwnSubjects) {
  Subjects s;
  EXPECT_EQ(s.meta_op(s.meta_rpc(Subjects::kListTables)), "ListTables");
  EXPECT_EQ(s.meta_op("other.meta.rpc.ListTables"), "");
  EXPECT_EQ(s.meta_op("shoal.meta.events"), "");
}

}  // namespace
}  // namespace shoal::subjects
