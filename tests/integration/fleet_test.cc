// The whole data path in one process: nats-server (child process), metadata, three storage
// nodes in zones a/b/c, the router behind the Beast HTTP server; requests over real HTTP.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <functional>
#include <memory>
#include <thread>

#include "shoal/auth/sigv4.h"
#include "shoal/http/admin.h"
#include "shoal/http/client.h"
#include "shoal/http/server.h"
#include "shoal/meta/v1/meta.pb.h"
#include "shoal/metadata/service.h"
#include "shoal/metrics/testing.h"
#include "shoal/nats/testing.h"
#include "shoal/router/router.h"
#include "shoal/storage/node.h"
#include "shoal/storage/v1/storage.pb.h"

namespace shoal {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::shared_ptr<nats::Connection> connect(const std::string& url, const std::string& name) {
  nats::Options o;
  o.url = url;
  o.name = name;
  auto c = nats::Connection::connect(o);
  if (!c.ok()) throw std::runtime_error(c.status().to_string());
  return *c;
}

class Fleet : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("shoal-it-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    server_ = std::make_unique<nats::testing::NatsServerProcess>();
    subjects::Subjects subjects("shoal");

    metadata::MetadataOptions mo;
    mo.data_dir = (dir_ / "meta").string();
    mo.node_timeout = 3000ms;
    mo.reopen_missing_after = 1500ms;
    mo.access_keys = {{"it-key", "it-secret"}};
    meta_nats_ = connect(server_->url(), "meta");
    meta_ = std::make_unique<metadata::MetadataService>(meta_nats_, subjects, mo, &registry_);
    ASSERT_TRUE(meta_->start().is_ok());

    for (int i = 0; i < 3; ++i) start_node(i);

    router_nats_ = connect(server_->url(), "router");
    router_ = std::make_unique<router::Router>(router_nats_, subjects, router::RouterOptions{},
                                               &registry_);
    ASSERT_TRUE(router_->start().is_ok());
    http::ServerOptions ho;
    ho.address = "127.0.0.1";
    ho.port = 0;
    http_ = std::make_unique<http::Server>(ho, [this](http::Request&& q, http::Responder r) {
      router_->handle(std::move(q), std::move(r));
    });
    ASSERT_TRUE(http_->start().is_ok());
    client_ = std::make_unique<http::Client>("127.0.0.1", http_->port());
    wait_for_nodes();
  }

  void TearDown() override {
    client_.reset();
    if (http_) http_->stop();
    router_.reset();
    for (auto& n : nodes_) {
      if (n) n->stop();
    }
    nodes_.clear();
    if (meta_) meta_->stop();
    meta_.reset();
    for (auto& c : {router_nats_, meta_nats_}) {
      if (c) c->close();
    }
    for (auto& c : node_nats_) {
      if (c) c->close();
    }
    server_.reset();
    fs::remove_all(dir_);
  }

  void start_node(int i) {
    if (nodes_.size() <= static_cast<size_t>(i)) {
      nodes_.resize(i + 1);
      node_nats_.resize(i + 1);
    }
    storage::NodeOptions no;
    no.node_id = "n" + std::to_string(i + 1);
    no.zone = std::string("zone-") + static_cast<char>('a' + i);
    no.data_dir = (dir_ / no.node_id).string();
    no.heartbeat_interval = 200ms;
    if (!node_nats_[i]) {
      node_nats_[i] = connect(server_->url(), no.node_id);
      node_nats_[i]->register_metrics(node_registries_[i]);  // as the service's main() does
    }
    nodes_[i] = std::make_unique<storage::StorageNode>(node_nats_[i], subjects::Subjects("shoal"),
                                                       no, &node_registries_[i]);
    ASSERT_TRUE(nodes_[i]->start().is_ok());
  }

  void stop_node(int i) {
    nodes_[i]->stop();
    nodes_[i].reset();
  }

  // Metadata learns of nodes through heartbeats; creating a table needs three zones.
  void wait_for_nodes() {
    for (int i = 0; i < 100; ++i) {
      auto r = call("ListTables", "{}");
      if (r.status == 200) {
        auto c = call("CreateTable", table_json("probe"));
        if (c.status == 200) {
          (void)call("DeleteTable", R"({"TableName":"probe"})");
          return;
        }
      }
      std::this_thread::sleep_for(100ms);
    }
    FAIL() << "fleet did not become ready";
  }

  static std::string table_json(const std::string& name) {
    return R"({"TableName":")" + name +
           R"(","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},)"
           R"({"AttributeName":"sk","AttributeType":"N"}],)"
           R"("KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},)"
           R"({"AttributeName":"sk","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST"})";
  }

  struct Reply {
    int status = 0;
    rapidjson::Document json;
    std::string body;
  };

  Reply call(const std::string& op, const std::string& body) { return call_with(*client_, op, body); }

  Reply call_with(http::Client& client, const std::string& op, const std::string& body) {
    // Signed with SigV4 like an SDK does, with a key metadata holds.
    http::Request req;
    req.method = "POST";
    req.target = "/";
    req.body = body;
    req.headers.add("Host", "127.0.0.1:" + std::to_string(http_->port()));
    req.headers.add("X-Amz-Target", "DynamoDB_20120810." + op);
    req.headers.add("Content-Type", "application/x-amz-json-1.0");
    auth::sign(req, {"it-key", "it-secret"}, "us-east-1", "dynamodb",
               std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
    http::Fields h;
    for (size_t i = 0; i < req.headers.size(); ++i) {
      h.emplace_back(std::string(req.headers[i].first), std::string(req.headers[i].second));
    }
    Reply out;
    auto r = client.post("/", h, body);
    if (!r.ok()) {
      out.status = -1;
      out.body = r.status().to_string();
      return out;
    }
    out.status = r->status;
    out.body = r->body;
    out.json.Parse(out.body.c_str());
    return out;
  }

  void wait_active(const std::string& name) {
    for (int i = 0; i < 100; ++i) {
      auto r = call("DescribeTable", R"({"TableName":")" + name + R"("})");
      ASSERT_EQ(r.status, 200) << r.body;
      if (std::string(r.json["Table"]["TableStatus"].GetString()) == "ACTIVE") return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "table " << name << " never became ACTIVE";
  }

  static std::string item_json(int i) {
    return R"({"pk":{"S":"user-)" + std::to_string(i) + R"("},"sk":{"N":")" +
           std::to_string(i) + R"(.5"},"n":{"N":"12345678901234567890123456789012345678"},)"
           R"("m":{"M":{"l":{"L":[{"BOOL":true},{"NULL":true},{"SS":["a","b"]}]}}}})";
  }

  fs::path dir_;
  std::unique_ptr<nats::testing::NatsServerProcess> server_;
  metrics::Registry registry_;
  metrics::Registry node_registries_[3];
  std::shared_ptr<nats::Connection> meta_nats_, router_nats_;
  std::vector<std::shared_ptr<nats::Connection>> node_nats_;
  std::unique_ptr<metadata::MetadataService> meta_;
  std::vector<std::unique_ptr<storage::StorageNode>> nodes_;
  std::unique_ptr<router::Router> router_;
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<http::Client> client_;
};

TEST_F(Fleet, CreatePutGetDeleteThroughEveryComponent) {
  auto c = call("CreateTable", table_json("tbl1"));
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_STREQ(c.json["TableDescription"]["TableStatus"].GetString(), "CREATING");
  wait_active("tbl1");

  for (int i = 0; i < 50; ++i) {
    auto p = call("PutItem", R"({"TableName":"tbl1","Item":)" + item_json(i) + "}");
    ASSERT_EQ(p.status, 200) << p.body;
  }
  for (int i = 0; i < 50; ++i) {
    auto g = call("GetItem", R"({"TableName":"tbl1","ConsistentRead":true,"Key":{"pk":{"S":"user-)" +
                                 std::to_string(i) + R"("},"sk":{"N":")" + std::to_string(i) +
                                 R"(.5"}}})");
    ASSERT_EQ(g.status, 200) << g.body;
    ASSERT_TRUE(g.json.HasMember("Item")) << g.body;
    rapidjson::Document want;
    want.Parse(item_json(i).c_str());
    EXPECT_TRUE(g.json["Item"] == want) << g.body;
  }
  auto d = call("DeleteItem", R"({"TableName":"tbl1","Key":{"pk":{"S":"user-0"},"sk":{"N":"0.5"}},)"
                              R"("ReturnValues":"ALL_OLD"})");
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_TRUE(d.json.HasMember("Attributes"));
  auto g = call("GetItem", R"({"TableName":"tbl1","Key":{"pk":{"S":"user-0"},"sk":{"N":"0.5"}}})");
  ASSERT_EQ(g.status, 200);
  EXPECT_FALSE(g.json.HasMember("Item")) << g.body;
}

// What the dashboards read: the router's capacity counters (whether or not the client asked
// for ConsumedCapacity), metadata's catalog gauges, the storage nodes' partition counts and
// request timings, NATS traffic, scraped over HTTP like Prometheus does.
TEST_F(Fleet, MetricsFollowRequests) {
  using metrics::testing::histogram_count;
  using metrics::testing::series;
  using metrics::testing::value;
  auto eventually = [](const std::function<bool()>& pred) {
    for (int i = 0; i < 100 && !pred(); ++i) std::this_thread::sleep_for(100ms);
    return pred();
  };
  ASSERT_EQ(call("CreateTable", table_json("mtab")).status, 200);
  std::string provisioned = table_json("mprov");
  provisioned.replace(provisioned.find(R"("BillingMode":"PAY_PER_REQUEST")"),
                      std::string(R"("BillingMode":"PAY_PER_REQUEST")").size(),
                      R"("BillingMode":"PROVISIONED","ProvisionedThroughput":)"
                      R"({"ReadCapacityUnits":5,"WriteCapacityUnits":7})");
  auto c = call("CreateTable", provisioned);
  ASSERT_EQ(c.status, 200) << c.body;
  wait_active("mtab");
  wait_active("mprov");
  std::vector<double> node_in(3);
  for (int n = 0; n < 3; ++n) {
    node_in[n] = value(node_registries_[n], "shoal_nats_messages_total", {{"direction", "in"}})
                     .value_or(-1);
  }

  auto key = [](int i) {
    return R"({"pk":{"S":"user-)" + std::to_string(i) + R"("},"sk":{"N":")" + std::to_string(i) +
           R"(.5"}})";
  };
  for (int i = 0; i < 10; ++i) {  // items well under 1 KB: one write unit each
    ASSERT_EQ(call("PutItem", R"({"TableName":"mtab","Item":)" + item_json(i) + "}").status, 200);
  }
  for (int i = 0; i < 10; ++i) {  // eventually consistent reads of items under 4 KB: 0.5 each
    ASSERT_EQ(call("GetItem", R"({"TableName":"mtab","Key":)" + key(i) + "}").status, 200);
  }
  for (int i = 0; i < 4; ++i) {  // strongly consistent: 1 each; a missing item costs as much
    ASSERT_EQ(call("GetItem", R"({"TableName":"mtab","ConsistentRead":true,"Key":)" + key(100 + i) +
                                  R"(,"ReturnConsumedCapacity":"TOTAL"})")
                  .status,
              200);
  }
  // A failed condition consumes a write unit too, as in DynamoDB.
  auto f = call("PutItem", R"({"TableName":"mtab","Item":)" + item_json(0) +
                               R"x(,"ConditionExpression":"attribute_not_exists(pk)"})x");
  ASSERT_EQ(f.status, 400) << f.body;
  ASSERT_EQ(call("Query", R"({"TableName":"mtab","KeyConditionExpression":"pk = :p",)"
                          R"("ExpressionAttributeValues":{":p":{"S":"user-1"}}})")
                .status,
            200);  // one item, eventually consistent: 0.5

  auto units = [&](const std::string& table, const std::string& kind) {
    return value(registry_, "shoal_router_consumed_capacity_units_total",
                 {{"table", table}, {"kind", kind}});
  };
  EXPECT_EQ(units("mtab", "write"), 11.0);
  EXPECT_EQ(units("mtab", "read"), 10 * 0.5 + 4 * 1.0 + 0.5);
  EXPECT_FALSE(units("nope", "read").has_value());

  // The same over HTTP, as Prometheus scrapes it.
  http::AdminServer admin(0, &registry_, {}, "127.0.0.1");
  ASSERT_TRUE(admin.start().is_ok());
  auto scrape = http::Client("127.0.0.1", admin.port()).get("/metrics");
  ASSERT_TRUE(scrape.ok()) << scrape.status().to_string();
  EXPECT_NE(scrape->body.find(
                "shoal_router_consumed_capacity_units_total{kind=\"write\",table=\"mtab\"} 11\n"),
            std::string::npos)
      << scrape->body;
  EXPECT_NE(scrape->body.find(
                "shoal_router_consumed_capacity_units_total{kind=\"read\",table=\"mtab\"} 9.5\n"),
            std::string::npos);
  EXPECT_NE(scrape->body.find("# TYPE shoal_metadata_partitions gauge\n"), std::string::npos);
  admin.stop();

  // Metadata (the only replica leads): its catalog, as gauges.
  const auto catalog = meta_->applied_catalog();
  const double mt_partitions = catalog.at("mtab").partitions_size();
  const double mtp_partitions = catalog.at("mprov").partitions_size();
  ASSERT_GT(mt_partitions, 0);
  EXPECT_TRUE(eventually([&] {
    return value(registry_, "shoal_metadata_partitions", {{"table", "mtab"}}) == mt_partitions &&
           value(registry_, "shoal_metadata_partitions", {{"table", "mprov"}}) == mtp_partitions;
  }));
  auto provisioned_units = [&](const std::string& table, const std::string& kind) {
    return value(registry_, "shoal_metadata_table_provisioned_capacity_units",
                 {{"table", table}, {"kind", kind}});
  };
  EXPECT_EQ(provisioned_units("mtab", "read"), 0.0);
  EXPECT_EQ(provisioned_units("mtab", "write"), 0.0);
  EXPECT_EQ(provisioned_units("mprov", "read"), 5.0);
  EXPECT_EQ(provisioned_units("mprov", "write"), 7.0);
  EXPECT_EQ(value(registry_, "shoal_metadata_raft_leader"), 1.0);
  EXPECT_EQ(value(registry_, "shoal_metadata_nodes_alive"), 3.0);

  // Storage: every replica of both tables, one partition leader each, requests timed.
  auto node_sum = [&](const std::string& name) {
    double sum = 0;
    for (auto& r : node_registries_) sum += value(r, name).value_or(0);
    return sum;
  };
  // Every partition of the catalog (the fixture's probe table may still be there: its
  // DeleteTable is refused while it is CREATING).
  auto catalog_partitions = [&] {
    double n = 0;
    for (const auto& [_, t] : meta_->applied_catalog()) n += t.partitions_size();
    return n;
  };
  EXPECT_TRUE(eventually(
      [&] { return node_sum("shoal_storage_partitions") == 3 * catalog_partitions(); }))
      << node_sum("shoal_storage_partitions") << " replicas hosted, want "
      << 3 * catalog_partitions();
  EXPECT_TRUE(eventually(
      [&] { return node_sum("shoal_storage_partitions_led") == catalog_partitions(); }))
      << node_sum("shoal_storage_partitions_led") << " led";
  uint64_t puts = 0, gets = 0;
  for (int n = 0; n < 3; ++n) {
    puts += histogram_count(node_registries_[n], "shoal_storage_request_duration_seconds",
                            {{"op", "put"}})
                .value_or(0);
    gets += histogram_count(node_registries_[n], "shoal_storage_request_duration_seconds",
                            {{"op", "get"}})
                .value_or(0);
    EXPECT_GT(value(node_registries_[n], "shoal_nats_messages_total", {{"direction", "in"}})
                  .value_or(0),
              node_in[n])
        << "node " << n;
    EXPECT_EQ(value(node_registries_[n], "shoal_nats_connected"), 1.0);
  }
  EXPECT_GE(puts, 11u);
  EXPECT_GE(gets, 14u);

  // A deleted table's catalog series go with it.
  ASSERT_EQ(call("DeleteTable", R"({"TableName":"mprov"})").status, 200);
  EXPECT_TRUE(eventually([&] {
    return !value(registry_, "shoal_metadata_partitions", {{"table", "mprov"}}).has_value() &&
           !provisioned_units("mprov", "read").has_value();
  }));
  EXPECT_TRUE(eventually([&] {
    return !meta_->applied_catalog().count("mprov") &&
           node_sum("shoal_storage_partitions") == 3 * catalog_partitions();
  })) << node_sum("shoal_storage_partitions") << " replicas hosted";
}

TEST_F(Fleet, ItemsSurviveStorageNodeRestart) {
  ASSERT_EQ(call("CreateTable", table_json("tbl2")).status, 200);
  wait_active("tbl2");
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(call("PutItem", R"({"TableName":"tbl2","Item":)" + item_json(i) + "}").status, 200);
  }
  // Restart every node on its data directory; replicas recover from RocksDB.
  for (int n = 0; n < 3; ++n) {
    stop_node(n);
    start_node(n);
  }
  for (int i = 0; i < 40; ++i) {
    Reply g;
    for (int attempt = 0; attempt < 50; ++attempt) {  // until the router sees the node again
      g = call("GetItem", R"({"TableName":"tbl2","Key":{"pk":{"S":"user-)" + std::to_string(i) +
                              R"("},"sk":{"N":")" + std::to_string(i) + R"(.5"}}})");
      if (g.status == 200) break;
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(g.status, 200) << g.body;
    ASSERT_TRUE(g.json.HasMember("Item")) << "item " << i << " lost: " << g.body;
  }
}

TEST_F(Fleet, WrongSecretIsInvalidSignature) {
  http::Request req;
  req.method = "POST";
  req.target = "/";
  req.body = "{}";
  req.headers.add("Host", "127.0.0.1:" + std::to_string(http_->port()));
  req.headers.add("X-Amz-Target", "DynamoDB_20120810.ListTables");
  auth::sign(req, {"it-key", "not-the-secret"}, "us-east-1", "dynamodb",
             std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
  http::Fields h;
  for (size_t i = 0; i < req.headers.size(); ++i) {
    h.emplace_back(std::string(req.headers[i].first), std::string(req.headers[i].second));
  }
  auto r = client_->post("/", h, req.body);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  rapidjson::Document d;
  d.Parse(r->body.c_str());
  ASSERT_TRUE(d.IsObject()) << r->body;
  EXPECT_STREQ(d["__type"].GetString(), "com.amazon.coral.service#InvalidSignatureException");
}

TEST_F(Fleet, UnknownTableIsResourceNotFound) {
  auto g = call("GetItem", R"({"TableName":"nope","Key":{"pk":{"S":"x"}}})");
  EXPECT_EQ(g.status, 400);
  ASSERT_TRUE(g.json.IsObject()) << g.body;
  EXPECT_STREQ(g.json["__type"].GetString(),
               "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException");
  EXPECT_STREQ(g.json["message"].GetString(), "Requested resource not found");
}

}  // namespace
}  // namespace shoal

namespace shoal {
namespace {

class SplitFleet : public Fleet {
 protected:
  meta::v1::Table describe(const std::string& name) {
    meta::v1::DescribeTableRequest req;
    req.set_name(name);
    auto r = meta_nats_->request_sync(subjects::Subjects("shoal").meta_rpc(subjects::Subjects::kDescribeTable),
                                      req.SerializeAsString(), 3s);
    meta::v1::DescribeTableResponse resp;
    if (!r.ok() || !resp.ParseFromString(*r)) return {};
    return resp.table();
  }

  meta::v1::SplitPartitionResponse split(const std::string& table, const std::string& partition,
                                         uint64_t at = 0) {
    meta::v1::SplitPartitionRequest req;
    req.set_table_name(table);
    req.set_partition_id(partition);
    req.set_split_hash(at);
    req.set_reason("test");
    meta::v1::SplitPartitionResponse resp;
    auto r = meta_nats_->request_sync(
        subjects::Subjects("shoal").meta_rpc(subjects::Subjects::kSplitPartition),
        req.SerializeAsString(), 3s);
    if (r.ok()) resp.ParseFromString(*r);
    return resp;
  }

  // Splits every partition of `table` once and waits until the catalog shows them all.
  void split_all(const std::string& table) {
    const auto before = describe(table);
    int planned = 0;
    for (const auto& p : before.partitions()) {
      auto r = split(table, p.partition_id());
      ASSERT_EQ(r.status().code(), common::v1::CODE_OK) << r.status().message();
      ++planned;
    }
    for (int i = 0; i < 200; ++i) {
      auto t = describe(table);
      bool under_way = false;
      for (const auto& p : t.partitions()) under_way |= !p.split().new_partition_id().empty();
      if (!under_way && t.partitions_size() == before.partitions_size() + planned) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "splits of " << table << " did not finish";
  }

  static std::string key_json(int i) {
    return R"({"pk":{"S":"user-)" + std::to_string(i) + R"("},"sk":{"N":")" + std::to_string(i) +
           R"(.5"}})";
  }
};

// Splits while clients write and read: nothing fails, nothing is lost, a paginated Scan that
// runs across the splits returns each item exactly once, and the result survives restarts.
TEST_F(SplitFleet, SplitsUnderLoadLoseNothing) {
  { auto c = call("CreateTable", table_json("spl")); ASSERT_EQ(c.status, 200) << c.body; }
  wait_active("spl");
  const int initial = 300;
  for (int i = 0; i < initial; ++i) {
    ASSERT_EQ(call("PutItem", R"({"TableName":"spl","Item":)" + item_json(i) + "}").status, 200);
  }
  ASSERT_EQ(describe("spl").partitions_size(), 2);

  // A writer and a reader run throughout; every non-200 answer is a client-visible error.
  std::atomic<bool> stop{false};
  std::atomic<int> written{initial}, errors{0};
  std::string last_error;
  std::mutex error_mu;
  auto note_error = [&](const Reply& r) {
    ++errors;
    std::lock_guard lock(error_mu);
    last_error = std::to_string(r.status) + " " + r.body;
  };
  std::thread writer([&] {
    http::Client c("127.0.0.1", http_->port());
    for (int i = initial; !stop; ++i) {
      auto r = call_with(c, "PutItem", R"({"TableName":"spl","Item":)" + item_json(i) + "}");
      if (r.status != 200) note_error(r);
      else written = i + 1;
    }
  });
  std::thread reader([&] {
    http::Client c("127.0.0.1", http_->port());
    for (int n = 0; !stop; ++n) {
      const int i = n % initial;
      auto r = call_with(c, "GetItem", R"({"TableName":"spl","ConsistentRead":true,"Key":)" +
                                           key_json(i) + "}");
      if (r.status != 200 || !r.json.HasMember("Item")) note_error(r);
    }
  });

  // Split every partition three times (2 -> 16) while a paginated Scan walks the table.
  std::map<std::string, int> seen;
  std::string start_key;
  int pages = 0;
  auto scan_page = [&]() -> bool {  // false once the scan is complete
    std::string body = R"({"TableName":"spl","Limit":20)";
    if (!start_key.empty()) body += R"(,"ExclusiveStartKey":)" + start_key;
    body += "}";
    auto r = call("Scan", body);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return false;
    ++pages;
    for (const auto& it : r.json["Items"].GetArray()) seen[it["pk"]["S"].GetString()]++;
    if (!r.json.HasMember("LastEvaluatedKey")) return false;
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    r.json["LastEvaluatedKey"].Accept(w);
    start_key = buf.GetString();
    return true;
  };
  bool scanning = true;
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 3 && scanning; ++k) scanning = scan_page();
    split_all("spl");
    if (HasFailure()) break;
  }
  while (scanning) scanning = scan_page();
  stop = true;
  writer.join();
  reader.join();

  EXPECT_EQ(errors.load(), 0) << "last error: " << last_error;
  const auto t = describe("spl");
  EXPECT_EQ(t.partitions_size(), 16);
  // The map is contiguous and ordered, and every partition has three replicas.
  uint64_t next = 0;
  for (int i = 0; i < t.partitions_size(); ++i) {
    const auto& p = t.partitions(i);
    EXPECT_EQ(p.hash_lo(), next) << p.partition_id();
    EXPECT_EQ(p.replica_node_ids_size(), 3) << p.partition_id();
    next = p.hash_hi() + 1;
  }
  EXPECT_EQ(t.partitions(t.partitions_size() - 1).hash_hi(), ~0ull);
  EXPECT_GT(pages, 10);
  // Exactly once: no item twice, and every item written before the scan began is there.
  for (const auto& [pk, n] : seen) EXPECT_EQ(n, 1) << pk << " returned " << n << " times";
  for (int i = 0; i < initial; ++i) {
    EXPECT_TRUE(seen.count("user-" + std::to_string(i))) << "scan missed user-" << i;
  }
  const int total = written.load();
  EXPECT_GT(total, initial);
  auto all_readable = [&] {
    for (int i = 0; i < total; ++i) {
      Reply g;
      for (int attempt = 0; attempt < 50; ++attempt) {
        g = call("GetItem", R"({"TableName":"spl","ConsistentRead":true,"Key":)" + key_json(i) + "}");
        if (g.status == 200) break;
        std::this_thread::sleep_for(100ms);
      }
      ASSERT_EQ(g.status, 200) << g.body;
      ASSERT_TRUE(g.json.HasMember("Item")) << "item " << i << " lost: " << g.body;
    }
  };
  all_readable();
  // A full Scan counts every item once.
  {
    int count = 0;
    std::string from;
    for (;;) {
      std::string body = R"({"TableName":"spl","Select":"COUNT")";
      if (!from.empty()) body += R"(,"ExclusiveStartKey":)" + from;
      auto r = call("Scan", body + "}");
      ASSERT_EQ(r.status, 200) << r.body;
      count += r.json["Count"].GetInt();
      if (!r.json.HasMember("LastEvaluatedKey")) break;
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      r.json["LastEvaluatedKey"].Accept(w);
      from = buf.GetString();
    }
    EXPECT_EQ(count, total);
  }
  // Split children share their parent's data family: restarts find every replica again.
  for (int n = 0; n < 3; ++n) {
    stop_node(n);
    start_node(n);
  }
  all_readable();
}

// A split's parameters are checked; a split hash outside the partition is refused.
TEST_F(SplitFleet, SplitRequestsAreValidated) {
  ASSERT_EQ(call("CreateTable", table_json("spv")).status, 200);
  wait_active("spv");
  const auto t = describe("spv");
  ASSERT_EQ(t.partitions_size(), 2);
  const auto& p = t.partitions(0);
  EXPECT_EQ(split("spv", p.partition_id(), p.hash_hi() + 1).status().code(),
            common::v1::CODE_INVALID_ARGUMENT);
  EXPECT_EQ(split("spv", "no-such-partition").status().code(), common::v1::CODE_NOT_FOUND);
  EXPECT_EQ(split("no-such-table", p.partition_id()).status().code(), common::v1::CODE_NOT_FOUND);
  auto ok = split("spv", p.partition_id(), p.hash_lo() + 1000);
  ASSERT_EQ(ok.status().code(), common::v1::CODE_OK) << ok.status().message();
  EXPECT_EQ(ok.split_hash(), p.hash_lo() + 1000);
}

// A member that lacks its replica of a partition (here: dropped behind metadata's back; in
// life: a node that took the parent's image past a split never creates the child) is
// replaced by a new member on the same node: it catches up by image, is promoted, the old
// raft id leaves, and it counts in the quorum again.
TEST_F(SplitFleet, AMissingReplicaIsOpenedAgain) {
  ASSERT_EQ(call("CreateTable", table_json("miss")).status, 200);
  wait_active("miss");
  for (int i = 0; i < 120; ++i) ASSERT_EQ(call("PutItem", R"({"TableName":"miss","Item":)" + item_json(i) + "}").status, 200);
  split_all("miss");
  const auto t = describe("miss");
  ASSERT_EQ(t.partitions_size(), 4);
  const std::string pid = t.partitions(1).partition_id();
  auto admin = [&](const std::string& node, storage::v1::AdminOp op, const std::string& part) {
    storage::v1::AdminRequest req;
    req.set_op(op);
    req.mutable_replica()->set_partition_id(part);
    storage::v1::AdminResponse resp;
    auto r = meta_nats_->request_sync(subjects::Subjects("shoal").node_admin(node),
                                      req.SerializeAsString(), 3s);
    if (r.ok()) resp.ParseFromString(*r);
    return resp;
  };
  auto items_on = [&](const std::string& node) -> int64_t {
    const auto resp = admin(node, storage::v1::ADMIN_OP_STATS, "");
    for (const auto& r : resp.replicas())
      if (r.replica().partition_id() == pid) return static_cast<int64_t>(r.item_count());
    return -1;
  };
  const int64_t items = items_on("n1");
  ASSERT_GT(items, 0);
  ASSERT_EQ(admin("n3", storage::v1::ADMIN_OP_DROP_REPLICA, pid).status().code(),
            common::v1::CODE_OK);
  ASSERT_EQ(items_on("n3"), -1);
  bool back = false;
  for (int i = 0; i < 150 && !back; ++i) {
    std::this_thread::sleep_for(100ms);
    back = items_on("n3") == items;
  }
  ASSERT_TRUE(back) << "n3 holds " << items_on("n3") << " of " << items;
  EXPECT_GE(metrics::testing::value(registry_, "shoal_metadata_replicas_reopened_total").value_or(0), 1);
  // n3 came back as a new member (a new raft id: it could have lost what it acknowledged),
  // promoted, and its old raft id left the group.
  bool replaced = false;
  for (int i = 0; i < 150 && !replaced; ++i) {
    const auto now = describe("miss");
    for (const auto& p : now.partitions()) {
      if (p.partition_id() != pid || p.change().stage() != meta::v1::ReplicaChange::STAGE_NONE) continue;
      for (int j = 0; j < p.replica_node_ids_size(); ++j) {
        if (p.replica_node_ids(j) == "n3" && j < p.replica_raft_ids_size() &&
            p.replica_raft_ids(j) > 3) {
          replaced = true;
        }
      }
    }
    if (!replaced) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(replaced) << "n3's replica of " << pid << " never became a member again";
  // With n1 down the partition lives on n2 and n3: every item still reads, strongly.
  stop_node(0);
  for (int i = 0; i < 120; ++i) {
    auto r = call("GetItem", R"({"TableName":"miss","ConsistentRead":true,"Key":)" + key_json(i) + "}");
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(r.json.HasMember("Item")) << i;
  }
  start_node(0);
}

}  // namespace
}  // namespace shoal
