// The metadata service as a Raft group, against a real nats-server and real RocksDB: one
// replica (create/describe/delete, restart), three replicas (requests through the queue group,
// leader loss, identical catalogs, a stopped replica catching up by snapshot), and which
// replica exports which metrics.

#include <map>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "shoal/meta/v1/meta.pb.h"
#include "shoal/metadata/service.h"
#include "shoal/metrics/testing.h"
#include "shoal/nats/connection.h"
#include "shoal/nats/testing.h"
#include "shoal/storage/v1/storage.pb.h"

namespace shoal::metadata {
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

class MetadataGroup : public ::testing::Test {
 protected:
  struct Replica {
    std::string id;
    std::shared_ptr<nats::Connection> nats;
    std::unique_ptr<metrics::Registry> registry;  // the replica's "process": kept across restarts
    std::unique_ptr<MetadataService> svc;
  };

  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("shoal-meta-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    server_ = std::make_unique<nats::testing::NatsServerProcess>();
    client_ = connect(server_->url(), "client");
    // A fake storage node n1: answers every admin request OK and heartbeats.
    node_nats_ = connect(server_->url(), "n1");
    auto sub = node_nats_->subscribe(subjects_.node_admin("n1"), "", [this](nats::MessagePtr m) {
      storage::v1::AdminResponse r;
      r.mutable_status()->set_code(common::v1::CODE_OK);
      (void)node_nats_->respond(*m, r.SerializeAsString());
    });
    ASSERT_TRUE(sub.ok());
    admin_sub_ = std::move(sub).value();
    heartbeats_ = std::thread([this] {
      while (!stop_heartbeats_) {
        meta::v1::HeartbeatRequest hb;
        hb.mutable_node()->set_node_id("n1");
        hb.mutable_node()->set_zone("z1");
        (void)node_nats_->request_sync(subjects_.meta_rpc(subjects::Subjects::kHeartbeat),
                                       hb.SerializeAsString(), 1s);
        std::this_thread::sleep_for(100ms);
      }
    });
  }

  void TearDown() override {
    stop_heartbeats_ = true;
    if (heartbeats_.joinable()) heartbeats_.join();
    for (auto& r : replicas_) stop(r);
    admin_sub_.unsubscribe();
    server_.reset();
    fs::remove_all(dir_);
  }

  MetadataOptions options(const std::string& id, const std::vector<std::string>& peers) {
    MetadataOptions mo;
    mo.data_dir = (dir_ / id).string();
    mo.id = id;
    mo.peers = peers;
    mo.default_partitions = 1;
    mo.replication_factor = 1;
    mo.node_timeout = 1000ms;
    mo.reconcile_interval = 50ms;
    mo.raft_tick = 50ms;
    mo.raft_compact_after = compact_after_;
    mo.propose_timeout = 3000ms;
    return mo;
  }

  void start(Replica& r, const std::vector<std::string>& peers) {
    r.id = r.id.empty() ? peers.front() : r.id;
    r.nats = connect(server_->url(), "meta-" + r.id);
    if (!r.registry) r.registry = std::make_unique<metrics::Registry>();
    r.svc = std::make_unique<MetadataService>(r.nats, subjects_, options(r.id, peers),
                                              r.registry.get());
    ASSERT_TRUE(r.svc->start().is_ok());
  }

  void stop(Replica& r) {
    if (r.svc) r.svc->stop();
    r.svc.reset();
    if (r.nats) r.nats->close();
    r.nats.reset();
  }

  // One request through the queue group, retried while no leader serves it.
  template <class Resp>
  Resp call(std::string_view op, const google::protobuf::Message& req,
            std::chrono::milliseconds within = 10s) {
    Resp resp;
    const auto until = Clock::now() + within;
    bool retried = false;
    while (true) {
      auto reply = client_->request_sync(subjects_.meta_rpc(op), req.SerializeAsString(), 2s);
      if (reply.ok() && resp.ParseFromString(*reply)) {
        auto code = resp.status().code();
        // A retried create may find its own first attempt.
        if (code != common::v1::CODE_UNAVAILABLE && code != common::v1::CODE_DEADLINE_EXCEEDED &&
            !(retried && code == common::v1::CODE_ALREADY_EXISTS)) {
          return resp;
        }
        if (retried && code == common::v1::CODE_ALREADY_EXISTS) {
          resp.mutable_status()->set_code(common::v1::CODE_OK);
          return resp;
        }
      }
      if (Clock::now() > until) {
        ADD_FAILURE() << op << " did not succeed in time";
        return resp;
      }
      retried = true;
      std::this_thread::sleep_for(100ms);
    }
  }

  void create(const std::string& name) {
    meta::v1::CreateTableRequest req;
    req.mutable_table()->set_name(name);
    auto resp = call<meta::v1::CreateTableResponse>(subjects::Subjects::kCreateTable, req);
    ASSERT_EQ(resp.status().code(), common::v1::CODE_OK) << name << ": " << resp.status().message();
  }

  meta::v1::DescribeTableResponse describe(const std::string& name) {
    meta::v1::DescribeTableRequest req;
    req.set_name(name);
    return call<meta::v1::DescribeTableResponse>(subjects::Subjects::kDescribeTable, req);
  }

  bool active(const std::string& name) {
    auto d = describe(name);
    return d.status().code() == common::v1::CODE_OK &&
           d.table().status() == meta::v1::TABLE_STATUS_ACTIVE;
  }

  void tag(const std::string& name, int i) {
    meta::v1::TagResourceRequest req;
    req.set_name(name);
    auto* t = req.add_tags();
    t->set_key("k" + std::to_string(i % 5));
    t->set_value("v" + std::to_string(i));
    auto resp = call<meta::v1::TagResourceResponse>(subjects::Subjects::kTagResource, req);
    ASSERT_EQ(resp.status().code(), common::v1::CODE_OK) << resp.status().message();
  }

  static std::string dump(const std::map<std::string, meta::v1::Table>& c) {
    std::string out;
    for (const auto& [name, t] : c) out += name + "=" + t.SerializeAsString() + ";";
    return out;
  }

  Replica* leader() {
    for (auto& r : replicas_)
      if (r.svc && r.svc->serving()) return &r;
    return nullptr;
  }

  fs::path dir_;
  subjects::Subjects subjects_{"shoal"};
  std::unique_ptr<nats::testing::NatsServerProcess> server_;
  std::shared_ptr<nats::Connection> client_;
  std::shared_ptr<nats::Connection> node_nats_;
  nats::Subscription admin_sub_;
  std::thread heartbeats_;
  std::atomic<bool> stop_heartbeats_{false};
  std::vector<Replica> replicas_;
  uint64_t compact_after_ = 1000;
};

TEST_F(MetadataGroup, SingleReplicaServesAndSurvivesRestart) {
  replicas_.resize(1);
  start(replicas_[0], {"m1"});
  EXPECT_TRUE(replicas_[0].svc->serving());
  create("alpha");
  create("beta");
  ASSERT_TRUE(eventually([&] { return active("alpha") && active("beta"); }, 5s));
  const std::string beta_id = describe("beta").table().table_id();

  meta::v1::DeleteTableRequest del;
  del.set_name("alpha");
  auto d = call<meta::v1::DeleteTableResponse>(subjects::Subjects::kDeleteTable, del);
  ASSERT_EQ(d.status().code(), common::v1::CODE_OK) << d.status().message();
  ASSERT_TRUE(eventually(
      [&] { return describe("alpha").status().code() == common::v1::CODE_NOT_FOUND; }, 5s));

  stop(replicas_[0]);
  start(replicas_[0], {"m1"});
  EXPECT_TRUE(replicas_[0].svc->serving());
  auto b = describe("beta");
  ASSERT_EQ(b.status().code(), common::v1::CODE_OK);
  EXPECT_EQ(b.table().table_id(), beta_id);
  EXPECT_EQ(b.table().status(), meta::v1::TABLE_STATUS_ACTIVE);
  EXPECT_EQ(describe("alpha").status().code(), common::v1::CODE_NOT_FOUND);
  // The table sequence survived: a new table gets a later id.
  create("gamma");
  EXPECT_GT(describe("gamma").table().table_id(), beta_id);
  meta::v1::ListTablesRequest list;
  auto l = call<meta::v1::ListTablesResponse>(subjects::Subjects::kListTables, list);
  ASSERT_EQ(l.table_names_size(), 2);
  EXPECT_EQ(l.table_names(0), "beta");
  EXPECT_EQ(l.table_names(1), "gamma");
}

TEST_F(MetadataGroup, ThreeReplicasFailOverAndCatchUpBySnapshot) {
  compact_after_ = 10;
  const std::vector<std::string> peers = {"m0", "m1", "m2"};
  replicas_.resize(3);
  for (int i = 0; i < 3; ++i) {
    replicas_[i].id = peers[i];
    start(replicas_[i], peers);
  }
  ASSERT_TRUE(eventually([&] { return leader() != nullptr; }, 8s));
  for (const char* name : {"t1", "t2", "t3"}) create(name);
  ASSERT_TRUE(eventually([&] { return active("t1") && active("t2") && active("t3"); }, 5s));

  // Stop the leader: another one is elected and answers.
  Replica* old = leader();
  ASSERT_NE(old, nullptr);
  const uint64_t old_applied = old->svc->applied_index();
  const std::vector<std::string> group = peers;
  stop(*old);
  ASSERT_TRUE(eventually([&] { return leader() != nullptr; }, 8s));
  EXPECT_NE(leader(), old);
  EXPECT_TRUE(active("t2"));
  create("t4");
  // Enough changes for the survivors to compact past what the stopped replica holds.
  for (int i = 0; i < 15; ++i) tag("t1", i);
  ASSERT_TRUE(eventually([&] { return active("t4"); }, 5s));

  // The survivors hold the same catalog.
  std::vector<Replica*> live;
  for (auto& r : replicas_)
    if (r.svc) live.push_back(&r);
  ASSERT_EQ(live.size(), 2u);
  ASSERT_TRUE(eventually([&] {
    return dump(live[0]->svc->applied_catalog()) == dump(live[1]->svc->applied_catalog()) &&
           live[0]->svc->applied_catalog().size() == 4;
  }, 5s));
  Replica* lead = leader();
  ASSERT_NE(lead, nullptr);
  ASSERT_GT(lead->svc->raft_log_first_index(), old_applied + 1)
      << "the leader did not compact past the stopped replica";

  // The stopped replica restarts and catches up (from a snapshot: the log it needs is gone).
  start(*old, group);
  ASSERT_TRUE(eventually([&] {
    return old->svc->applied_index() >= lead->svc->applied_index() &&
           dump(old->svc->applied_catalog()) == dump(lead->svc->applied_catalog());
  }, 8s));
  EXPECT_GT(old->svc->raft_log_first_index(), old_applied + 1);
  // The group still answers, and every replica sees the new table.
  create("t5");
  ASSERT_TRUE(eventually([&] {
    for (auto& r : replicas_)
      if (!r.svc->applied_catalog().count("t5")) return false;
    return true;
  }, 5s));
  meta::v1::ListTagsOfResourceRequest lt;
  lt.set_name("t1");
  auto tags =
      call<meta::v1::ListTagsOfResourceResponse>(subjects::Subjects::kListTagsOfResource, lt);
  EXPECT_EQ(tags.tags_size(), 5);

  // A new leader has no heartbeat history: it must not call a node dead before one
  // node_timeout of silence under its leadership, even if the node went quiet earlier.
  stop_heartbeats_ = true;
  heartbeats_.join();
  auto n1_alive = [&] {
    auto nodes = call<meta::v1::ListNodesResponse>(subjects::Subjects::kListNodes,
                                                   meta::v1::ListNodesRequest());
    EXPECT_EQ(nodes.status().code(), common::v1::CODE_OK);
    for (const auto& n : nodes.nodes())
      if (n.node_id() == "n1") return n.alive();
    ADD_FAILURE() << "n1 unknown to the leader";
    return false;
  };
  ASSERT_TRUE(eventually([&] { return !n1_alive(); }, 3s)) << "the leader saw n1 go quiet";
  Replica* second = leader();
  ASSERT_NE(second, nullptr);
  stop(*second);
  ASSERT_TRUE(eventually([&] { return leader() != nullptr; }, 8s));
  const auto took_over = Clock::now();
  EXPECT_TRUE(n1_alive()) << "a new leader judged a node before hearing from it";
  EXPECT_TRUE(eventually([&] { return !n1_alive(); }, 3s));
  EXPECT_GT(Clock::now() - took_over, 500ms);
}

// DrainNode is part of the replicated catalog: a replica that catches up by snapshot gets it,
// a new leader keeps draining the node, and undrain clears it everywhere.
TEST_F(MetadataGroup, DrainStateSurvivesLeaderChangesAndSnapshots) {
  compact_after_ = 10;
  const std::vector<std::string> peers = {"m0", "m1", "m2"};
  replicas_.resize(3);
  for (int i = 0; i < 3; ++i) {
    replicas_[i].id = peers[i];
    start(replicas_[i], peers);
  }
  ASSERT_TRUE(eventually([&] { return leader() != nullptr; }, 8s));
  create("t1");
  ASSERT_TRUE(eventually([&] { return active("t1"); }, 5s));
  auto drain = [&](bool undrain) {
    meta::v1::DrainNodeRequest req;
    req.set_node_id("n1");
    req.set_undrain(undrain);
    return call<meta::v1::DrainNodeResponse>(subjects::Subjects::kDrainNode, req);
  };
  auto draining = [&] {
    auto nodes = call<meta::v1::ListNodesResponse>(subjects::Subjects::kListNodes,
                                                   meta::v1::ListNodesRequest());
    EXPECT_EQ(nodes.status().code(), common::v1::CODE_OK);
    for (const auto& n : nodes.nodes())
      if (n.node_id() == "n1") return n.draining();
    ADD_FAILURE() << "n1 unknown to the leader";
    return false;
  };
  // A follower misses the drain and enough later changes to need a snapshot.
  Replica* behind = nullptr;
  for (auto& r : replicas_)
    if (!r.svc->serving()) behind = &r;
  ASSERT_NE(behind, nullptr);
  const uint64_t behind_applied = behind->svc->applied_index();
  stop(*behind);
  auto d = drain(false);
  ASSERT_EQ(d.status().code(), common::v1::CODE_OK) << d.status().message();
  EXPECT_TRUE(d.node().draining());
  EXPECT_TRUE(draining());
  for (int i = 0; i < 15; ++i) tag("t1", i);
  start(*behind, peers);
  ASSERT_TRUE(eventually([&] {
    return behind->svc->applied_draining() == std::set<std::string>{"n1"};
  }, 8s));
  EXPECT_GT(behind->svc->raft_log_first_index(), behind_applied + 1) << "not a snapshot";

  // The leader goes: the next one still has n1 draining.
  Replica* old = leader();
  ASSERT_NE(old, nullptr);
  stop(*old);
  ASSERT_TRUE(eventually([&] { return leader() != nullptr; }, 8s));
  EXPECT_TRUE(draining());
  d = drain(true);
  ASSERT_EQ(d.status().code(), common::v1::CODE_OK) << d.status().message();
  EXPECT_FALSE(d.node().draining());
  EXPECT_FALSE(draining());
  start(*old, peers);
  ASSERT_TRUE(eventually([&] {
    for (auto& r : replicas_)
      if (!r.svc->applied_draining().empty()) return false;
    return true;
  }, 8s));
  // And after a restart, from disk.
  Replica* lead = leader();
  ASSERT_NE(lead, nullptr);
  ASSERT_EQ(drain(false).status().code(), common::v1::CODE_OK);
  for (auto& r : replicas_) stop(r);
  for (auto& r : replicas_) start(r, peers);
  ASSERT_TRUE(eventually([&] { return leader() != nullptr; }, 8s));
  EXPECT_TRUE(draining());
}

TEST_F(MetadataGroup, OnlyTheServingLeaderExportsCatalogGauges) {
  using metrics::testing::series;
  using metrics::testing::value;
  const std::vector<std::string> peers = {"m0", "m1", "m2"};
  replicas_.resize(3);
  for (int i = 0; i < 3; ++i) {
    replicas_[i].id = peers[i];
    start(replicas_[i], peers);
  }
  ASSERT_TRUE(eventually([&] { return leader() != nullptr; }, 8s));
  meta::v1::CreateTableRequest od;
  od.mutable_table()->set_name("od");
  od.mutable_table()->set_billing_mode(meta::v1::BILLING_MODE_PAY_PER_REQUEST);
  auto od_created = call<meta::v1::CreateTableResponse>(subjects::Subjects::kCreateTable, od);
  ASSERT_EQ(od_created.status().code(), common::v1::CODE_OK) << od_created.status().message();
  meta::v1::CreateTableRequest req;
  req.mutable_table()->set_name("prov");
  req.mutable_table()->set_billing_mode(meta::v1::BILLING_MODE_PROVISIONED);
  req.mutable_table()->mutable_provisioned_throughput()->set_read_capacity_units(3);
  req.mutable_table()->mutable_provisioned_throughput()->set_write_capacity_units(4);
  auto created = call<meta::v1::CreateTableResponse>(subjects::Subjects::kCreateTable, req);
  ASSERT_EQ(created.status().code(), common::v1::CODE_OK) << created.status().message();
  ASSERT_TRUE(eventually([&] { return active("od") && active("prov"); }, 5s));

  // One info series per table: name, the table id storage series carry, billing mode.
  auto info_of = [](const metrics::Registry& reg) {
    std::map<std::string, std::string> modes;  // table -> billing_mode, if table_id is set
    for (const auto& m : series(reg, "shoal_metadata_table_info")) {
      if (m.value != 1.0 || m.labels.at("table_id").rfind('t', 0) != 0) return decltype(modes){};
      modes[m.labels.at("table")] = m.labels.at("billing_mode");
    }
    return modes;
  };
  const std::map<std::string, std::string> want_info = {{"od", "PAY_PER_REQUEST"},
                                                        {"prov", "PROVISIONED"}};
  auto exports_catalog = [&](const metrics::Registry& reg) {
    return info_of(reg) == want_info &&
           value(reg, "shoal_metadata_partitions", {{"table", "od"}}) == 1.0 &&
           value(reg, "shoal_metadata_partitions", {{"table", "prov"}}) == 1.0 &&
           value(reg, "shoal_metadata_table_provisioned_capacity_units",
                 {{"table", "prov"}, {"kind", "read"}}) == 3.0 &&
           value(reg, "shoal_metadata_table_provisioned_capacity_units",
                 {{"table", "prov"}, {"kind", "write"}}) == 4.0 &&
           value(reg, "shoal_metadata_table_provisioned_capacity_units",
                 {{"table", "od"}, {"kind", "read"}}) == 0.0 &&
           value(reg, "shoal_metadata_nodes_alive") == 1.0 &&
           value(reg, "shoal_metadata_tables", {{"status", "TABLE_STATUS_ACTIVE"}}) == 2.0;
  };
  auto exports_nothing = [](const metrics::Registry& reg) {
    for (const char* name :
         {"shoal_metadata_partitions", "shoal_metadata_table_provisioned_capacity_units",
          "shoal_metadata_nodes_alive", "shoal_metadata_nodes", "shoal_metadata_tables",
          "shoal_metadata_table_info"}) {
      if (!series(reg, name).empty()) return false;
    }
    return true;
  };
  // Exactly one replica leads, and only it exports the catalog.
  auto check = [&] {
    return eventually(
        [&] {
          int leaders = 0;
          for (auto& r : replicas_) {
            if (!r.svc) continue;
            const bool leads = r.svc->serving();
            if (value(*r.registry, "shoal_metadata_raft_leader") != (leads ? 1.0 : 0.0)) {
              return false;
            }
            leaders += leads;
            if (leads ? !exports_catalog(*r.registry) : !exports_nothing(*r.registry)) {
              return false;
            }
          }
          return leaders == 1;
        },
        5s);
  };
  ASSERT_TRUE(check());

  // After a failover the new leader takes over the series; the old one, back as a follower,
  // exports none.
  Replica* old = leader();
  ASSERT_NE(old, nullptr);
  stop(*old);
  ASSERT_TRUE(eventually([&] { return leader() != nullptr; }, 8s));
  start(*old, peers);
  ASSERT_TRUE(check());

  // A deleted table's series go.
  meta::v1::DeleteTableRequest del;
  del.set_name("prov");
  auto d = call<meta::v1::DeleteTableResponse>(subjects::Subjects::kDeleteTable, del);
  ASSERT_EQ(d.status().code(), common::v1::CODE_OK) << d.status().message();
  ASSERT_TRUE(eventually(
      [&] {
        Replica* l = leader();
        return l && !value(*l->registry, "shoal_metadata_partitions", {{"table", "prov"}}) &&
               !value(*l->registry, "shoal_metadata_table_provisioned_capacity_units",
                      {{"table", "prov"}, {"kind", "read"}}) &&
               value(*l->registry, "shoal_metadata_partitions", {{"table", "od"}}) == 1.0 &&
               info_of(*l->registry).size() == 1 && info_of(*l->registry).count("od");
      },
      5s));
}

}  // namespace
}  // namespace shoal::metadata
