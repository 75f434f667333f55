#pragma once
// StorageNode: hosts many partition replicas of many tables, one CAF actor per replica, on
// one RocksDB (libs/store) with a column family per replica plus shared "raft-log" and
// "node-meta" families.
//
// Threads: NATS delivery threads parse requests and hand them to replica actors; CAF
// workers run the actors (reads hit RocksDB directly: memtable/block-cache lookups, bounded
// and short); the GroupCommitter thread does every synced write and sends the replies of
// writes. Admin requests (open/drop replica, stats) are rare and run on their own
// subscription thread, where they may wait for RocksDB and for actors to stop; membership
// requests (add learner, promote, remove peer) are handed to the replica actor, which answers
// once the change is committed. Snapshot transfers (src/snapshot.h) stream on their own
// threads (SnapshotSender) and are staged on the .snap subscription thread.

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "shoal/common/status.h"
#include "shoal/metrics/registry.h"
#include "shoal/nats/connection.h"
#include "shoal/store/group_commit.h"
#include "shoal/store/store.h"
#include "shoal/storage/v1/storage.pb.h"
#include "shoal/subjects/subjects.h"

namespace caf {
class actor_system;
class actor_system_config;
}  // namespace caf

namespace shoal::storage {

struct DataCall;  // actors.h

struct NodeOptions {
  std::string node_id;
  std::string zone;
  std::string data_dir;
  bool sync = true;  // fsync every group commit (acknowledged = durable)
  std::chrono::milliseconds heartbeat_interval{1000};
  // Raft timing: one tick every tick_interval; a follower that hears no leader for
  // election_ticks..2*election_ticks campaigns; leaders heartbeat every tick; a leader's read
  // lease lasts election_ticks / 2 (see libs/raft Config).
  std::chrono::milliseconds tick_interval{100};
  int election_ticks = 10;
  // Log compaction: once a replica applied more than compact_threshold entries beyond the
  // first one its log holds, it saves its compaction point and drops the log up to
  // (applied - compact_keep); the tail lets slightly lagging followers catch up from the log
  // rather than through a snapshot transfer.
  uint64_t compact_threshold = 10000;
  uint64_t compact_keep = 1000;
  // Snapshot transfer: items per chunk up to about this many bytes (plus one item).
  size_t snapshot_chunk_bytes = 1 << 20;
  // Images streamed at once by this node (threads).
  int snapshot_senders = 2;
  // Benchmarks of the layers above storage only (bench/, the "ceiling"): answer every data
  // request at once from the NATS thread, without Raft or RocksDB — writes succeed, reads find
  // a small fixed item. Never for real data.
  bool noop_data = false;
  // NodeStats on shoal.stats.<node> (size, load and a key sample per replica, for the
  // autoscaler) this often; 0 = never.
  std::chrono::milliseconds stats_interval{1000};
};

// Counters a replica shares with metrics scrapes (read from any thread).
struct ReplicaCounters {
  std::atomic<uint64_t> items{0};
  std::atomic<uint64_t> applied_index{0};
  std::atomic<uint64_t> writes{0};
  std::atomic<uint64_t> reads{0};
  std::atomic<bool> leader{false};
  std::atomic<uint64_t> term{0};
  std::atomic<uint64_t> commit_index{0};
  std::atomic<uint64_t> elections_won{0};
  std::atomic<uint64_t> elections_started{0};  // raft::Node::elections_started
  std::atomic<uint64_t> size_bytes{0};         // stored key + value bytes of its items
  std::atomic<uint64_t> snapshot_index{0};
  std::atomic<uint64_t> snapshots_sent{0};
  std::atomic<uint64_t> snapshots_installed{0};
  // Load since the last NodeStats, in tenths of a capacity unit as DynamoDB counts them per
  // request (reads: 4 KB units, half for eventually consistent; writes: 1 KB units of the
  // larger of the old and new item), from the stored (encoded) sizes. Swapped out by the
  // stats publisher.
  std::atomic<uint64_t> read_units_x10{0};
  std::atomic<uint64_t> write_units_x10{0};

  // A sample of the request key hashes since the last NodeStats (reservoir of kSampleSize).
  static constexpr size_t kSampleSize = 64;
  void sample_key(uint64_t hash);
  std::vector<uint64_t> take_sample();

  // What the actor last published about its group (admin stats), under `mu`.
  struct Group {
    storage::v1::ReplicaDescriptor descriptor;  // with the peer directory as applied
    std::vector<storage::v1::Peer> peers;       // configuration in force, learner flags
  };
  void set_group(Group g) {
    std::lock_guard lock(mu);
    group = std::move(g);
  }
  Group get_group() const {
    std::lock_guard lock(mu);
    return group;
  }

 private:
  mutable std::mutex mu;
  Group group;
  std::mutex sample_mu;
  std::vector<uint64_t> sample;
  uint64_t sampled = 0;  // requests seen since the sample was taken
  uint64_t rng = 0x9E3779B97F4A7C15ull;
};

// shoal_storage_request_duration_seconds series by DataOp value (null: that op is not timed).
using RequestDurations = std::array<metrics::Histogram*, storage::v1::DataOp_ARRAYSIZE>;

// Metrics (with a registry): per-replica series labelled {table_id, partition} (items, reads,
// writes, leader, Raft term/commit/applied/snapshot indexes, leaderships, elections, size,
// snapshots; replication lag by peer while leading), removed when the replica is dropped or
// the node stops; node-wide shoal_storage_partitions, shoal_storage_partitions_led and
// shoal_storage_request_duration_seconds{op}. One StorageNode per registry at a time.
class StorageNode {
 public:
  StorageNode(std::shared_ptr<nats::Connection> nats, subjects::Subjects subjects,
              NodeOptions options, metrics::Registry* registry);
  ~StorageNode();

  // Opens RocksDB, restarts every replica found there, subscribes, starts heartbeats.
  Status start();
  void stop();
  bool ready() const { return ready_; }
  size_t replica_count() const;
  size_t led_count() const;  // replicas that are their partition's leader

  struct Replica;

 private:
  void on_data(nats::MessagePtr msg);
  void answer_noop(const DataCall& call);  // NodeOptions::noop_data
  void on_raft(nats::MessagePtr msg);
  void on_admin(nats::MessagePtr msg);
  void on_snapshot_chunk(nats::MessagePtr msg);
  void collect_stale_families(const std::vector<storage::v1::ReplicaRecord>& records);
  void tick_loop();
  // Opens the replica `d` describes (creating it if `create`), or with `existing` set, the
  // replica of that id whose record is on disk (a split's child).
  Status open_replica(const storage::v1::ReplicaDescriptor& d, bool create,
                      const std::string& existing = "");
  Status drop_replica(const std::string& partition_id);
  // Per-replica metric series (callbacks, and the lag series its actor left); the actor
  // must be gone for remove_replica_series.
  void add_replica_series(const Replica& replica);
  void remove_replica_series(const Replica& replica);
  void heartbeat_loop();
  void publish_stats(std::chrono::milliseconds interval);
  std::unique_ptr<class FamilyRefs> families_;

  std::shared_ptr<nats::Connection> nats_;
  subjects::Subjects subjects_;
  NodeOptions options_;
  metrics::Registry* registry_;

  std::unique_ptr<caf::actor_system_config> caf_config_;
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::GroupCommitter> committer_;
  std::unique_ptr<class RaftOutbox> outbox_;
  std::unique_ptr<class SnapshotSender> snapshot_sender_;
  std::shared_ptr<class SnapshotReceiver> snapshot_receiver_;
  store::CfPtr log_cf_;
  store::CfPtr meta_cf_;

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Replica>> replicas_;  // by partition id

  std::optional<nats::Subscription> data_sub_;
  std::optional<nats::Subscription> raft_sub_;
  std::optional<nats::Subscription> admin_sub_;
  std::optional<nats::Subscription> snap_sub_;
  std::thread heartbeat_;
  std::thread ticker_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ready_{false};
  metrics::Family<metrics::Gauge>* items_gauge_ = nullptr;
  metrics::Family<metrics::Counter>* writes_counter_ = nullptr;
  metrics::Family<metrics::Counter>* reads_counter_ = nullptr;
  metrics::Family<metrics::Gauge>* leader_gauge_ = nullptr;
  metrics::Family<metrics::Gauge>* term_gauge_ = nullptr;
  metrics::Family<metrics::Gauge>* commit_gauge_ = nullptr;
  metrics::Family<metrics::Gauge>* applied_gauge_ = nullptr;
  metrics::Family<metrics::Counter>* elections_counter_ = nullptr;
  metrics::Family<metrics::Gauge>* snapshot_index_gauge_ = nullptr;
  metrics::Family<metrics::Counter>* snapshots_sent_counter_ = nullptr;
  metrics::Family<metrics::Counter>* snapshots_installed_counter_ = nullptr;
  metrics::Family<metrics::Counter>* elections_started_counter_ = nullptr;
  metrics::Family<metrics::Gauge>* size_gauge_ = nullptr;
  metrics::Family<metrics::Gauge>* lag_gauge_ = nullptr;
  metrics::Family<metrics::Gauge>* partitions_gauge_ = nullptr;
  metrics::Family<metrics::Gauge>* partitions_led_gauge_ = nullptr;
  RequestDurations request_durations_{};
};

}  // namespace shoal::storage
