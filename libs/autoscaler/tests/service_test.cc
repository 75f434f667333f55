// AutoscalerService against a real nats-server and a real metadata service: it reads the
// catalog (ListNodes, ListTables, DescribeTable), takes stats from shoal.stats.<node>, and
// asks metadata for a split once a partition's leader reports more than the threshold.
//
// The storage side here is a stand-in node "n1" that heartbeats, answers metadata's admin
// requests OK (as in libs/metadata's tests) and publishes the NodeStats a storage node
// would; what metadata answers to SplitPartition (accepted, refused, or nothing while it
// does not serve that RPC) is counted, and the test only requires the decision to be made.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "shoal/autoscaler/service.h"
#include "shoal/meta/v1/meta.pb.h"
#include "shoal/metadata/service.h"
#include "shoal/metrics/testing.h"
#include "shoal/nats/connection.h"
#include "shoal/nats/testing.h"
#include "shoal/storage/v1/storage.pb.h"

namespace shoal::autoscaler {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::shared_ptr<nats::Connection> connect(const std::string& url, const std::string& name) {
  auto c = nats::Connection::connect({.url = url, .name = name});
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return *c;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds within) {
  const auto until = Clock::now() + within;
  while (Clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

double decisions(const metrics::Registry& r, const std::string& kind) {
  double sum = 0;
  for (const auto& m : metrics::testing::series(r, "shoal_autoscaler_decisions_total")) {
    if (m.labels.at("kind") == kind) sum += m.value;
  }
  return sum;
}

class AutoscalerWithMetadata : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("shoal-autoscaler-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    server_ = std::make_unique<nats::testing::NatsServerProcess>();
    client_ = connect(server_->url(), "client");
    node_ = connect(server_->url(), "n1");
    auto sub = node_->subscribe(subjects_.node_admin("n1"), "", [this](nats::MessagePtr m) {
      storage::v1::AdminResponse r;
      r.mutable_status()->set_code(common::v1::CODE_OK);
      (void)node_->respond(*m, r.SerializeAsString());
    });
    ASSERT_TRUE(sub.ok());
    admin_sub_ = std::move(sub).value();
    heartbeats_ = std::thread([this] {
      while (!stop_) {
        meta::v1::HeartbeatRequest hb;
        hb.mutable_node()->set_node_id("n1");
        hb.mutable_node()->set_zone("zone-a");
        (void)node_->request_sync(subjects_.meta_rpc(subjects::Subjects::kHeartbeat),
                                  hb.SerializeAsString(), 1s);
        std::this_thread::sleep_for(100ms);
      }
    });
    metadata::MetadataOptions mo;
    mo.data_dir = (dir_ / "meta").string();
    mo.default_partitions = 1;
    mo.replication_factor = 1;
    mo.node_timeout = 2000ms;
    mo.reconcile_interval = 50ms;
    mo.raft_tick = 50ms;
    meta_nats_ = connect(server_->url(), "meta");
    meta_ = std::make_unique<metadata::MetadataService>(meta_nats_, subjects_, mo, nullptr);
    ASSERT_TRUE(meta_->start().is_ok());
    // A table, ACTIVE once the stand-in node "opened" its replica.
    ASSERT_TRUE(eventually([&] {
      meta::v1::CreateTableRequest req;
      req.mutable_table()->set_name("big");
      auto reply = client_->request_sync(subjects_.meta_rpc(subjects::Subjects::kCreateTable),
                                         req.SerializeAsString(), 1s);
      meta::v1::CreateTableResponse resp;
      return reply.ok() && resp.ParseFromString(*reply) &&
             (resp.status().code() == common::v1::CODE_OK ||
              resp.status().code() == common::v1::CODE_ALREADY_EXISTS);
    }, 15s));
    ASSERT_TRUE(eventually([&] {
      meta::v1::DescribeTableRequest req;
      req.set_name("big");
      auto reply = client_->request_sync(subjects_.meta_rpc(subjects::Subjects::kDescribeTable),
                                         req.SerializeAsString(), 1s);
      meta::v1::DescribeTableResponse resp;
      if (!reply.ok() || !resp.ParseFromString(*reply)) return false;
      table_ = resp.table();
      return table_.status() == meta::v1::TABLE_STATUS_ACTIVE;
    }, 15s));
    ASSERT_EQ(table_.partitions_size(), 1);
  }

  void TearDown() override {
    stop_publishing();
    if (autoscaler_) autoscaler_->stop();
    autoscaler_.reset();
    stop_ = true;
    if (heartbeats_.joinable()) heartbeats_.join();
    if (meta_) meta_->stop();
    meta_.reset();
    admin_sub_.unsubscribe();
    for (auto& c : {client_, node_, meta_nats_, scaler_nats_}) {
      if (c) c->close();
    }
    server_.reset();
    fs::remove_all(dir_);
  }

  void start_autoscaler(bool dry_run) {
    ServiceOptions o;
    o.interval = 100ms;
    o.catalog_refresh = 200ms;
    o.rpc_timeout = 500ms;
    o.dry_run = dry_run;
    o.policy.split_size_bytes = 1 << 20;
    o.policy.cooldown_ms = 60000;  // one decision per partition in this test
    scaler_nats_ = connect(server_->url(), "autoscaler");
    autoscaler_ = std::make_unique<AutoscalerService>(scaler_nats_, subjects_, o, &registry_);
    ASSERT_TRUE(autoscaler_->start().is_ok());
  }

  // Publishes n1's stats every 100 ms as a storage node would: the table's partition, led
  // by n1, `size` bytes, plus a follower entry (ignored by the autoscaler).
  void publish(uint64_t size) {
    publisher_ = std::thread([this, size] {
      const auto& p = table_.partitions(0);
      while (!stop_publishing_) {
        meta::v1::NodeStats s;
        s.set_node_id("n1");
        s.set_zone("zone-a");
        auto* e = s.add_partitions();
        e->set_table_id(table_.table_id());
        e->set_partition_id(p.partition_id());
        e->set_hash_lo(p.hash_lo());
        e->set_hash_hi(p.hash_hi());
        e->set_leader(true);
        e->set_size_bytes(size);
        e->set_interval_ms(100);
        auto* f = s.add_partitions();
        *f = *e;
        f->set_partition_id("elsewhere");
        f->set_leader(false);
        (void)node_->publish(subjects_.stats("n1"), s.SerializeAsString());
        std::this_thread::sleep_for(100ms);
      }
    });
  }

  void stop_publishing() {
    stop_publishing_ = true;
    if (publisher_.joinable()) publisher_.join();
  }

  fs::path dir_;
  subjects::Subjects subjects_{"shoal"};
  std::unique_ptr<nats::testing::NatsServerProcess> server_;
  std::shared_ptr<nats::Connection> client_, node_, meta_nats_, scaler_nats_;
  nats::Subscription admin_sub_;
  std::thread heartbeats_, publisher_;
  std::atomic<bool> stop_{false}, stop_publishing_{false};
  std::unique_ptr<metadata::MetadataService> meta_;
  meta::v1::Table table_;
  metrics::Registry registry_;
  std::unique_ptr<AutoscalerService> autoscaler_;
};

TEST_F(AutoscalerWithMetadata, SplitsAPartitionAboveTheSizeThreshold) {
  start_autoscaler(/*dry_run=*/false);
  ASSERT_TRUE(eventually([&] { return autoscaler_->ready(); }, 10s));
  // Small: tracked, sized, nothing to split.
  publish(512 << 10);
  ASSERT_TRUE(eventually([&] {
    return metrics::testing::value(registry_, "shoal_autoscaler_partitions_tracked") == 1.0;
  }, 5s));
  EXPECT_GE(*metrics::testing::value(registry_, "shoal_autoscaler_stats_received_total"), 1.0);
  ASSERT_TRUE(eventually([&] {
    return metrics::testing::value(registry_, "shoal_autoscaler_desired_nodes",
                                   {{"zone", "zone-a"}}) == 1.0;
  }, 5s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(decisions(registry_, "split_size"), 0.0);
  stop_publishing();

  // Past 1 MiB: one split decision, whatever metadata answers.
  stop_publishing_ = false;
  publish(3 << 20);
  ASSERT_TRUE(eventually([&] { return decisions(registry_, "split_size") == 1.0; }, 10s));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(decisions(registry_, "split_size"), 1.0);  // cooldown: asked once
  EXPECT_EQ(decisions(registry_, "move"), 0.0);        // one node per zone: nothing to move
  EXPECT_EQ(metrics::testing::value(registry_, "shoal_autoscaler_decisions_total",
                                    {{"kind", "split_size"}, {"result", "dry_run"}}),
            std::nullopt);
}

TEST_F(AutoscalerWithMetadata, DryRunOnlyCounts) {
  start_autoscaler(/*dry_run=*/true);
  publish(3 << 20);
  ASSERT_TRUE(eventually([&] {
    return metrics::testing::value(registry_, "shoal_autoscaler_decisions_total",
                                   {{"kind", "split_size"}, {"result", "dry_run"}}) == 1.0;
  }, 10s));
  EXPECT_EQ(decisions(registry_, "split_size"), 1.0);
}

}  // namespace
}  // namespace shoal::autoscaler
