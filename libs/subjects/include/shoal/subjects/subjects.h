#pragma once
// The subject registry: every NATS subject Shoal uses is spelled here and nowhere else.
//
// All subjects start with a configurable prefix ("shoal" by default) so that two fleets can
// share one NATS. Construct one Subjects per process from the --prefix option.

#include <string>
#include <string_view>

namespace shoal::subjects {

class Subjects {
 public:
  explicit Subjects(std::string prefix = "shoal") : p_(std::move(prefix)) {}

  const std::string& prefix() const { return p_; }

  // Control-plane requests, served by the metadata service in queue group meta_queue().
  std::string meta_rpc(std::string_view op) const { return cat(".meta.rpc.", op); }
  std::string meta_rpc_wildcard() const { return p_ + ".meta.rpc.*"; }
  std::string meta_queue() const { return p_ + ".meta"; }
  // The metadata service is a Raft group of replicas named by --id (m0, m1, ...).
  // Raft messages to one metadata replica.
  std::string meta_raft(std::string_view replica_id) const { return cat(".meta.raft.", replica_id); }
  // Requests forwarded by a follower to the leader replica (not a queue group):
  // <prefix>.meta.replica.<id>.rpc.<Op>, answered on the original reply subject.
  std::string meta_replica_rpc(std::string_view replica_id, std::string_view op) const {
    return cat(".meta.replica.", replica_id) + ".rpc." + std::string(op);
  }
  std::string meta_replica_rpc_wildcard(std::string_view replica_id) const {
    return cat(".meta.replica.", replica_id) + ".rpc.*";
  }
  // The operation name of a meta_replica_rpc() subject for `replica_id` ("" if not one).
  std::string_view meta_replica_op(std::string_view replica_id, std::string_view subject) const {
    std::string head = cat(".meta.replica.", replica_id) + ".rpc.";
    if (subject.substr(0, head.size()) != head) return {};
    return subject.substr(head.size());
  }
  // Versioned partition-map and table events.
  std::string meta_events() const { return p_ + ".meta.events"; }

  // Item requests for replicas hosted on a node (replica named in the envelope).
  std::string node_data(std::string_view node_id) const { return node(node_id, ".data"); }
  // Raft traffic between replicas, batched per destination node.
  std::string node_raft(std::string_view node_id) const { return node(node_id, ".raft"); }
  // Snapshot chunks streamed to a node's replicas (request/reply, one chunk per request).
  std::string node_snap(std::string_view node_id) const { return node(node_id, ".snap"); }
  // Open / drop / stats of replicas.
  std::string node_admin(std::string_view node_id) const { return node(node_id, ".admin"); }

  // Periodic per-partition stats for the autoscaler.
  std::string stats(std::string_view node_id) const { return cat(".stats.", node_id); }
  std::string stats_wildcard() const { return p_ + ".stats.*"; }

  // Change data capture (JetStream stream SHOAL_CDC).
  std::string cdc(std::string_view table_id, std::string_view partition_id) const {
    return cat(".cdc.", table_id) + "." + std::string(partition_id);
  }

  // Operation names on meta_rpc().
  static constexpr std::string_view kCreateTable = "CreateTable";
  static constexpr std::string_view kDescribeTable = "DescribeTable";
  static constexpr std::string_view kListTables = "ListTables";
  static constexpr std::string_view kDeleteTable = "DeleteTable";
  static constexpr std::string_view kHeartbeat = "Heartbeat";
  static constexpr std::string_view kListNodes = "ListNodes";
  static constexpr std::string_view kListAccessKeys = "ListAccessKeys";
  static constexpr std::string_view kUpdateTable = "UpdateTable";
  static constexpr std::string_view kTagResource = "TagResource";
  static constexpr std::string_view kUntagResource = "UntagResource";
  static constexpr std::string_view kListTagsOfResource = "ListTagsOfResource";
  static constexpr std::string_view kSplitPartition = "SplitPartition";
  static constexpr std::string_view kMoveReplica = "MoveReplica";
  static constexpr std::string_view kDrainNode = "DrainNode";
  static constexpr std::string_view kTransferLeader = "TransferLeader";
  static constexpr std::string_view kPinPartition = "PinPartition";

  // The operation name of a meta_rpc() subject ("" if it is not one).
  std::string_view meta_op(std::string_view subject) const {
    std::string head = p_ + ".meta.rpc.";
    if (subject.substr(0, head.size()) != head) return {};
    return subject.substr(head.size());
  }

 private:
  std::string cat(std::string_view mid, std::string_view tail) const {
    std::string s;
    s.reserve(p_.size() + mid.size() + tail.size());
    s.append(p_).append(mid).append(tail);
    return s;
  }
  std::string node(std::string_view id, std::string_view tail) const {
    return cat(".node.", id) + std::string(tail);
  }
  std::string p_;
};

}  // namespace shoal::subjects
