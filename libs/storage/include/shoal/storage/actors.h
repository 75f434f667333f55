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
//   (campaign_atom)                 -> the designated first leader of a new group campaigns.
//   (persisted_atom, uint64 turn)   -> the group commit made Raft turn `turn`'s hard state
//                                      and entries durable: send, apply, advance.
//   (status_atom)                   -> ReplicaStatus snapshot (admin stats, heartbeats).

#include <caf/all.hpp>

#include <memory>
#include <string>

#include "shoal/raft/types.h"
#include "shoal/storage/v1/storage.pb.h"

namespace shoal::storage {

// One item request received from NATS: the parsed envelope and where to answer.
struct DataCall {
  storage::v1::DataRequest request;
  std::string reply_subject;
};
using DataCallPtr = std::shared_ptr<DataCall>;

using RaftMessagePtr = std::shared_ptr<const raft::Message>;

}  // namespace shoal::storage

CAF_BEGIN_TYPE_ID_BLOCK(shoal_storage, caf::first_custom_type_id + 100)
  CAF_ADD_TYPE_ID(shoal_storage, (shoal::storage::DataCallPtr))
  CAF_ADD_TYPE_ID(shoal_storage, (shoal::storage::RaftMessagePtr))
  CAF_ADD_ATOM(shoal_storage, shoal::storage, tick_atom, "tick")
  CAF_ADD_ATOM(shoal_storage, shoal::storage, campaign_atom, "campaign")
  CAF_ADD_ATOM(shoal_storage, shoal::storage, persisted_atom, "persisted")
CAF_END_TYPE_ID_BLOCK(shoal_storage)

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::storage::DataCallPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::storage::RaftMessagePtr)
