#include "shoal/ctl/endpoint.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <future>

#include "shoal/nats/testing.h"

namespace shoal::ctl {
namespace {

TEST(AdminPath, Parses) {
  EXPECT_EQ(partitions_path_table("/admin/tables/orders/partitions"), "orders");
  EXPECT_EQ(partitions_path_table("/admin/tables/my.table-1_x/partitions?x=1"), "my.table-1_x");
  EXPECT_EQ(partitions_path_table("/admin/tables/a%2Db/partitions"), "a-b");
  EXPECT_FALSE(partitions_path_table("/admin/tables//partitions"));
  EXPECT_FALSE(partitions_path_table("/admin/tables/partitions"));
  EXPECT_FALSE(partitions_path_table("/admin/tables/a/b/partitions"));
  EXPECT_FALSE(partitions_path_table("/admin/tables/a/nodes"));
  EXPECT_FALSE(partitions_path_table("/admin/tables/a%2/partitions"));
  EXPECT_FALSE(partitions_path_table("/metrics"));
}

TEST(AdminPath, ErrorJson) {
  EXPECT_EQ(error_json("bad \"x\""), "{\"error\":\"bad \\\"x\\\"\"}\n");
}

AdminAnswer ask(PartitionsEndpoint& e, const std::string& target) {
  std::promise<AdminAnswer> p;
  auto f = p.get_future();
  e.handle(target, [&p](AdminAnswer a) { p.set_value(std::move(a)); });
  return f.get();
}

// A real NATS with no metadata service behind it: requests fail as unavailable.
TEST(PartitionsEndpoint, AnswersWithoutMetadata) {
  nats::testing::NatsServerProcess server;
  auto conn = nats::Connection::connect({.url = server.url(), .name = "ctl-test"});
  ASSERT_TRUE(conn.ok()) << conn.status().to_string();
  ClientOptions options;
  options.rpc_timeout = std::chrono::milliseconds(300);
  PartitionsEndpoint endpoint(*conn, subjects::Subjects("test"), options, 1);

  auto nf = ask(endpoint, "/admin/tables/x/nodes");
  EXPECT_EQ(nf.status, 404);

  auto a = ask(endpoint, "/admin/tables/orders/partitions");
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.content_type, "application/json");
  rapidjson::Document d;
  d.Parse(a.body.c_str());
  ASSERT_FALSE(d.HasParseError()) << a.body;
  EXPECT_TRUE(d["error"].IsString());
}

TEST(PartitionsEndpoint, QueueFullAndShutdownAnswerEveryRequest) {
  nats::testing::NatsServerProcess server;
  auto conn = nats::Connection::connect({.url = server.url(), .name = "ctl-test"});
  ASSERT_TRUE(conn.ok());
  ClientOptions options;
  options.rpc_timeout = std::chrono::milliseconds(500);
  std::vector<int> codes;
  std::mutex mu;
  {
    PartitionsEndpoint endpoint(*conn, subjects::Subjects("test"), options, 1);
    for (int i = 0; i < 4; ++i) {
      endpoint.handle("/admin/tables/t/partitions", [&](AdminAnswer a) {
        std::lock_guard lock(mu);
        codes.push_back(a.status);
      });
    }
  }  // destroyed with requests queued or running: each is still answered
  ASSERT_EQ(codes.size(), 4u);
  for (int c : codes) EXPECT_EQ(c, 503);
}

}  // namespace
}  // namespace shoal::ctl
