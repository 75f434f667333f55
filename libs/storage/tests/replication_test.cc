// Raft groups of StorageNodes in one process over a real nats-server and real RocksDB:
// log compaction, snapshot transfer to a lagging or new replica, restarts from a compacted
// log, replacing a member (add learner, promote, remove), and the metrics each node exports.
// Replicas are opened directly through the admin subject; items go through
// shoal.node.<id>.data like the router sends them.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "shoal/item/item.h"
#include "shoal/item/key.h"
#include "shoal/metrics/testing.h"
#include "shoal/nats/testing.h"
#include "shoal/storage/node.h"

namespace shoal::storage {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kTable = "t1";
constexpr const char* kPid = "t1.0";

std::shared_ptr<nats::Connection> connect(const std::string& url, const std::string& name) {
  nats::Options o;
  o.url = url;
  o.name = name;
  auto c = nats::Connection::connect(o);
  if (!c.ok()) throw std::runtime_error(c.status().to_string());
  return *c;
}

Status from_proto(const common::v1::Status& s) {
  if (s.code() == common::v1::CODE_OK) return Status::ok();
  return Status(static_cast<Code>(s.code()), s.message());
}

storage::v1::Peer peer(uint64_t raft_id, const std::string& node, bool learner = false) {
  storage::v1::Peer p;
  p.set_raft_id(raft_id);
  p.set_node_id(node);
  p.set_zone("zone-" + node);
  p.set_learner(learner);
  return p;
}

class Replication : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("shoal-repl-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    server_ = std::make_unique<nats::testing::NatsServerProcess>();
    client_ = connect(server_->url(), "client");
  }

  void TearDown() override {
    for (auto& [_, n] : nodes_) {
      if (n) n->stop();
    }
    nodes_.clear();
    if (client_) client_->close();
    for (auto& [_, c] : conns_) c->close();
    server_.reset();
    fs::remove_all(dir_);
  }

  NodeOptions options(const std::string& id) const {
    NodeOptions o;
    o.node_id = id;
    o.zone = "zone-" + id;
    o.data_dir = (dir_ / id).string();
    o.sync = false;  // durability across process crashes is not what these tests look at
    o.heartbeat_interval = 1000ms;
    o.compact_threshold = compact_threshold_;
    o.compact_keep = compact_keep_;
    o.snapshot_chunk_bytes = chunk_bytes_;
    return o;
  }

  void start_node(const std::string& id) {
    if (!conns_.count(id)) conns_[id] = connect(server_->url(), id);
    auto& registry = registries_[id];  // kept across restarts, as a process keeps its own
    if (!registry) registry = std::make_unique<metrics::Registry>();
    auto n = std::make_unique<StorageNode>(conns_[id], subjects_, options(id), registry.get());
    ASSERT_TRUE(n->start().is_ok());
    ASSERT_TRUE(conns_[id]->flush().is_ok());  // its subscriptions are in place
    nodes_[id] = std::move(n);
  }

  void stop_node(const std::string& id) {
    nodes_.at(id)->stop();
    nodes_.erase(id);
  }

  Result<storage::v1::AdminResponse> admin(const std::string& node,
                                           const storage::v1::AdminRequest& req,
                                           std::chrono::milliseconds timeout = 5000ms) {
    auto r = client_->request_sync(subjects_.node_admin(node), req.SerializeAsString(), timeout);
    if (!r.ok()) return r.status();
    storage::v1::AdminResponse resp;
    if (!resp.ParseFromString(*r)) return internal_error("bad admin reply");
    return resp;
  }

  static storage::v1::ReplicaDescriptor descriptor(const std::vector<storage::v1::Peer>& peers) {
    storage::v1::ReplicaDescriptor d;
    d.set_table_id(kTable);
    d.set_partition_id(kPid);
    d.set_hash_lo(0);
    d.set_hash_hi(UINT64_MAX);
    for (const auto& p : peers) *d.add_peers() = p;
    return d;
  }

  void open(const std::string& node, const std::vector<storage::v1::Peer>& peers) {
    storage::v1::AdminRequest req;
    req.set_op(storage::v1::ADMIN_OP_OPEN_REPLICA);
    *req.mutable_replica() = descriptor(peers);
    auto r = admin(node, req);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    ASSERT_TRUE(from_proto(r->status()).is_ok()) << r->status().message();
  }

  // A new group: peers[0] is opened last and campaigns.
  void open_group(const std::vector<storage::v1::Peer>& peers) {
    for (size_t i = peers.size(); i-- > 0;) open(peers[i].node_id(), peers);
  }

  std::optional<storage::v1::ReplicaStats> stats(const std::string& node) {
    storage::v1::AdminRequest req;
    req.set_op(storage::v1::ADMIN_OP_STATS);
    auto r = admin(node, req, 2000ms);
    if (!r.ok()) return std::nullopt;
    for (const auto& s : r->replicas()) {
      if (s.replica().partition_id() == kPid) return s;
    }
    return std::nullopt;
  }

  bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return pred();
  }

  // The node whose replica leads (among the running ones), "" if none.
  std::string leader() {
    for (const auto& [id, _] : nodes_) {
      auto s = stats(id);
      if (s && s->leader()) return id;
    }
    return {};
  }

  std::string wait_leader() {
    std::string l;
    wait_for([&] { return !(l = leader()).empty(); }, 15000ms);
    return l;
  }

  // A membership change, sent to the leader (following STALE_ROUTE hints), retried while
  // UNAVAILABLE, as metadata does.
  Status membership(storage::v1::AdminOp op, const storage::v1::Peer& p) {
    storage::v1::AdminRequest req;
    req.set_op(op);
    req.mutable_replica()->set_partition_id(kPid);
    *req.mutable_peer() = p;
    std::string target = wait_leader();
    Status last = unavailable("no attempt");
    const auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline) {
      auto r = admin(target.empty() ? nodes_.begin()->first : target, req);
      if (r.ok()) {
        last = from_proto(r->status());
        if (last.is_ok()) return last;
        if (last.code() == Code::kStaleRoute && !r->leader_node_id().empty()) {
          target = r->leader_node_id();
        } else if (last.code() != Code::kUnavailable && last.code() != Code::kStaleRoute) {
          return last;
        } else if (last.code() == Code::kStaleRoute) {
          target = leader();
        }
      } else {
        last = r.status();
        target = leader();
      }
      std::this_thread::sleep_for(100ms);
    }
    return last;
  }

  // PUT item `i` through the leader (following hints), retried until it is acknowledged.
  Status put(int i, size_t value_bytes = 100) {
    storage::v1::DataRequest req;
    req.set_op(storage::v1::DATA_OP_PUT);
    req.set_table_id(kTable);
    req.set_partition_id(kPid);
    std::string pk = "key-" + std::to_string(i);
    req.set_hash(item::partition_hash(pk));
    req.set_pk(pk);
    item::Item it;
    it.emplace_back("pk", item::AttributeValue::S(pk));
    it.emplace_back("v", item::AttributeValue::S(std::string(value_bytes, 'a' + i % 26)));
    req.set_item(item::encode_item(it));
    const std::string data = req.SerializeAsString();
    Status last = unavailable("no attempt");
    const auto deadline = Clock::now() + 20s;
    size_t rotate = 0;
    while (Clock::now() < deadline) {
      if (target_.empty() || !nodes_.count(target_)) {
        auto it2 = nodes_.begin();
        std::advance(it2, static_cast<long>(rotate++ % nodes_.size()));
        target_ = it2->first;
      }
      auto r = client_->request_sync(subjects_.node_data(target_), data, 3000ms);
      if (!r.ok()) {
        last = r.status();
        target_.clear();
        continue;
      }
      storage::v1::DataResponse resp;
      if (!resp.ParseFromString(*r)) return internal_error("bad data reply");
      last = from_proto(resp.status());
      if (last.is_ok()) return last;
      if (last.code() == Code::kStaleRoute) {
        target_ = resp.leader_node_id();
      } else if (last.code() != Code::kUnavailable) {
        return last;
      }
      std::this_thread::sleep_for(20ms);
    }
    return last;
  }

  void put_range(int from, int to, size_t value_bytes = 100) {
    for (int i = from; i < to; ++i) {
      Status s = put(i, value_bytes);
      ASSERT_TRUE(s.is_ok()) << "put " << i << ": " << s.to_string();
    }
  }

  // Items of the partition as `node`'s replica holds them (SCAN, any replica, paged).
  Result<uint64_t> count_items(const std::string& node) {
    uint64_t n = 0;
    std::string after;
    for (int page = 0; page < 10000; ++page) {
      storage::v1::DataRequest req;
      req.set_op(storage::v1::DATA_OP_SCAN);
      req.set_table_id(kTable);
      req.set_partition_id(kPid);
      req.set_hash(0);
      req.set_hash_hi(UINT64_MAX);
      req.set_any_replica(true);
      req.set_start_after(after);
      auto r = client_->request_sync(subjects_.node_data(node), req.SerializeAsString(), 3000ms);
      if (!r.ok()) return r.status();
      storage::v1::DataResponse resp;
      if (!resp.ParseFromString(*r)) return internal_error("bad scan reply");
      SHOAL_RETURN_IF_ERROR(from_proto(resp.status()));
      n += static_cast<uint64_t>(resp.items_size());
      if (!resp.more()) return n;
      after = resp.last_key();
    }
    return internal_error("scan did not end");
  }

  // Waits until `node` applied everything the leader committed and holds `items` items.
  void wait_caught_up(const std::string& node, uint64_t items) {
    bool ok = wait_for(
        [&] {
          auto l = leader();
          if (l.empty()) return false;
          auto ls = stats(l), ns = stats(node);
          return ls && ns && ns->applied_index() >= ls->commit_index() &&
                 ns->item_count() == items;
        },
        30000ms);
    auto ns = stats(node);
    ASSERT_TRUE(ok) << node << " did not catch up: applied "
                    << (ns ? ns->applied_index() : 0) << ", items " << (ns ? ns->item_count() : 0)
                    << " of " << items;
  }

  static std::set<std::pair<uint64_t, bool>> members(const storage::v1::ReplicaStats& s) {
    std::set<std::pair<uint64_t, bool>> out;
    for (const auto& p : s.peers()) out.emplace(p.raft_id(), p.learner());
    return out;
  }

  fs::path dir_;
  subjects::Subjects subjects_{"shoal"};
  std::unique_ptr<nats::testing::NatsServerProcess> server_;
  std::shared_ptr<nats::Connection> client_;
  std::map<std::string, std::shared_ptr<nats::Connection>> conns_;
  std::map<std::string, std::unique_ptr<metrics::Registry>> registries_;  // outlive the nodes
  std::map<std::string, std::unique_ptr<StorageNode>> nodes_;
  std::string target_;  // where puts go first
  uint64_t compact_threshold_ = 50;
  uint64_t compact_keep_ = 10;
  size_t chunk_bytes_ = 1 << 20;
};

const std::vector<storage::v1::Peer> kGroup = {peer(1, "n1"), peer(2, "n2"), peer(3, "n3")};

TEST_F(Replication, LaggingFollowerCatchesUpThroughASnapshot) {
  for (const auto& p : kGroup) start_node(p.node_id());
  open_group(kGroup);
  ASSERT_FALSE(wait_leader().empty());
  put_range(0, 500);
  wait_caught_up("n3", 500);
  stop_node("n3");
  put_range(500, 1000);

  // The leader compacted far past what n3 holds: n3 needs an image.
  const std::string l = wait_leader();
  auto ls = stats(l);
  ASSERT_TRUE(ls);
  EXPECT_GT(ls->snapshot_index(), 600u);
  EXPECT_EQ(ls->item_count(), 1000u);

  start_node("n3");
  wait_caught_up("n3", 1000);
  auto s3 = stats("n3");
  ASSERT_TRUE(s3);
  EXPECT_GE(s3->snapshots_installed(), 1u);
  EXPECT_GT(s3->snapshot_index(), 500u);
  auto n = count_items("n3");
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 1000u);
  uint64_t sent = 0;
  for (const auto& id : {"n1", "n2"}) {
    if (auto s = stats(id)) sent += s->snapshots_sent();
  }
  EXPECT_GE(sent, 1u);

  // It keeps replicating normally afterwards.
  put_range(1000, 1020);
  wait_caught_up("n3", 1020);
  n = count_items("n3");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1020u);

  // On disk: the installed family replaced the original one. A staged family left behind by
  // a crash is dropped when the node starts.
  stop_node("n3");
  auto data_families = [&] {
    auto st = store::Store::open(store::StoreOptions{.path = (dir_ / "n3").string()});
    EXPECT_TRUE(st.ok());
    std::set<std::string> out;
    for (const auto& f : (*st)->family_names()) {
      if (f.starts_with("r/")) out.insert(f);
    }
    return out;
  };
  auto before = data_families();
  ASSERT_EQ(before.size(), 1u);
  EXPECT_TRUE(before.begin()->starts_with("r/t1.0#"));
  {
    auto st = store::Store::open(store::StoreOptions{.path = (dir_ / "n3").string()});
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE((*st)->create_family("r/t1.0#00000000000000ff").ok());
  }
  start_node("n3");
  wait_caught_up("n3", 1020);
  stop_node("n3");
  EXPECT_EQ(data_families(), before);
}

TEST_F(Replication, RestartsFromCompactedLog) {
  for (const auto& p : kGroup) start_node(p.node_id());
  open_group(kGroup);
  ASSERT_FALSE(wait_leader().empty());
  put_range(0, 300);
  for (const auto& p : kGroup) wait_caught_up(p.node_id(), 300);
  std::map<std::string, uint64_t> compacted;
  for (const auto& p : kGroup) {
    auto s = stats(p.node_id());
    ASSERT_TRUE(s);
    EXPECT_GT(s->snapshot_index(), 200u) << p.node_id();
    compacted[p.node_id()] = s->snapshot_index();
  }

  // One follower restarts from its compaction point plus the log tail.
  std::string follower = leader() == "n2" ? "n3" : "n2";
  stop_node(follower);
  start_node(follower);
  auto s = stats(follower);
  ASSERT_TRUE(s);
  EXPECT_GE(s->snapshot_index(), compacted[follower]);
  EXPECT_EQ(s->item_count(), 300u);
  EXPECT_EQ(s->snapshots_installed(), 0u);
  put_range(300, 350);
  wait_caught_up(follower, 350);

  // The whole group restarts.
  for (const auto& p : kGroup) stop_node(p.node_id());
  for (const auto& p : kGroup) start_node(p.node_id());
  ASSERT_FALSE(wait_leader().empty());
  put_range(350, 400);
  for (const auto& p : kGroup) {
    wait_caught_up(p.node_id(), 400);
    auto n = count_items(p.node_id());
    ASSERT_TRUE(n.ok()) << n.status().to_string();
    EXPECT_EQ(*n, 400u) << p.node_id();
  }
}

TEST_F(Replication, ReplacesADeadMember) {
  for (const auto& p : kGroup) start_node(p.node_id());
  open_group(kGroup);
  ASSERT_FALSE(wait_leader().empty());
  put_range(0, 200);
  stop_node("n3");

  // n4 joins as a learner (raft id 4): the leader records it, then adds it.
  const auto learner = peer(4, "n4", true);
  ASSERT_TRUE(membership(storage::v1::ADMIN_OP_ADD_LEARNER, learner).is_ok());
  ASSERT_TRUE(membership(storage::v1::ADMIN_OP_ADD_LEARNER, learner).is_ok());  // idempotent
  start_node("n4");
  open("n4", {peer(1, "n1"), peer(2, "n2"), peer(3, "n3"), learner});
  {
    auto s4 = stats("n4");
    ASSERT_TRUE(s4);
    EXPECT_FALSE(s4->leader());
  }
  // Every member knows where raft id 4 is (directory entry applied everywhere).
  const std::string l = wait_leader();
  auto ls = stats(l);
  ASSERT_TRUE(ls);
  EXPECT_EQ(members(*ls), (std::set<std::pair<uint64_t, bool>>{
                              {1, false}, {2, false}, {3, false}, {4, true}}));
  bool found = false;
  for (const auto& p : ls->replica().peers()) {
    if (p.raft_id() == 4) {
      found = true;
      EXPECT_EQ(p.node_id(), "n4");
      EXPECT_EQ(p.zone(), "zone-n4");
    }
  }
  EXPECT_TRUE(found);
  wait_caught_up("n4", 200);
  // The leader had compacted its log: the learner started from an image.
  EXPECT_GE(stats("n4")->snapshots_installed(), 1u);

  ASSERT_TRUE(membership(storage::v1::ADMIN_OP_PROMOTE, peer(4, "n4")).is_ok());
  ASSERT_TRUE(membership(storage::v1::ADMIN_OP_REMOVE_PEER, peer(3, "n3")).is_ok());
  ASSERT_TRUE(membership(storage::v1::ADMIN_OP_PROMOTE, peer(4, "n4")).is_ok());      // again
  ASSERT_TRUE(membership(storage::v1::ADMIN_OP_REMOVE_PEER, peer(3, "n3")).is_ok());  // again
  const std::set<std::pair<uint64_t, bool>> now_members = {{1, false}, {2, false}, {4, false}};
  for (const auto& id : {"n1", "n2", "n4"}) {
    EXPECT_TRUE(wait_for([&] {
      auto s = stats(id);
      return s && members(*s) == now_members;
    }, 5000ms)) << id;
  }
  put_range(200, 300);
  wait_caught_up("n4", 300);

  // The removed member comes back: it must not disturb the group (no term change).
  const uint64_t term = stats(leader())->term();
  start_node("n3");
  std::this_thread::sleep_for(3s);  // > 2 election timeouts
  put_range(300, 320);
  EXPECT_EQ(stats(leader())->term(), term);
  EXPECT_FALSE(stats("n3")->leader());
  stop_node("n3");

  // Losing the leader still leaves a majority of {n1, n2, n4}.
  const std::string old_leader = wait_leader();
  ASSERT_FALSE(old_leader.empty());
  stop_node(old_leader);
  target_.clear();
  put_range(320, 350);
  const std::string new_leader = wait_leader();
  ASSERT_FALSE(new_leader.empty());
  EXPECT_NE(new_leader, old_leader);
  for (const auto& [id, _] : nodes_) {
    wait_caught_up(id, 350);
    auto n = count_items(id);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 350u) << id;
  }
}

// Without compaction the learner replays the log from index 1; it restarts passive; removing
// a live member and then the leader itself keeps the group writable.
TEST_F(Replication, LearnerReplaysTheLogAndMembersLeaveWhileAlive) {
  compact_threshold_ = 100000;
  for (const auto& p : kGroup) start_node(p.node_id());
  open_group(kGroup);
  ASSERT_FALSE(wait_leader().empty());
  put_range(0, 100);

  const auto learner = peer(4, "n4", true);
  ASSERT_TRUE(membership(storage::v1::ADMIN_OP_ADD_LEARNER, learner).is_ok());
  start_node("n4");
  open("n4", {peer(1, "n1"), peer(2, "n2"), peer(3, "n3"), learner});
  wait_caught_up("n4", 100);
  auto s4 = stats("n4");
  ASSERT_TRUE(s4);
  EXPECT_EQ(s4->snapshots_installed(), 0u);
  EXPECT_EQ(s4->snapshot_index(), 0u);
  const std::set<std::pair<uint64_t, bool>> with_learner = {
      {1, false}, {2, false}, {3, false}, {4, true}};
  EXPECT_EQ(members(*s4), with_learner);

  // A restarted learner stays passive and keeps following.
  stop_node("n4");
  put_range(100, 120);
  start_node("n4");
  wait_caught_up("n4", 120);
  EXPECT_EQ(members(*stats("n4")), with_learner);
  EXPECT_FALSE(stats("n4")->leader());

  ASSERT_TRUE(membership(storage::v1::ADMIN_OP_PROMOTE, peer(4, "n4")).is_ok());
  // n3 leaves while running: it keeps its replica (until dropped) and must not disturb.
  ASSERT_TRUE(membership(storage::v1::ADMIN_OP_REMOVE_PEER, peer(3, "n3")).is_ok());
  const uint64_t term = stats(wait_leader())->term();
  std::this_thread::sleep_for(3s);
  put_range(120, 140);
  EXPECT_EQ(stats(wait_leader())->term(), term);
  // (n3 may never see its own removal: the leader stops replicating to it as soon as the
  // change is appended. It stays a follower that cannot win: its log lacks the removal.)
  EXPECT_FALSE(stats("n3")->leader());
  storage::v1::AdminRequest drop;
  drop.set_op(storage::v1::ADMIN_OP_DROP_REPLICA);
  drop.mutable_replica()->set_partition_id(kPid);
  auto r = admin("n3", drop);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status().code(), common::v1::CODE_OK);
  EXPECT_FALSE(stats("n3"));
  stop_node("n3");

  // The leader removes itself: it hands over and the other two go on.
  const std::string l = wait_leader();
  uint64_t leader_id = 0;
  auto ls = stats(l);
  ASSERT_TRUE(ls);
  for (const auto& p : ls->peers()) {
    if (p.node_id() == l) leader_id = p.raft_id();
  }
  ASSERT_NE(leader_id, 0u);
  ASSERT_TRUE(membership(storage::v1::ADMIN_OP_REMOVE_PEER, peer(leader_id, l)).is_ok());
  target_.clear();
  put_range(140, 160);
  const std::string next = wait_leader();
  ASSERT_FALSE(next.empty());
  EXPECT_NE(next, l);
  for (const auto& [id, _] : nodes_) {
    if (id == l) continue;
    wait_caught_up(id, 160);
    EXPECT_EQ(stats(id)->peers_size(), 2) << id;
  }
}

// Admin answers of membership ops on a replica that does not lead, and refused changes.
TEST_F(Replication, MembershipOpsAnswerStaleRouteOffTheLeader) {
  compact_threshold_ = 10000;
  for (const auto& p : kGroup) start_node(p.node_id());
  open_group(kGroup);
  const std::string l = wait_leader();
  ASSERT_FALSE(l.empty());
  std::string follower = l == "n1" ? "n2" : "n1";
  storage::v1::AdminRequest req;
  req.set_op(storage::v1::ADMIN_OP_PROMOTE);
  req.mutable_replica()->set_partition_id(kPid);
  *req.mutable_peer() = peer(9, "n9");
  auto r = admin(follower, req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status().code(), common::v1::CODE_STALE_ROUTE);
  EXPECT_EQ(r->leader_node_id(), l);
  // Promoting a stranger is refused by the leader.
  r = admin(l, req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status().code(), common::v1::CODE_FAILED_PRECONDITION);
  // Removing a non-member is already in force.
  req.set_op(storage::v1::ADMIN_OP_REMOVE_PEER);
  r = admin(l, req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status().code(), common::v1::CODE_OK);
  // Unknown partition.
  req.mutable_replica()->set_partition_id("nope");
  r = admin(l, req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status().code(), common::v1::CODE_STALE_ROUTE);
}

// A larger image in many chunks; prints the transfer rate.
TEST_F(Replication, StreamsALargeImageInChunks) {
  for (const auto& p : kGroup) start_node(p.node_id());
  open_group(kGroup);
  ASSERT_FALSE(wait_leader().empty());
  stop_node("n3");
  // ~40 MB with 20 KB items (SHOAL_TEST_IMAGE_ITEMS / SHOAL_TEST_IMAGE_ITEM_BYTES to measure
  // other shapes).
  auto env_int = [](const char* name, int dflt) {
    const char* v = std::getenv(name);
    return v ? std::atoi(v) : dflt;
  };
  const int kItems = env_int("SHOAL_TEST_IMAGE_ITEMS", 2000);
  const int kItemBytes = env_int("SHOAL_TEST_IMAGE_ITEM_BYTES", 20000);
  put_range(0, kItems, static_cast<size_t>(kItemBytes));
  const auto start = Clock::now();
  start_node("n3");
  wait_caught_up("n3", kItems);
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  auto s3 = stats("n3");
  ASSERT_TRUE(s3);
  EXPECT_GE(s3->snapshots_installed(), 1u);
  std::printf("catch-up of %d items (~%.0f MB) through a snapshot: %.2f s\n", kItems,
              kItems * double(kItemBytes) / (1 << 20), secs);
  auto n = count_items("n3");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, static_cast<uint64_t>(kItems));
}

// A member that has not applied a split when metadata opens the split's child on it (it was
// far behind, or got its parent from an image past the split) gets the child's items from
// the child's leader; when it applies the split later, the parent only gives up the range
// and drops its own copy of the child's items.
TEST_F(Replication, ASplitAppliedWhereItsChildIsAlreadyOpen) {
  constexpr const char* kChild = "t1.1";
  for (const auto& p : kGroup) start_node(p.node_id());
  open_group(kGroup);
  ASSERT_FALSE(wait_leader().empty());
  put_range(0, 200);
  wait_caught_up("n3", 200);
  stop_node("n3");

  auto stats_of = [&](const std::string& node, const std::string& pid)
      -> std::optional<storage::v1::ReplicaStats> {
    storage::v1::AdminRequest req;
    req.set_op(storage::v1::ADMIN_OP_STATS);
    auto r = admin(node, req, 2000ms);
    if (!r.ok()) return std::nullopt;
    for (const auto& s : r->replicas())
      if (s.replica().partition_id() == pid) return s;
    return std::nullopt;
  };
  // The split, on n1 and n2 only.
  storage::v1::AdminRequest split;
  split.set_op(storage::v1::ADMIN_OP_SPLIT);
  split.mutable_replica()->set_partition_id(kPid);
  split.set_new_partition_id(kChild);
  uint64_t m = 0;
  ASSERT_TRUE(wait_for([&] {
    auto r = admin(wait_leader(), split);
    if (!r.ok() || !from_proto(r->status()).is_ok()) return false;
    m = r->split_hash();
    return true;
  }, 20000ms));
  ASSERT_GT(m, 0u);
  ASSERT_TRUE(wait_for([&] { return stats_of("n1", kChild) && stats_of("n2", kChild); }, 10000ms));
  ASSERT_TRUE(wait_for([&] {
    auto a = stats_of("n1", kPid), b = stats_of("n2", kPid);
    return a && b && a->applied_index() == b->applied_index() && b->replica().hash_hi() == m - 1;
  }, 10000ms));
  const uint64_t parent_items = stats_of("n1", kPid)->item_count();
  const uint64_t child_items = stats_of("n1", kChild)->item_count();
  ASSERT_EQ(parent_items + child_items, 200u);
  ASSERT_GT(child_items, 0u);

  // n3 comes back alone: it cannot hear of the split; the child is opened on it, empty
  // (metadata re-creates a member's missing replica under a new raft id; the storage side of
  // a split meeting an open child is the same).
  stop_node("n1");
  stop_node("n2");
  start_node("n3");
  storage::v1::AdminRequest open;
  open.set_op(storage::v1::ADMIN_OP_OPEN_REPLICA);
  auto* d = open.mutable_replica();
  d->set_table_id(kTable);
  d->set_partition_id(kChild);
  d->set_hash_lo(m);
  d->set_hash_hi(UINT64_MAX);
  for (const auto& p : kGroup) *d->add_peers() = p;
  auto r = admin("n3", open);
  ASSERT_TRUE(r.ok() && from_proto(r->status()).is_ok()) << r.status().to_string();
  ASSERT_EQ(stats_of("n3", kPid)->replica().hash_hi(), UINT64_MAX) << "applied the split already";

  // The others return: n3 gets the child's items from its leader and then applies the split.
  start_node("n1");
  start_node("n2");
  ASSERT_TRUE(wait_for([&] {
    auto p3 = stats_of("n3", kPid), c3 = stats_of("n3", kChild);
    return p3 && c3 && p3->replica().hash_hi() == m - 1 && p3->item_count() == parent_items &&
           c3->item_count() == child_items;
  }, 30000ms)) << "n3 parent items " << stats_of("n3", kPid)->item_count() << ", child items "
               << stats_of("n3", kChild)->item_count();
  auto c1 = stats_of("n1", kChild), c3 = stats_of("n3", kChild);
  EXPECT_EQ(c3->size_bytes(), c1->size_bytes());
  EXPECT_EQ(stats_of("n3", kPid)->size_bytes(), stats_of("n1", kPid)->size_bytes());
  // And n3's child is a working member: with n1 gone, n2 and n3 still elect and serve it.
  stop_node("n1");
  ASSERT_TRUE(wait_for([&] {
    auto a = stats_of("n2", kChild), b = stats_of("n3", kChild);
    return (a && a->leader()) || (b && b->leader());
  }, 15000ms));
}

// ADMIN_OP_TRANSFER_LEADER: answered once the target leads; a target that cannot catch up
// (its node is down) makes the leader give up after an election timeout and keep leading.
TEST_F(Replication, TransfersLeadershipToAVoter) {
  for (const auto& p : kGroup) start_node(p.node_id());
  open_group(kGroup);
  const std::string first = wait_leader();
  ASSERT_FALSE(first.empty());
  put_range(0, 20);
  auto transfer = [&](const std::string& to_node) {
    storage::v1::AdminRequest req;
    req.set_op(storage::v1::ADMIN_OP_TRANSFER_LEADER);
    req.mutable_replica()->set_partition_id(kPid);
    for (const auto& p : kGroup)
      if (p.node_id() == to_node) *req.mutable_peer() = p;
    auto r = admin(wait_leader(), req);
    return r.ok() ? from_proto(r->status()) : r.status();
  };
  // To itself: nothing to do.
  EXPECT_TRUE(transfer(first).is_ok());
  // To a live follower: it leads when the answer comes.
  const std::string to = first == "n1" ? "n2" : "n1";
  Status s = transfer(to);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(leader(), to);
  ASSERT_TRUE(put(100).is_ok());
  // To a follower that is down: abandoned, the leader stays.
  const std::string down = first != "n3" && to != "n3" ? "n3" : (first != "n2" && to != "n2" ? "n2" : "n1");
  stop_node(down);
  s = transfer(down);
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.to_string();
  EXPECT_NE(s.message().find("abandoned"), std::string::npos) << s.to_string();
  EXPECT_EQ(leader(), to);
  ASSERT_TRUE(put(101).is_ok());
  // Not a member: refused.
  storage::v1::AdminRequest req;
  req.set_op(storage::v1::ADMIN_OP_TRANSFER_LEADER);
  req.mutable_replica()->set_partition_id(kPid);
  *req.mutable_peer() = peer(9, "n9");
  auto r = admin(to, req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(from_proto(r->status()).code(), Code::kFailedPrecondition) << r->status().message();
}

TEST_F(Replication, ExportsNodeAndReplicaMetrics) {
  using metrics::testing::histogram_count;
  using metrics::testing::series;
  using metrics::testing::value;
  compact_threshold_ = 0;  // the stopped follower below stays behind in the log
  for (const auto& p : kGroup) start_node(p.node_id());
  open_group(kGroup);
  const std::string l = wait_leader();
  ASSERT_FALSE(l.empty());
  put_range(0, 200);
  for (const auto& p : kGroup) wait_caught_up(p.node_id(), 200);

  const metrics::Labels replica = {{"table_id", kTable}, {"partition", kPid}};
  double led = 0;
  std::set<double> sizes;  // exact (key + value bytes, applied alike): one value on every replica
  for (const auto& p : kGroup) {
    const auto& reg = *registries_.at(p.node_id());
    EXPECT_EQ(value(reg, "shoal_storage_partitions"), 1.0) << p.node_id();
    led += value(reg, "shoal_storage_partitions_led").value_or(-1);
    EXPECT_EQ(value(reg, "shoal_storage_replica_items", replica), 200.0) << p.node_id();
    // 200 items of ~110 bytes.
    EXPECT_TRUE(wait_for(
        [&] { return value(reg, "shoal_storage_replica_size_bytes", replica).value_or(0) > 10000; },
        5000ms))
        << p.node_id() << " size " << value(reg, "shoal_storage_replica_size_bytes", replica).value_or(-1);
    sizes.insert(value(reg, "shoal_storage_replica_size_bytes", replica).value_or(-1));
    EXPECT_TRUE(value(reg, "shoal_storage_raft_elections_total", replica).has_value());
  }
  EXPECT_EQ(led, 1.0);
  EXPECT_EQ(sizes.size(), 1u);
  const auto& lreg = *registries_.at(l);
  EXPECT_EQ(value(lreg, "shoal_storage_partitions_led"), 1.0);
  // The designated first leader campaigned: an election of its own.
  EXPECT_GE(value(lreg, "shoal_storage_raft_elections_total", replica).value_or(0), 1.0);
  // Every put was answered by the leader once committed (a put sent to a follower first was
  // also answered there, with a redirect, and timed there).
  EXPECT_GE(histogram_count(lreg, "shoal_storage_request_duration_seconds", {{"op", "put"}}), 200u);
  for (const char* op : {"get", "delete", "query", "scan", "update"}) {
    EXPECT_EQ(histogram_count(lreg, "shoal_storage_request_duration_seconds", {{"op", op}}), 0u)
        << op;
  }
  ASSERT_TRUE(count_items(l).ok());
  EXPECT_GE(histogram_count(lreg, "shoal_storage_request_duration_seconds", {{"op", "scan"}}), 1u);

  // Replication lag: the leader exports one series per other member, caught up now.
  std::vector<std::string> followers;
  for (const auto& p : kGroup) {
    if (p.node_id() != l) followers.push_back(p.node_id());
  }
  auto lag = [&](const std::string& peer) {
    metrics::Labels labels = replica;
    labels["peer"] = peer;
    return value(lreg, "shoal_storage_raft_replication_lag_entries", labels);
  };
  EXPECT_TRUE(wait_for([&] { return lag(followers[0]) == 0.0 && lag(followers[1]) == 0.0; },
                       5000ms))
      << lag(followers[0]).value_or(-1) << " " << lag(followers[1]).value_or(-1);
  EXPECT_EQ(series(lreg, "shoal_storage_raft_replication_lag_entries").size(), 2u);
  for (const auto& f : followers) {
    EXPECT_TRUE(series(*registries_.at(f), "shoal_storage_raft_replication_lag_entries").empty())
        << "follower " << f << " exports lag";
  }

  // A stopped follower falls behind by what the leader appends meanwhile; its node's series
  // are gone with it.
  const std::string gone = followers[1];
  stop_node(gone);
  EXPECT_TRUE(series(*registries_.at(gone), "shoal_storage_replica_items").empty());
  EXPECT_FALSE(value(*registries_.at(gone), "shoal_storage_partitions").has_value());
  put_range(200, 230);
  EXPECT_TRUE(wait_for([&] { return lag(gone).value_or(0) >= 30; }, 5000ms))
      << lag(gone).value_or(-1);
  EXPECT_TRUE(wait_for([&] { return lag(followers[0]) == 0.0; }, 5000ms));

  // A dropped replica takes its series along.
  storage::v1::AdminRequest drop;
  drop.set_op(storage::v1::ADMIN_OP_DROP_REPLICA);
  drop.mutable_replica()->set_partition_id(kPid);
  auto r = admin(followers[0], drop);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_TRUE(from_proto(r->status()).is_ok()) << r->status().message();
  const auto& freg = *registries_.at(followers[0]);
  EXPECT_EQ(value(freg, "shoal_storage_partitions"), 0.0);
  EXPECT_EQ(value(freg, "shoal_storage_partitions_led"), 0.0);
  for (const char* name : {"shoal_storage_replica_items", "shoal_storage_replica_size_bytes",
                           "shoal_storage_raft_elections_total", "shoal_storage_raft_term"}) {
    EXPECT_TRUE(series(freg, name).empty()) << name;
  }
}

}  // namespace
}  // namespace shoal::storage
