#pragma once
// The metadata service: table catalog, partition map, node registry and placement.
//
// Requests arrive on <prefix>.meta.rpc.<Op> (queue group, so several instances could share
// the load once metadata becomes a Raft group). State lives in memory behind one mutex and
// is persisted to RocksDB (libs/store) before a change is acknowledged. A reconciler thread
// drives table lifecycles that need storage nodes: CREATING -> open replicas -> ACTIVE, and
// DELETING -> drop replicas -> gone. It is the only code here that waits on other services.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "shoal/common/status.h"
#include "shoal/meta/v1/meta.pb.h"
#include "shoal/metrics/registry.h"
#include "shoal/nats/connection.h"
#include "shoal/store/store.h"
#include "shoal/subjects/subjects.h"

namespace shoal::metadata {

struct MetadataOptions {
  std::string data_dir;
  int default_partitions = 2;     // initial partitions of a new table
  int replication_factor = 3;     // replicas per partition (a Raft group), one per zone
  std::chrono::milliseconds node_timeout{5000};  // no heartbeat for this long = not alive
  std::chrono::milliseconds reconcile_interval{200};
  // SigV4 access keys (id, secret) the routers verify signatures with. Served to routers on
  // shoal.meta.rpc.ListAccessKeys; the NATS network is the trust boundary.
  std::vector<std::pair<std::string, std::string>> access_keys;
};

class MetadataService {
 public:
  MetadataService(std::shared_ptr<nats::Connection> nats, subjects::Subjects subjects,
                  MetadataOptions options, metrics::Registry* registry);
  ~MetadataService();

  Status start();
  void stop();
  bool ready() const { return ready_; }

 private:
  void on_rpc(nats::MessagePtr msg);
  std::string create_table(const std::string& payload);
  std::string describe_table(const std::string& payload);
  std::string list_tables(const std::string& payload);
  std::string delete_table(const std::string& payload);
  std::string update_table(const std::string& payload);
  // Applies `edit` to a copy of table `name` (which must exist and not be DELETING) and
  // persists the result if it changed.
  Status edit_table(const std::string& name,
                    const std::function<Status(meta::v1::Table*)>& edit);
  std::string tag_resource(const std::string& payload);
  std::string untag_resource(const std::string& payload);
  std::string list_tags_of_resource(const std::string& payload);
  std::string heartbeat(const std::string& payload);
  std::string list_nodes(const std::string& payload);
  std::string list_access_keys() const;

  void reconcile_loop();
  void reconcile_once();
  Status persist_table(const meta::v1::Table& t);
  Status erase_table(const std::string& name);
  void publish_event(meta::v1::EventType type, const meta::v1::Table& t);
  std::vector<meta::v1::Node> live_nodes_locked(int64_t now_ms) const;
  Status place_partitions_locked(meta::v1::Table* t, int count, int64_t now_ms);
  std::string next_table_id_locked();

  std::shared_ptr<nats::Connection> nats_;
  subjects::Subjects subjects_;
  MetadataOptions options_;
  std::unique_ptr<store::Store> store_;
  store::CfPtr catalog_;

  mutable std::mutex mu_;
  std::condition_variable kick_;
  bool kicked_ = false;  // under mu_: work arrived for the reconciler
  std::map<std::string, meta::v1::Table> tables_;  // by name, ordered for ListTables
  std::map<std::string, meta::v1::Node> nodes_;    // by node id
  uint64_t table_seq_ = 0;
  bool stopping_ = false;
  bool ready_ = false;

  std::optional<nats::Subscription> rpc_sub_;
  std::thread reconciler_;
  metrics::Family<metrics::Gauge>* tables_gauge_ = nullptr;
  metrics::Family<metrics::Gauge>* nodes_gauge_ = nullptr;
};

}  // namespace shoal::metadata
