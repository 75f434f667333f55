#pragma once
// The replica actor: one member of a partition's Raft group. The leader is the only writer of
// its partition's key range; every member applies the committed log to its data family.

#include <caf/all.hpp>

#include <deque>
#include <functional>
#include <mutex>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "raft_transport.h"
#include "shoal/nats/connection.h"
#include "shoal/raft/node.h"
#include "shoal/storage/actors.h"
#include "shoal/storage/node.h"
#include "shoal/store/group_commit.h"

namespace shoal::storage {

class SnapshotSender;

// Which replicas use each data family. A split leaves parent and child on one family (nothing
// is copied), so a family is dropped only when its last user lets go of it; before that, a
// user leaving deletes just its own key range from it. Thread-safe (actors and the admin
// thread).
class FamilyRefs {
 public:
  void add(const std::string& family, const std::string& partition_id);
  // Removes the user; true if nobody uses the family any more.
  bool release(const std::string& family, const std::string& partition_id);
  bool used(const std::string& family) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>> users_;
};

// The first storage key of hash `lo` and the key just past every key of hash `hi` (storage
// keys start with the 8-byte big-endian hash: a partition's range is one key interval).
std::string range_begin_key(uint64_t lo);
std::string range_end_key(uint64_t hi);

// The log of a partition created by a split starts after this index (term kSplitInitTerm):
// its replicas begin with the parent's data as an image at that index, so a replica of it
// opened empty elsewhere is sent a snapshot instead of replaying a log that never held it.
inline constexpr uint64_t kSplitInitIndex = 5;
inline constexpr uint64_t kSplitInitTerm = 5;

// Everything a replica actor needs; owned by StorageNode::Replica, shared with the actor.
struct ReplicaEnv {
  // Descriptor + state at start. Not changed afterwards (other threads read it): the actor
  // keeps the live record (peer directory, data family, applied index) in ReplicaState.
  storage::v1::ReplicaRecord record;
  std::string self_node;
  store::Store* store = nullptr;
  store::GroupCommitter* committer = nullptr;
  RaftOutbox* outbox = nullptr;
  SnapshotSender* snapshots = nullptr;
  FamilyRefs* families = nullptr;
  // Opens a replica whose record this replica just wrote (a split's child) and, if `campaign`,
  // makes it campaign at once. Called on the actor.
  std::function<void(const std::string& partition_id, bool campaign)> open_child;
  store::CfPtr data_cf;  // the current data family: read and replaced on the actor only
  store::CfPtr log_cf;
  store::CfPtr meta_cf;
  std::shared_ptr<nats::Connection> nats;
  std::shared_ptr<ReplicaCounters> counters;
  int election_ticks = 10;
  std::chrono::steady_clock::duration tick_interval = std::chrono::milliseconds(100);
  int read_wait_ticks = 15;  // a strongly consistent read waits this long for a lease
  uint64_t compact_threshold = 10000;  // see NodeOptions
  uint64_t compact_keep = 1000;
  int membership_wait_ticks = 100;  // a membership change answers UNAVAILABLE after this

  // Metrics (null/empty without a registry). The node's request-duration histograms outlive
  // every actor (the node stops them first).
  const RequestDurations* request_durations = nullptr;
  metrics::Labels labels;  // this replica's {table_id, partition}
  // shoal_storage_raft_replication_lag_entries: the series this replica exports while it
  // leads, by raft id of the member. Changed by the actor only (publish_lag); the node
  // removes what is left once the actor is gone (StorageNode::remove_replica_series).
  metrics::Family<metrics::Gauge>* lag_family = nullptr;
  struct LagSeries {
    std::string peer;         // label: the member's storage node id, else "raft-<id>"
    bool peer_known = false;  // the node id was in the directory (else looked up again)
    metrics::Gauge* gauge = nullptr;
  };
  std::map<raft::NodeId, LagSeries> lag_series;
};

struct StorageNode::Replica {
  std::shared_ptr<ReplicaEnv> env;
  caf::actor actor;
};

// Keys of the shared families.
std::string log_key(const std::string& partition_id, uint64_t index);
std::string log_prefix_end(const std::string& partition_id);  // exclusive end of its range
std::string meta_key(const std::string& partition_id);
std::string raft_state_key(const std::string& partition_id);
std::string data_family_name(const std::string& partition_id);  // the initial data family
// The data family a record names (its data_family, else data_family_name()).
std::string record_family(const storage::v1::ReplicaRecord& record);
// This node's raft id in the record (record.raft_id, else its entry in the peers); 0 if none.
uint64_t record_raft_id(const storage::v1::ReplicaRecord& record, const std::string& self_node);

// The group's members; a descriptor without peers (single-replica data written before Raft)
// is a group of one: this node, raft id 1.
std::vector<storage::v1::Peer> group_peers(const storage::v1::ReplicaDescriptor& d,
                                           const std::string& self_node);

caf::behavior replica_actor(caf::stateful_actor<struct ReplicaState>* self,
                            std::shared_ptr<ReplicaEnv> env);

using ReplicaSelf = caf::stateful_actor<struct ReplicaState>*;

// The partition hash a storage key starts with.
uint64_t key_hash(std::string_view storage_key);

// Lets go of `cf` for `partition_id`: drops it if no other replica uses it, else deletes the
// replica's range [lo, hi] from it.
void release_family(store::Store& store, FamilyRefs& refs, const store::CfPtr& cf,
                    const std::string& partition_id, uint64_t lo, uint64_t hi);

// Shared by replica.cc, snapshot.cc and membership.cc (all run on the replica actor).
// A write that must reach disk failed: in-memory Raft state already counts it, so the node
// stops (restart recovers).
[[noreturn]] void die(const struct ReplicaState& st, const char* what, const Status& s);
// Times a data request (until its reply is handed to NATS) and answers it (no-op without a
// reply subject).
void respond_data(const ReplicaEnv& env, const DataReply& to, const storage::v1::DataResponse& resp);
// Observes the time since `to.received` in its op's request-duration histogram, if any.
void observe_reply(const RequestDurations* durations, const DataReply& to);
std::string leader_node(const struct ReplicaState& st);  // "" if unknown
// Republishes the counters (and the group, when it changed) for stats and metrics.
void publish_status(struct ReplicaState& st);

struct ReplicaState {
  std::shared_ptr<ReplicaEnv> env;
  std::unique_ptr<raft::Node> raft;
  // The live record: written with every applied batch (applied index, item count, peer
  // directory in replica.peers) and switched to a new data family by a snapshot install.
  storage::v1::ReplicaRecord record;
  std::map<raft::NodeId, std::string> peer_nodes;  // raft id -> storage node id (directory)
  std::string partition_id;
  uint64_t item_count = 0;
  uint64_t data_bytes = 0;    // stored key + value bytes of its items (exact, see apply)
  uint64_t log_last = 0;      // last log index written to the log family
  raft::HardState persisted;  // last hard state written
  // The Raft clock follows the steady clock: every input first catches up on the ticks due
  // (the ticker's tick_atom only wakes an idle replica). A replica that was paused (SIGSTOP,
  // a starved process) therefore sees its lease expire before it serves anything.
  std::chrono::steady_clock::time_point next_tick;

  // A Raft turn whose hard state and entries are with the group commit; the next turn waits.
  std::optional<raft::Ready> turn;
  uint64_t turn_seq = 0;

  // Leadership as last seen (checked after every step and tick).
  bool leader = false;
  uint64_t leader_term = 0;
  uint64_t leader_ready_index = 0;  // the new leader's first entry; writes wait for its apply
  int leader_ticks = 0;             // ticks since it became leader (lag series wait for answers)
  int campaign_retries = 0;         // a first leader's campaigns left while no leader is known

  // Leader: writes proposed but not applied yet, by storage key: the image the next write of
  // that key must see as "previous" (nullopt = deleted).
  struct Pending {
    uint64_t index;
    uint64_t term;
    std::optional<std::string> image;
  };
  std::unordered_map<std::string, Pending> pending;
  // Answers waiting for the entry (index, term) to be applied: a proposed write's success,
  // and answers decided against a pending image (a failed condition, an invalid update):
  // those must not leave before the write they saw is committed, or a reader could still
  // see the older value afterwards. If another entry lands at that index instead, the
  // request was not applied and gets a stale-route answer (the router retries it).
  struct Waiter {
    uint64_t term;
    DataReply reply;
    std::shared_ptr<storage::v1::DataResponse> resp;
  };
  std::multimap<uint64_t, Waiter> waiters;
  std::deque<DataCallPtr> blocked_writes;  // arrived before the new leader was ready
  // Strongly consistent reads waiting for a lease and for the read index to be applied.
  struct DeferredRead {
    DataCallPtr call;
    bool have_index = false;
    uint64_t read_index = 0;
    int ticks_left = 0;
  };
  std::deque<DeferredRead> reads;

  // Snapshots (snapshot.cc). Leader: raft ids an image is being streamed to (one at a time
  // per follower; Raft's own retries meanwhile are ignored). Follower: images staged by the
  // receiver, by index, until Raft accepts one (then `installing` until its turn finishes).
  std::set<raft::NodeId> sending;
  std::map<uint64_t, StagedSnapshotPtr> staged;
  StagedSnapshotPtr installing;

  // Membership (membership.cc): the one change this leader is carrying out.
  struct MembershipOp {
    storage::v1::AdminRequest request;
    std::string reply_subject;
    bool directory_stage = false;  // waiting for the peer directory entry, then the conf change
    bool apply_stage = false;      // a split: answered once applied here, not just committed
    bool transfer_stage = false;   // a leadership transfer: answered once the target leads
    uint64_t done_split_hash = 0;  // a split: the hash it is (was) made at
    uint64_t index = 0;            // the entry waited for
    uint64_t term = 0;
    int ticks_left = 0;
  };
  std::optional<MembershipOp> membership;
  uint64_t last_split_index = 0;  // the last split entry applied here (compaction waits on it)
  raft::ConfState published_conf;  // what the counters show (republished when it changes)
  bool group_dirty = true;         // peer directory changed since last published


  static inline const char* name = "shoal.replica";
};

}  // namespace shoal::storage
