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
//   (committed_atom, uint64 index, std::string key)
//                                   -> the entry `index` touching `key` is durable; the
//                                      actor forgets its pending image of `key` if no newer
//                                      write replaced it.

#include <caf/all.hpp>

#include <memory>
#include <string>

#include "shoal/storage/v1/storage.pb.h"

namespace shoal::storage {

// One item request received from NATS: the parsed envelope and where to answer.
struct DataCall {
  storage::v1::DataRequest request;
  std::string reply_subject;
};
using DataCallPtr = std::shared_ptr<DataCall>;

}  // namespace shoal::storage

CAF_BEGIN_TYPE_ID_BLOCK(shoal_storage, caf::first_custom_type_id + 100)
  CAF_ADD_TYPE_ID(shoal_storage, (shoal::storage::DataCallPtr))
  CAF_ADD_ATOM(shoal_storage, shoal::storage, committed_atom, "committed")
CAF_END_TYPE_ID_BLOCK(shoal_storage)

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::storage::DataCallPtr)
