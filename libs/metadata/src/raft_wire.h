#pragma once
// Conversions between libs/raft types and their Protobuf forms in meta.proto (the metadata
// group's wire and disk formats). Small on purpose; the storage nodes have their own.

#include "shoal/meta/v1/meta.pb.h"
#include "shoal/raft/types.h"

namespace shoal::metadata {

void to_proto(const raft::Entry& e, meta::v1::MetaRaftEntry* out);
bool from_proto(const meta::v1::MetaRaftEntry& e, raft::Entry* out);

void to_proto(const raft::SnapshotMeta& m, meta::v1::MetaRaftSnapshotMeta* out);
raft::SnapshotMeta from_proto(const meta::v1::MetaRaftSnapshotMeta& m);

void to_proto(const raft::HardState& h, meta::v1::MetaRaftHardState* out);
raft::HardState from_proto(const meta::v1::MetaRaftHardState& h);

void to_proto(const raft::Message& m, meta::v1::MetaRaftMessage* out);
// False when `m` does not decode (unknown message or entry type).
bool from_proto(const meta::v1::MetaRaftMessage& m, raft::Message* out);

}  // namespace shoal::metadata
