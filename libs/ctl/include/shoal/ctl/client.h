#pragma once
// shoalctl's view of the fleet: the metadata service's RPCs (shoal.meta.rpc.<Op>) and the
// storage nodes' replica numbers, over one NATS connection.
//
// Every call blocks (request_sync): never call one from a NATS callback of the same
// connection. A metadata answer UNAVAILABLE (no leader yet, an election) is retried until
// `rpc_timeout` has passed; other errors come back as the metadata service's Status.
// Thread-safety: a Client may be used from several threads at once.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "shoal/common/status.h"
#include "shoal/ctl/view.h"
#include "shoal/meta/v1/meta.pb.h"
#include "shoal/nats/connection.h"
#include "shoal/subjects/subjects.h"

namespace shoal::ctl {

struct ClientOptions {
  std::chrono::milliseconds rpc_timeout{5000};    // one metadata RPC, retries included
  std::chrono::milliseconds stats_timeout{1000};  // one storage node's ADMIN_OP_STATS
  // How long to listen to shoal.stats.<node> for nodes whose admin subject did not answer.
  std::chrono::milliseconds node_stats_wait{1500};
};

class Client {
 public:
  Client(std::shared_ptr<nats::Connection> nats, subjects::Subjects subjects,
         ClientOptions options = {});

  // Every table name, in order (all pages of ListTables).
  Result<std::vector<std::string>> list_tables();
  // The internal Table record: partitions, replicas, leaders, changes under way.
  Result<meta::v1::Table> describe_table(const std::string& name);
  Result<std::vector<meta::v1::Node>> list_nodes();

  // Numbers of the replicas on `node_ids`: ADMIN_OP_STATS to all of them at once; for the
  // nodes that do not answer, their NodeStats (published every second) heard within
  // node_stats_wait. Nodes that say nothing either way are left out.
  StatsIndex gather_stats(const std::vector<std::string>& node_ids);
  // Every node hosting a replica of `tables` (sorted, unique).
  static std::vector<std::string> replica_nodes(const std::vector<meta::v1::Table>& tables);

  // describe_table() and gather_stats() of its replicas' nodes: what `shoalctl partitions`
  // and the router's /admin/tables/<name>/partitions show.
  struct TableWithStats {
    meta::v1::Table table;
    StatsIndex stats;
  };
  Result<TableWithStats> table_with_stats(const std::string& name);

  Result<meta::v1::SplitPartitionResponse> split_partition(
      const meta::v1::SplitPartitionRequest& r);
  Result<meta::v1::MoveReplicaResponse> move_replica(const meta::v1::MoveReplicaRequest& r);
  Result<meta::v1::DrainNodeResponse> drain_node(const meta::v1::DrainNodeRequest& r);
  Result<meta::v1::TransferLeaderResponse> transfer_leader(
      const meta::v1::TransferLeaderRequest& r);
  Result<meta::v1::PinPartitionResponse> pin_partition(const meta::v1::PinPartitionRequest& r);

 private:
  // Sends `req` to meta_rpc(op) and parses the answer; its Status (field 1) decides.
  template <class Resp>
  Result<Resp> rpc(std::string_view op, const google::protobuf::Message& req);

  std::shared_ptr<nats::Connection> nats_;
  subjects::Subjects subjects_;
  ClientOptions options_;
};

// The metadata Status of an answer as a shoal::Status (CODE_UNSPECIFIED counts as OK: a
// message that carries no status).
Status status_from_proto(const common::v1::Status& s);

}  // namespace shoal::ctl
