#pragma once
// Log compaction and snapshot transfer of partition replicas.
//
// THE IMAGE. A replica's state machine is its data column family itself: committed entries are
// applied to it in order, with ReplicaRecord.applied_index in the same batch. So "saving the
// image at index I" copies nothing: once the replica applied I, only the snapshot meta
// (I, its term, the configuration in force at I) has to be saved.
//
// COMPACTION (maybe_compact, on the actor after each applied turn). When the applied index A is
// more than compact_threshold entries past the log's first index, the replica compacts at
// I = A - compact_keep (the kept tail lets slightly lagging followers catch up from the log):
// one synced batch through the group commit writes the meta at node-meta "snap/<pid>" and
// range-deletes the log keys <= I; then Node::compact(I). That batch follows the (unsynced)
// apply batches up to A in the WAL, so once it is on disk, so is the data at A. A restart
// builds the Node from the saved meta and the log entries after it.
//
// SENDING (send_image, leader actor). A kSnapshot message in Ready::messages means a follower
// needs entries this leader compacted. After applying the turn, the actor takes a RocksDB
// snapshot (applied index A, meta = snapshot_meta_at(A), peer directory and item count at A)
// and hands a SnapshotJob to the node's SnapshotSender: its threads iterate that snapshot and
// stream the items to shoal.node.<dest>.snap in chunks of ~snapshot_chunk_bytes (1 MB), each
// a NATS request acknowledged before the next one leaves (flow control; one chunk in memory
// per transfer; the actor never blocks). A running CRC-32 and item count go with every chunk;
// the last chunk carries the kSnapshot Raft message. One transfer per follower at a time:
// Raft's own retries (a new kSnapshot after election_ticks without an answer) are ignored
// while one runs; a failed transfer is retried when Raft asks again.
//
// RECEIVING (SnapshotReceiver, on the node's .snap subscription thread). Chunk 0 creates a
// fresh staging family "r/<pid>#<transfer id>" (dropping any unfinished staging of that
// partition: a new leader, a restarted transfer); every chunk is checked (transfer id,
// sequence, CRC, count) and written to it unsynced. After the last chunk the receiver hands
// the staged family with the Raft message to the replica actor (StagedSnapshot). Staging on
// disk keeps memory bounded whatever the partition's size; any error drops the staging and
// fails the transfer (the leader retries later).
//
// INSTALLING (prepare_install / finish_install, follower actor). The actor steps the
// kSnapshot message; if Raft accepts it (newer than its commit index), Ready::snapshot comes
// out and that turn's one synced batch replaces the log keys by exactly Ready::entries, writes
// the hard state and the snapshot meta, and switches the record to the staged family (applied
// index = snapshot index, item count and peer directory of the image). The switch is one key:
// the install is atomic and O(1) whatever the size. The old data family is dropped once the
// batch is durable; families no record names (a crash mid-transfer or before that drop) are
// dropped when the node starts.
//
// Limits: a chunk is ~1 MB plus at most one item (400 KB), far below NATS max_payload (8 MB
// in the fleet); each chunk must be acknowledged within 10 s; a transfer idle for 2 minutes is
// abandoned by the receiver; snapshot_senders (2) images stream at once per node, more wait.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "replica.h"
#include "shoal/nats/connection.h"
#include "shoal/store/store.h"
#include "shoal/subjects/subjects.h"

namespace shoal::storage {

// shoal.node.<node_id>.snap (to move into libs/subjects).
std::string snapshot_subject(const subjects::Subjects& subjects, std::string_view node_id);
// node-meta key of a replica's saved snapshot meta (its compaction point).
std::string snapshot_meta_key(const std::string& partition_id);
// A staging family (becomes the data family when installed).
std::string staging_family_name(const std::string& partition_id, uint64_t transfer_id);
// The partition a data or staging family belongs to ("" if `family` is neither); *staging
// tells which.
std::string family_partition(const std::string& family, bool* staging);

void put_snapshot_meta(store::Batch* batch, const store::CfPtr& meta_cf,
                       const std::string& partition_id, const raft::SnapshotMeta& meta);
// Index 0 if none was saved.
Status load_snapshot_meta(const store::Store& store, const store::CfPtr& meta_cf,
                          const std::string& partition_id, raft::SnapshotMeta* out);

// Running CRC-32 of snapshot items (see SnapshotChunk.crc).
uint32_t snapshot_crc(uint32_t crc, std::string_view key, std::string_view value);

// ---- Node level --------------------------------------------------------------------------

struct SnapshotJob {
  std::string partition_id;
  std::string to_node;
  raft::Message message;      // kSnapshot; snapshot->meta = the image's
  store::CfPtr family;        // the leader's data family...
  store::SnapshotPtr image;   // ...read at this RocksDB snapshot
  std::vector<storage::v1::Peer> peers;  // peer directory at the image
  uint64_t item_count = 0;
  uint64_t data_bytes = 0;
  uint64_t hash_lo = 0;  // the partition's range: only its items are streamed
  uint64_t hash_hi = ~0ull;
  std::function<void(bool ok)> done;  // called once, on a sender thread
};

class SnapshotSender {
 public:
  SnapshotSender(store::Store* store, std::shared_ptr<nats::Connection> nats,
                 subjects::Subjects subjects, std::string self_node, size_t chunk_bytes,
                 int threads);
  // Stops running transfers between chunks, fails queued ones, joins.
  ~SnapshotSender();

  void send(SnapshotJob job);

  uint64_t bytes_sent() const { return bytes_; }

 private:
  void run();
  Status transfer(const SnapshotJob& job);
  Status send_chunk(const std::string& subject, const storage::v1::SnapshotChunk& chunk);

  store::Store* store_;
  std::shared_ptr<nats::Connection> nats_;
  subjects::Subjects subjects_;
  std::string self_;
  size_t chunk_bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SnapshotJob> queue_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> next_id_;
  std::vector<std::thread> threads_;
};

class SnapshotReceiver {
 public:
  // Hands a verified image to the partition's replica actor; false if it is not open here.
  using Deliver = std::function<bool(const std::string& partition_id, StagedSnapshotPtr)>;
  using IsOpen = std::function<bool(const std::string& partition_id)>;

  SnapshotReceiver(store::Store* store, IsOpen is_open, Deliver deliver);

  // One chunk (called on one thread at a time per subscription; serialized anyway).
  Status on_chunk(const storage::v1::SnapshotChunk& chunk);
  // The partition's replica is being dropped: forget and drop its unfinished staging.
  void abort(const std::string& partition_id);
  // Drops every unfinished staging; later chunks fail. Before the Store goes away.
  void close();

 private:
  struct Transfer {
    uint64_t id = 0;
    uint32_t next_seq = 0;
    uint32_t crc = 0;
    uint64_t items = 0;
    store::CfPtr family;
    std::chrono::steady_clock::time_point last;
  };
  void drop_locked(std::map<std::string, Transfer>::iterator it);
  Status start_locked(const storage::v1::SnapshotChunk& chunk);
  Status finish_locked(const storage::v1::SnapshotChunk& chunk);

  store::Store* store_;
  IsOpen is_open_;
  Deliver deliver_;
  std::mutex mu_;
  bool closed_ = false;
  std::map<std::string, Transfer> transfers_;  // by partition
};

// ---- Replica actor -------------------------------------------------------------------------

// After an applied turn: compacts the log when it grew past the threshold.
void maybe_compact(ReplicaState& st);
// Streams this leader's current image for the kSnapshot message `m` (unless one is already
// going to that follower).
void send_image(ReplicaSelf self, const raft::Message& m);
void image_sent(ReplicaState& st, raft::NodeId to, bool ok);
// A staged image arrived: keep it until Raft accepts or refuses its message.
void keep_staged(ReplicaState& st, StagedSnapshotPtr staged);
// Raft handed out no snapshot that could still use them: drop the staged images.
void discard_staged(ReplicaState& st);
// Adds the install of `snapshot` (accepted by Raft) to the turn's batch; the caller writes
// Ready::entries after it and syncs the batch.
void prepare_install(ReplicaState& st, const raft::Snapshot& snapshot, store::Batch* batch);
// The install turn is durable: switch to the new data family, drop the old one.
void finish_install(ReplicaState& st);

}  // namespace shoal::storage
