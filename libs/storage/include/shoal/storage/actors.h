#pragma once
// CAF message types and actor interfaces of the storage node, declared in one place.
//
// CAF messages never leave the process (Protobuf is the only format on NATS). Types carried
// in messages get type ids here; the build defines CAF_ENABLE_TYPE_ID_CHECKS so a type
// without an id fails to compile.
//
// Replica actor (one per partition replica, spawned by StorageNode):
//   (DataCallPtr)                   -> an item request from NATS; the actor answers on
//                                      NATS itself (reply subject in the call), possibly
//                                      after the group commit made the write durable.
//   (RaftMessagePtr)                -> a Raft message from a peer replica (over NATS).
//   (tick_atom)                     -> one Raft tick (StorageNode's ticker, every tick_interval).
//   (campaign_atom)                 -> the designated first leader of a new group (a new
//                                      table's, or a split's child) campaigns, and again
//   (campaign_retry_atom)              every 25 ms (sent to itself) while no leader is known:
//                                      its first vote requests may reach peers that have not
//                                      created the replica yet (they apply the split a moment
//                                      later) and are lost; waiting out an election timeout
//                                      instead would leave the range without a leader ~1 s.
//   (persisted_atom, uint64 turn)   -> the group commit made Raft turn `turn`'s hard state
//                                      and entries durable: send, apply, advance.
//   (MembershipCallPtr)             -> ADD_LEARNER / PROMOTE / REMOVE_PEER from the admin
//                                      subject; the actor answers on NATS itself once the
//                                      change is committed (or refused).
//   (StagedSnapshotPtr)             -> a leader's image, received and verified by this node's
//                                      SnapshotReceiver: step its kSnapshot message, install
//                                      the staged family if Raft accepts it.
//   (snapshot_sent_atom, uint64 to, bool ok) -> a SnapshotSender finished streaming an image
//                                      to raft id `to` (ok: acknowledged and handed over).

#include <caf/all.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "shoal/raft/types.h"
#include "shoal/storage/v1/storage.pb.h"
#include "shoal/store/store.h"

namespace shoal::storage {

// Where a data request is answered, and what its answer is timed against
// (shoal_storage_request_duration_seconds{op}).
struct DataReply {
  std::string subject;  // empty: no answer expected
  storage::v1::DataOp op = storage::v1::DATA_OP_UNSPECIFIED;
  std::chrono::steady_clock::time_point received;  // when the node took it off NATS
};

// One item request received from NATS: the parsed envelope and where to answer.
struct DataCall {
  storage::v1::DataRequest request;
  DataReply reply;
};
using DataCallPtr = std::shared_ptr<DataCall>;

using RaftMessagePtr = std::shared_ptr<const raft::Message>;

// A membership admin request (AdminRequest with op ADD_LEARNER, PROMOTE or REMOVE_PEER).
struct MembershipCall {
  storage::v1::AdminRequest request;
  std::string reply_subject;
};
using MembershipCallPtr = std::shared_ptr<const MembershipCall>;

// A leader's state machine image, staged in its own column family by the SnapshotReceiver
// (see src/snapshot.h). The replica installs it when Raft accepts `message`.
struct StagedSnapshot {
  raft::Message message;  // kSnapshot; snapshot->meta = the image's (index, term, conf)
  store::CfPtr family;    // the image's items; becomes the replica's data family on install
  std::vector<storage::v1::Peer> peers;  // the group's peer directory at the image
  uint64_t item_count = 0;
  uint64_t data_bytes = 0;
  bool has_range = false;  // the partition's hash range at the image
  uint64_t hash_lo = 0;
  uint64_t hash_hi = 0;
};
using StagedSnapshotPtr = std::shared_ptr<const StagedSnapshot>;

}  // namespace shoal::storage

CAF_BEGIN_TYPE_ID_BLOCK(shoal_storage, caf::first_custom_type_id + 100)
  CAF_ADD_TYPE_ID(shoal_storage, (shoal::storage::DataCallPtr))
  CAF_ADD_TYPE_ID(shoal_storage, (shoal::storage::RaftMessagePtr))
  CAF_ADD_ATOM(shoal_storage, shoal::storage, tick_atom, "tick")
  CAF_ADD_ATOM(shoal_storage, shoal::storage, campaign_atom, "campaign")
  CAF_ADD_ATOM(shoal_storage, shoal::storage, persisted_atom, "persisted")
  CAF_ADD_TYPE_ID(shoal_storage, (shoal::storage::MembershipCallPtr))
  CAF_ADD_TYPE_ID(shoal_storage, (shoal::storage::StagedSnapshotPtr))
  CAF_ADD_ATOM(shoal_storage, shoal::storage, snapshot_sent_atom, "snapsent")
  CAF_ADD_ATOM(shoal_storage, shoal::storage, campaign_retry_atom, "campretry")
CAF_END_TYPE_ID_BLOCK(shoal_storage)

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::storage::DataCallPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::storage::RaftMessagePtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::storage::MembershipCallPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::storage::StagedSnapshotPtr)
