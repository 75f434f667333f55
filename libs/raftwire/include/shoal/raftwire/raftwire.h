#pragma once
// Conversions between libs/raft's types and their Protobuf forms (proto/shoal/raft/v1), shared
// by every embedding of libs/raft (storage partitions, the metadata catalog). libs/raft itself
// stays free of Protobuf.

#include "shoal/raft/types.h"
#include "shoal/raft/v1/raft.pb.h"

namespace shoal::raftwire {

void to_proto(const raft::Entry& e, raft::v1::Entry* out);
// False when the entry type is unknown.
bool from_proto(const raft::v1::Entry& e, raft::Entry* out);

void to_proto(const raft::SnapshotMeta& m, raft::v1::SnapshotMeta* out);
raft::SnapshotMeta from_proto(const raft::v1::SnapshotMeta& m);

void to_proto(const raft::HardState& h, raft::v1::HardState* out);
raft::HardState from_proto(const raft::v1::HardState& h);

// How a kSnapshot message carries its image: inline (the metadata catalog, small), or not at
// all because the embedding streams it by other means (storage partitions).
enum class SnapshotData : uint8_t { kInline, kSeparate };
void to_proto(const raft::Message& m, raft::v1::Message* out, SnapshotData data);
// False when `m` does not decode (unknown message or entry type, kSnapshot without meta).
bool from_proto(const raft::v1::Message& m, raft::Message* out);

}  // namespace shoal::raftwire
