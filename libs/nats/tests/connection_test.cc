// Tests against a real nats-server child process (shoal/nats/testing.h).
#include "shoal/nats/connection.h"

#include <gtest/gtest.h>

#include <atomic>
#include <caf/all.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "shoal/metrics/testing.h"
#include "shoal/nats/caf_types.h"
#include "shoal/nats/testing.h"

namespace shoal::nats {
namespace {

using namespace std::chrono_literals;

class NatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<testing::NatsServerProcess>();
    auto c = Connection::connect({.url = server_->url(), .name = "test"});
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    conn_ = *c;
  }
  void TearDown() override {
    if (conn_) conn_->close();
  }
  std::unique_ptr<testing::NatsServerProcess> server_;
  std::shared_ptr<Connection> conn_;
};

TEST_F(NatsTest, PublishSubscribeDeliversSubjectAndData) {
  std::promise<MessagePtr> got;
  auto sub = conn_->subscribe("t.pub", "", [&](MessagePtr m) { got.set_value(m); });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->flush().is_ok());
  std::string payload("a\0b", 3);  // binary-safe
  ASSERT_TRUE(conn_->publish("t.pub", payload).is_ok());
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  auto m = f.get();
  EXPECT_EQ(m->subject, "t.pub");
  EXPECT_EQ(m->data, payload);
  EXPECT_TRUE(m->reply.empty());
}

TEST_F(NatsTest, RequestReplyRoundTrip) {
  auto sub = conn_->subscribe("t.echo", "", [&](MessagePtr m) {
    ASSERT_FALSE(m->reply.empty());
    (void)conn_->respond(*m, "echo:" + m->data);
  });
  ASSERT_TRUE(sub.ok());
  auto r = conn_->request_sync("t.echo", "hi", 2s);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, "echo:hi");
}

TEST_F(NatsTest, RequestWithoutRespondersFailsFastAsUnavailable) {
  auto start = std::chrono::steady_clock::now();
  auto r = conn_->request_sync("t.nobody", "x", 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);  // not the timeout path
  EXPECT_EQ(conn_->stats().no_responders, 1u);
}

TEST_F(NatsTest, RequestTimesOutWhenResponderIsSilent) {
  auto sub = conn_->subscribe("t.silent", "", [](MessagePtr) {});
  ASSERT_TRUE(sub.ok());
  auto r = conn_->request_sync("t.silent", "x", 100ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(conn_->stats().request_timeouts, 1u);
}

TEST_F(NatsTest, ManyPipelinedRequestsEachGetTheirOwnReply) {
  auto sub = conn_->subscribe("t.double", "", [&](MessagePtr m) {
    (void)conn_->respond(*m, m->data + m->data);
  });
  ASSERT_TRUE(sub.ok());
  constexpr int kN = 20000;
  std::atomic<int> done{0}, wrong{0};
  std::mutex mu;
  std::condition_variable cv;
  for (int i = 0; i < kN; ++i) {
    std::string body = std::to_string(i);
    conn_->request("t.double", body, 10s, [&, body](Result<std::string> r) {
      if (!r.ok() || *r != body + body) wrong.fetch_add(1);
      if (done.fetch_add(1) + 1 == kN) {
        std::lock_guard l(mu);
        cv.notify_all();
      }
    });
  }
  std::unique_lock l(mu);
  ASSERT_TRUE(cv.wait_for(l, 30s, [&] { return done.load() == kN; }));
  EXPECT_EQ(wrong.load(), 0);
  // Batching: far fewer flush turns than messages.
  auto st = conn_->stats();
  EXPECT_GE(st.published, static_cast<uint64_t>(kN));
  EXPECT_LT(st.flushes, st.published);
}

TEST_F(NatsTest, QueueGroupDeliversEachMessageToOneMember) {
  std::atomic<int> a{0}, b{0};
  auto s1 = conn_->subscribe("t.q", "workers", [&](MessagePtr) { a++; });
  auto s2 = conn_->subscribe("t.q", "workers", [&](MessagePtr) { b++; });
  ASSERT_TRUE(s1.ok() && s2.ok());
  ASSERT_TRUE(conn_->flush().is_ok());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(conn_->publish("t.q", "m").is_ok());
  ASSERT_TRUE(conn_->flush().is_ok());
  for (int i = 0; i < 200 && a + b < 1000; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(a + b, 1000);
}

TEST_F(NatsTest, UnsubscribeStopsDelivery) {
  std::atomic<int> n{0};
  auto sub = conn_->subscribe("t.u", "", [&](MessagePtr) { n++; });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->flush().is_ok());
  ASSERT_TRUE(conn_->publish("t.u", "1").is_ok());
  for (int i = 0; i < 200 && n == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(n.load(), 1);
  sub->unsubscribe();
  ASSERT_TRUE(conn_->publish("t.u", "2").is_ok());
  ASSERT_TRUE(conn_->flush().is_ok());
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(n.load(), 1);
}

TEST_F(NatsTest, SubscribeActorDeliversIntoCafActor) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::promise<std::string> got;
  auto actor = sys.spawn([&](caf::event_based_actor*) -> caf::behavior {
    return {[&](const MessagePtr& m) { got.set_value(m->subject + "=" + m->data); }};
  });
  auto sub = conn_->subscribe_actor("t.actor", "", actor);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->flush().is_ok());
  ASSERT_TRUE(conn_->publish("t.actor", "v").is_ok());
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.get(), "t.actor=v");
  sub->unsubscribe();
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
}

TEST_F(NatsTest, MetricsReadNatsStatisticsWhenScraped) {
  using metrics::testing::value;
  metrics::Registry registry;
  conn_->register_metrics(registry);
  EXPECT_EQ(value(registry, "shoal_nats_connected"), 1.0);
  EXPECT_EQ(value(registry, "shoal_nats_reconnects_total"), 0.0);
  const double in0 = *value(registry, "shoal_nats_messages_total", {{"direction", "in"}});
  const double out0 = *value(registry, "shoal_nats_messages_total", {{"direction", "out"}});
  const double out_bytes0 = *value(registry, "shoal_nats_bytes_total", {{"direction", "out"}});

  auto sub = conn_->subscribe("t.m", "", [&](MessagePtr m) { (void)conn_->respond(*m, m->data); });
  ASSERT_TRUE(sub.ok());
  const std::string payload(100, 'x');
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(conn_->request_sync("t.m", payload, 2s).ok());
  // Each round trip: the request and the reply go out, and both come back in (this
  // connection subscribes to both).
  EXPECT_GE(*value(registry, "shoal_nats_messages_total", {{"direction", "out"}}), out0 + 20);
  EXPECT_GE(*value(registry, "shoal_nats_messages_total", {{"direction", "in"}}), in0 + 20);
  EXPECT_GE(*value(registry, "shoal_nats_bytes_total", {{"direction", "out"}}),
            out_bytes0 + 2000);
  EXPECT_GE(*value(registry, "shoal_nats_bytes_total", {{"direction", "in"}}), 2000);
  EXPECT_EQ(conn_->stats().out_msgs,
            *value(registry, "shoal_nats_messages_total", {{"direction", "out"}}));

  // Closed, then gone: the series stay, disconnected, with their last counts.
  sub->unsubscribe();
  const double out_last = *value(registry, "shoal_nats_messages_total", {{"direction", "out"}});
  conn_->close();
  EXPECT_EQ(value(registry, "shoal_nats_connected"), 0.0);
  EXPECT_GE(*value(registry, "shoal_nats_messages_total", {{"direction", "out"}}), out_last);
  conn_.reset();
  EXPECT_EQ(value(registry, "shoal_nats_connected"), 0.0);
  EXPECT_GE(*value(registry, "shoal_nats_messages_total", {{"direction", "out"}}), out_last);
}

TEST_F(NatsTest, ReconnectsAfterServerRestart) {
  metrics::Registry registry;
  conn_->register_metrics(registry);
  auto sub = conn_->subscribe("t.r", "", [&](MessagePtr m) { (void)conn_->respond(*m, "ok"); });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(conn_->request_sync("t.r", "", 2s).ok());
  server_->stop();
  for (int i = 0; i < 200 && conn_->connected(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(conn_->connected());
  EXPECT_EQ(metrics::testing::value(registry, "shoal_nats_connected"), 0.0);
  server_->start();
  bool ok = false;
  for (int i = 0; i < 100 && !ok; ++i) {
    ok = conn_->request_sync("t.r", "", 200ms).ok();
    if (!ok) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(ok);
  EXPECT_TRUE(conn_->connected());
  // The reconnected callback runs on NATS.c's callback thread, possibly after the request.
  for (int i = 0; i < 200 && conn_->stats().reconnects == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_GE(conn_->stats().reconnects, 1u);
  EXPECT_GE(metrics::testing::value(registry, "shoal_nats_reconnects_total"), 1.0);
  EXPECT_EQ(metrics::testing::value(registry, "shoal_nats_connected"), 1.0);
}

TEST_F(NatsTest, CloseFailsPendingRequestsAndLaterCalls) {
  auto sub = conn_->subscribe("t.hold", "", [](MessagePtr) {});
  ASSERT_TRUE(sub.ok());
  std::promise<Status> got;
  conn_->request("t.hold", "x", 60s, [&](Result<std::string> r) { got.set_value(r.status()); });
  sub->unsubscribe();
  conn_->close();
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.get().code(), Code::kUnavailable);
  EXPECT_EQ(conn_->publish("t.x", "y").code(), Code::kUnavailable);
  auto r = conn_->request_sync("t.x", "y", 1s);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
}

TEST(NatsConnect, FailsWithUnavailableWhenNoServer) {
  int port = testing::free_port();
  Options o;
  o.url = "nats://127.0.0.1:" + std::to_string(port);
  o.connect_timeout = std::chrono::milliseconds(0);
  auto c = Connection::connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace shoal::nats
