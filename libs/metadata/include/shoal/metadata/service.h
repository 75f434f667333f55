#pragma once
// The metadata service: table catalog, partition map, node registry and placement.
//
// Metadata is a Raft group (libs/raft) of replicas named by MetadataOptions::id/peers: one in
// the local fleet, three in Kubernetes. The catalog (table records and the table-id sequence)
// is the replicated state: every durable change is a CatalogWrite entry, committed by a
// quorum and applied on every replica to its RocksDB "catalog" family (see
// src/catalog_raft.h for the raft thread, the disk layout and compaction). The leader
// acknowledges a change only once its entry is committed and applied.
//
// Only the leader serves. Requests arrive on <prefix>.meta.rpc.<Op> (queue group, so any
// replica may get one); a follower forwards the message to the leader's own subject
// <prefix>.meta.replica.<id>.rpc.<Op> keeping the reply subject, so the leader answers the
// requester directly; with no leader known it answers UNAVAILABLE (callers retry).
// ListAccessKeys (static configuration) is answered by any replica.
//
// On the leader, tables_ is the serving view: copied from the applied catalog when it starts
// serving a term (after its own-term no-op is applied), then changed only through
// persist_table()/erase_table(), which propose and wait (holding mu_, so changes are
// serialized; the raft thread never takes mu_). A change whose outcome is unknown makes the
// leader re-copy the applied catalog before serving again.
//
// Node heartbeats are soft state, kept only in memory: followers note the node (id, zone) and
// forward the heartbeat to the leader. A new leader starts without heartbeat history: every
// node it knows of counts as heard at the moment it took over, so none is declared dead
// (nor replaced) before one node_timeout (resp. replace_after) of silence under this leader,
// and the reconciler starts repairs only node_timeout after the takeover. Placement uses only
// nodes that heartbeated this leader.
//
// A reconciler thread (leader only) drives table lifecycles that need storage nodes:
// CREATING -> open replicas -> ACTIVE, DELETING -> drop replicas -> gone, and replaces the
// replicas of nodes gone too long (src/repair.cc).
//
// Metrics (with a registry; one MetadataService per registry): shoal_metadata_raft_leader on
// every replica; the catalog series (tables by status, partitions and provisioned capacity by
// table, nodes, nodes alive) only on the serving leader, refreshed by its reconciler pass; a
// replica that stops serving removes them, so summing over metadata replicas counts each
// table once.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "shoal/common/status.h"
#include "shoal/meta/v1/meta.pb.h"
#include "shoal/metrics/registry.h"
#include "shoal/nats/connection.h"
#include "shoal/storage/v1/storage.pb.h"
#include "shoal/store/store.h"
#include "shoal/subjects/subjects.h"

namespace shoal::metadata {

class CatalogRaft;

struct MetadataOptions {
  std::string data_dir;
  // This replica's name and the names of all replicas of the metadata group (the same list
  // on every replica; empty = just `id`). Raft id = position in the sorted list + 1.
  std::string id = "m1";
  std::vector<std::string> peers;
  std::chrono::milliseconds raft_tick{100};
  int election_ticks = 10;
  uint64_t raft_compact_after = 1000;  // log entries kept before compaction to a snapshot
  std::chrono::milliseconds propose_timeout{3000};  // a catalog change not applied by then fails
  int default_partitions = 2;     // initial partitions of a new table
  int replication_factor = 3;     // replicas per partition (a Raft group), one per zone
  std::chrono::milliseconds node_timeout{5000};  // no heartbeat for this long = not alive
  std::chrono::milliseconds reconcile_interval{200};
  // A member of a partition's group whose node has sent no heartbeat for this long is
  // replaced (see src/repair.cc); 0 never replaces.
  std::chrono::milliseconds replace_after{std::chrono::minutes(2)};
  // A live member whose heartbeats leave out its replica of an idle partition this long is
  // replaced by a new member on the same node (learner, image, promote, old raft id removed).
  // Covers a member that took its parent's image past a split and so never created the
  // child. 0: never.
  std::chrono::milliseconds reopen_missing_after{std::chrono::seconds(30)};
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

  // Introspection (tests, logs).
  bool serving() const;           // this replica leads and its applied catalog is current
  std::string leader_id() const;  // "" if unknown
  uint64_t applied_index() const;
  uint64_t raft_log_first_index() const;
  // The applied catalog (as replicated; leader hints excluded).
  std::map<std::string, meta::v1::Table> applied_catalog() const;
  std::set<std::string> applied_draining() const;  // storage nodes marked draining

 private:
  void on_rpc(nats::MessagePtr msg, bool forwarded);
  void dispatch(std::string_view op, const nats::MessagePtr& msg, bool forwarded);
  // Under mu_: OK when this replica may serve (leader, tables_ current for its term; for a
  // `read`, also holding a read lease); copies the applied catalog into tables_ when it
  // starts serving a term.
  Status serve_locked(bool read = false);
  // Proposes `w` and waits until applied (mu_ held).
  Status commit_locked(const meta::v1::CatalogWrite& w);
  void note_node_locked(const meta::v1::Node& n);
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
  // Scale-out (src/scale.cc): splits, replica moves, drains.
  std::string split_partition(const std::string& payload);
  std::string move_replica(const std::string& payload);
  std::string drain_node(const std::string& payload);
  void split_once();  // carries out the planned splits (reconciler)
  std::string transfer_leader(const std::string& payload);
  std::string pin_partition(const std::string& payload);
  void transfer_once();  // carries out the planned leadership transfers (reconciler)
  // Plans a move of every draining node's replicas (one change per partition), mu_ held.
  void plan_drains_locked(int64_t now_ms);
  // A move of p's replica on `from` to `to` (or the least loaded live node of its zone outside
  // the group when empty); nullopt if there is none.
  std::optional<meta::v1::ReplicaChange> plan_move_locked(const meta::v1::Partition& p,
                                                          const std::string& from,
                                                          const std::string& to,
                                                          int64_t now_ms) const;
  std::string list_access_keys() const;

  void reconcile_loop();
  void reconcile_once();
  // Sets the leader-only catalog gauges from tables_/nodes_, or removes them all when this
  // replica does not serve (mu_ held).
  void update_gauges_locked(bool serving);
  // Replacement of dead members (src/repair.cc), one step per partition per pass.
  void repair_once();
  std::optional<meta::v1::ReplicaChange> plan_replacement_locked(const meta::v1::Partition& p,
                                                                 int64_t now_ms) const;
  // Plans the re-creation of replicas live members have been missing for
  // reopen_missing_after (src/repair.cc), mu_ held.
  void plan_missing_locked(int64_t now_ms);
  Status advance_change(const std::string& table, const std::string& table_id,
                        const meta::v1::Partition& p);
  Result<storage::v1::AdminResponse> admin_call(const std::string& node,
                                                const storage::v1::AdminRequest& req);
  // Sends a membership request to the partition's leader, following leader hints.
  Status leader_call(const meta::v1::Partition& p, storage::v1::AdminRequest req,
                     storage::v1::AdminResponse* out = nullptr);
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
  std::unique_ptr<CatalogRaft> raft_;

  mutable std::mutex mu_;
  std::condition_variable kick_;
  bool kicked_ = false;  // under mu_: work arrived for the reconciler
  std::map<std::string, meta::v1::Table> tables_;  // by name, ordered for ListTables
  std::map<std::string, meta::v1::Node> nodes_;    // by node id
  uint64_t table_seq_ = 0;
  uint64_t tables_term_ = 0;  // under mu_: the term tables_ is current for (0: stale)
  std::chrono::steady_clock::time_point leader_since_;  // under mu_
  std::set<std::string> heard_;  // under mu_: nodes that heartbeated this leader this term
  std::set<std::string> draining_;  // under mu_: nodes being drained (as in the catalog)
  // Under mu_: planned leadership transfers by partition id (soft state: lost with the
  // leadership, the asker sees the leader unchanged and may ask again).
  struct LeaderMove {
    std::string table;
    std::string to_node;
    uint64_t to_raft_id = 0;
    std::string reason;
  };
  std::map<std::string, LeaderMove> leader_moves_;
  // Under mu_: per node, the partitions it is a member of but did not list as hosted, since
  // when (ms; from its heartbeats, reset by every heartbeat that lists them).
  std::map<std::string, std::map<std::string, int64_t>> missing_;
  bool stopping_ = false;
  std::atomic<bool> ready_{false};
  std::atomic<int> active_rpcs_{0};

  std::optional<nats::Subscription> rpc_sub_;
  std::optional<nats::Subscription> fwd_sub_;
  std::thread reconciler_;
  metrics::Family<metrics::Gauge>* tables_gauge_ = nullptr;
  metrics::Family<metrics::Gauge>* nodes_gauge_ = nullptr;
  metrics::Family<metrics::Gauge>* nodes_alive_gauge_ = nullptr;
  metrics::Family<metrics::Gauge>* partitions_gauge_ = nullptr;
  metrics::Family<metrics::Gauge>* provisioned_gauge_ = nullptr;
  metrics::Family<metrics::Gauge>* table_info_gauge_ = nullptr;
  metrics::Family<metrics::Gauge>* leader_gauge_ = nullptr;
  metrics::Counter* splits_counter_ = nullptr;
  metrics::Family<metrics::Counter>* transfers_counter_ = nullptr;
  metrics::Counter* reopened_counter_ = nullptr;
  // The catalog series this replica exports (under mu_): empty unless it serves.
  struct TableSeries {
    metrics::Gauge* partitions = nullptr;
    metrics::Gauge* read_units = nullptr;
    metrics::Gauge* write_units = nullptr;
    metrics::Gauge* info = nullptr;  // {table, table_id, billing_mode} = 1
    std::string info_key;            // table_id + billing mode the info series carries
  };
  std::map<std::string, TableSeries> table_series_;  // by table name
  struct NodeSeries {
    std::string zone;
    metrics::Gauge* alive = nullptr;
  };
  std::map<std::string, NodeSeries> node_series_;  // by node id
  std::vector<metrics::Gauge*> status_series_;     // tables by status
  metrics::Gauge* nodes_alive_series_ = nullptr;
};

}  // namespace shoal::metadata
