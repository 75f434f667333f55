#include "shoal/http/admin.h"

#include <gtest/gtest.h>

#include <atomic>

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

}  // namespace
}  // namespace shoal::http
