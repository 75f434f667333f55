#pragma once
// CatalogRaft: the metadata catalog as a replicated state machine on a libs/raft Node.
//
// One raft thread owns the Node. Inputs (messages from peers over NATS, proposals, ticks of
// the steady clock) are queued and handled in turns; each turn catches up the ticks that are
// due, steps the queued messages, proposes the queued commands and then handles every Ready:
//   1. persist hard state + entries (and an installed snapshot) in one synced RocksDB batch,
//   2. send the messages (a kSnapshot message gets the applied catalog as its image),
//   3. apply committed CatalogWrite entries to the "catalog" family and the in-memory copy,
//   4. advance(); then compact once the log holds more than compact_after entries.
//
// Disk layout (one RocksDB, libs/store):
//   family "catalog": table/<name> -> Table, seq/table -> decimal table sequence,
//                     drain/<node id> -> "" (a storage node marked draining),
//                     raft/applied -> decimal last applied index (written with each apply)
//   family "raft":    hs -> raft.v1.HardState, snap -> raft.v1.SnapshotMeta (the compaction
//                     point; the catalog family is the image), log/<20-digit index> -> entry
//
// Replica ids: --peers lists the names of all replicas (the same list everywhere); the raft
// id of a name is its position in the sorted list + 1 (m0,m1,m2 -> 1,2,3). The set is fixed:
// changing it needs membership changes, which are not wired up.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "shoal/common/status.h"
#include "shoal/meta/v1/meta.pb.h"
#include "shoal/nats/connection.h"
#include "shoal/raft/node.h"
#include "shoal/store/store.h"
#include "shoal/subjects/subjects.h"

namespace shoal::metadata {

struct CatalogRaftOptions {
  std::string id;                   // this replica's name
  std::vector<std::string> peers;   // every replica's name, this one included
  std::chrono::milliseconds tick{100};
  int election_ticks = 10;
  uint64_t compact_after = 1000;    // log entries kept before the log is compacted
};

struct RaftStatus {
  bool leader = false;    // this replica leads its current term
  bool serving = false;   // leader, its own-term no-op committed and everything applied
  bool lease = false;     // leader holding a read lease (raft::Node::has_lease)
  uint64_t term = 0;
  std::string leader_id;  // the leader's name as far as known, "" if unknown
  uint64_t applied = 0;
};

class CatalogRaft {
 public:
  CatalogRaft(std::shared_ptr<nats::Connection> nats, subjects::Subjects subjects,
              store::Store* store, CatalogRaftOptions options);
  ~CatalogRaft();

  // Loads the catalog and the raft state, subscribes to this replica's raft subject and
  // starts the raft thread. A single-replica group elects itself at once.
  Status start();
  void stop();

  // Proposes `w` (leader only) and waits until it is committed and applied here.
  // kUnavailable when not leader or the entry was lost to a leader change;
  // kDeadlineExceeded after `timeout` (the entry may still be applied later).
  Status propose(const meta::v1::CatalogWrite& w, std::chrono::milliseconds timeout);

  RaftStatus status() const;
  // Waits up to `timeout` for pred(status()); returns the last status seen.
  RaftStatus wait_status(const std::function<bool(const RaftStatus&)>& pred,
                         std::chrono::milliseconds timeout) const;
  // A copy of the applied catalog.
  void copy_catalog(std::map<std::string, meta::v1::Table>* tables, uint64_t* seq,
                    std::set<std::string>* draining = nullptr) const;
  uint64_t log_first_index() const;  // first entry still in the log (tests)
  uint64_t raft_id() const { return self_; }

 private:
  struct Proposal {
    std::string data;
    std::promise<Status> done;
  };
  using ProposalPtr = std::shared_ptr<Proposal>;

  Status load();
  void on_message(nats::MessagePtr m);
  void run();
  void handle_ready();
  void send(raft::Message m);
  void apply(const std::vector<raft::Entry>& committed);
  void maybe_compact();
  void fail_pending(const Status& s);
  void publish_status();
  [[noreturn]] void fatal(const std::string& what, const Status& s);

  std::shared_ptr<nats::Connection> nats_;
  subjects::Subjects subjects_;
  store::Store* store_;
  CatalogRaftOptions options_;
  std::vector<std::string> names_;  // raft id - 1 -> name
  raft::NodeId self_ = raft::kNoNode;
  store::CfPtr catalog_;
  store::CfPtr raft_cf_;

  // Raft thread only (after start()).
  std::unique_ptr<raft::Node> node_;
  std::map<uint64_t, std::pair<uint64_t, ProposalPtr>> pending_;  // index -> (term, proposal)
  std::chrono::steady_clock::time_point next_tick_;

  // Inputs.
  std::mutex in_mu_;
  std::condition_variable in_cv_;
  std::vector<raft::Message> inbox_;
  std::vector<ProposalPtr> proposals_;
  bool wake_ = false;
  bool stop_ = false;
  bool started_ = false;

  // The applied state machine and the published status.
  mutable std::mutex sm_mu_;
  mutable std::condition_variable status_cv_;
  std::map<std::string, meta::v1::Table> tables_;
  uint64_t seq_ = 0;
  std::set<std::string> draining_;
  uint64_t applied_ = 0;
  uint64_t first_index_ = 1;
  RaftStatus status_;

  std::optional<nats::Subscription> sub_;
  std::thread thread_;
};

}  // namespace shoal::metadata
