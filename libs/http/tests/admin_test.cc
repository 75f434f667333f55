#include "shoal/http/admin.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "shoal/http/client.h"

namespace shoal::http {
namespace {

TEST(AdminServer, MetricsHealthAndReadiness) {
  metrics::Registry registry;
  auto& requests = metrics::BuildCounter().Name("shoal_test_total").Help("Test").Register(registry);
  requests.Add({{"op", "PutItem"}}).Increment(3);
  auto& items = metrics::BuildGauge().Name("shoal_items").Help("Items").Register(registry);
  std::atomic<int> count{7};
  items.AddCallback({{"partition", "p1"}}, [&count] { return double(count.load()); });

  std::atomic<bool> ready{true};
  AdminServer admin(0, &registry, [&ready] { return ready.load(); }, "127.0.0.1");
  ASSERT_TRUE(admin.start().is_ok());
  Client c("127.0.0.1", admin.port());

  auto m = c.get("/metrics");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->status, 200u);
  EXPECT_EQ(m->header("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_EQ(m->body,
            "# HELP shoal_test_total Test\n"
            "# TYPE shoal_test_total counter\n"
            "shoal_test_total{op=\"PutItem\"} 3\n"
            "# HELP shoal_items Items\n"
            "# TYPE shoal_items gauge\n"
            "shoal_items{partition=\"p1\"} 7\n");
  count = 8;
  m = c.get("/metrics?name[]=x");
  ASSERT_TRUE(m.ok());
  EXPECT_NE(m->body.find("shoal_items{partition=\"p1\"} 8\n"), std::string::npos);

  auto h = c.get("/healthz");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->status, 200u);
  EXPECT_EQ(h->body, "ok");

  auto r = c.get("/readyz");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200u);
  ready = false;
  r = c.get("/readyz");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503u);

  auto nf = c.get("/nope");
  ASSERT_TRUE(nf.ok());
  EXPECT_EQ(nf->status, 404u);
  auto wrong = c.post("/metrics", {}, "x");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 405u);
  admin.stop();
}

TEST(AdminServer, WithoutRegistryOrReadiness) {
  AdminServer admin(0, nullptr, {}, "127.0.0.1");
  ASSERT_TRUE(admin.start().is_ok());
  auto m = get("127.0.0.1", admin.port(), "/metrics");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, 200u);
  EXPECT_EQ(m->body, "");
  auto r = get("127.0.0.1", admin.port(), "/readyz");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200u);
}

TEST(AdminServer, RoutesAnswerLaterFromAnotherThread) {
  AdminServer admin(0, nullptr, {}, "127.0.0.1");
  std::vector<std::thread> workers;
  admin.add_route("/admin/", [](Request&& req, Responder resp) {
    resp.send(Response::make(200, "short " + req.target));
  });
  admin.add_route("/admin/tables/", [&workers](Request&& req, Responder resp) {
    // Answered from another thread, as a route that waits on NATS does.
    workers.emplace_back([target = req.target, r = std::move(resp)]() mutable {
      r.send(Response::make(200, "{\"t\":\"" + target + "\"}", "application/json"));
    });
  });
  ASSERT_TRUE(admin.start().is_ok());
  Client c("127.0.0.1", admin.port());
  auto a = c.get("/admin/tables/x/partitions?q=1");
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(a->status, 200u);
  EXPECT_EQ(a->header("Content-Type"), "application/json");
  EXPECT_EQ(a->body, "{\"t\":\"/admin/tables/x/partitions?q=1\"}");  // longest prefix
  auto b = c.get("/admin/nodes");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->body, "short /admin/nodes");
  auto post = c.post("/admin/tables/x/partitions", {}, "x");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405u);
  auto other = c.get("/adminx");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->status, 404u);
  auto h = c.get("/healthz");  // built-ins still answer
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->body, "ok");
  admin.stop();
  for (auto& t : workers) t.join();
}

}  // namespace
}  // namespace shoal::http
