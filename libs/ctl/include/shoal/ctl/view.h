#pragma once
// What shoalctl shows, as text tables and as JSON, built from the metadata service's records
// (meta.v1 Table / Node) and the storage nodes' per-replica numbers (StatsIndex).
//
// The JSON documents (one object per command; hashes as "0x"-prefixed hex strings, since
// JSON numbers lose precision beyond 2^53; unknown numbers as null):
//
//   partitions: {"table", "table_id", "status", "map_epoch",
//                "partitions": [{"id", "hash_lo", "hash_hi", "leader",
//                                "replicas": [{"node", "zone", "leader"}],
//                                "items", "size_bytes",
//                                "operation": null | {"type": "split", "new_partition_id",
//                                    "split_hash", "reason"}
//                                  | {"type": "replica_change", "stage", "from", "to",
//                                    "zone", "reason"}}]}
//   tables:     {"tables": [{"name", "table_id", "status", "partitions", "items",
//                            "size_bytes"}]}
//   nodes:      {"nodes": [{"node", "zone", "alive", "draining", "replicas", "leaders"}]}
//
// `shoalctl partitions --json` and the router's GET /admin/tables/<name>/partitions print
// the same partitions document. Pure functions; thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shoal/meta/v1/meta.pb.h"
#include "shoal/storage/v1/storage.pb.h"

namespace shoal::ctl {

// Items and bytes of the replicas of each partition, as the storage nodes report them.
class StatsIndex {
 public:
  struct Entry {
    std::string node_id;
    bool leader = false;  // the replica said it leads its group
    uint64_t items = 0;
    uint64_t size_bytes = 0;
  };

  // One replica's numbers; a later report of the same (partition, node) replaces it.
  void add(std::string_view partition_id, std::string_view node_id, bool leader, uint64_t items,
           uint64_t size_bytes);
  // Every replica of an ADMIN_OP_STATS answer of `node_id`.
  void add(std::string_view node_id, const storage::v1::AdminResponse& response);
  // Every partition of a NodeStats message.
  void add(const meta::v1::NodeStats& stats);

  // The numbers to show for a partition: its leader's (`leader_node_id`, as the catalog
  // knows it), else a replica that says it leads, else any replica's; null if none reported.
  const Entry* pick(std::string_view partition_id, std::string_view leader_node_id) const;
  bool empty() const { return by_partition_.empty(); }

 private:
  std::map<std::string, std::vector<Entry>, std::less<>> by_partition_;
};

// "ACTIVE", "CREATING", ...
std::string table_status_name(meta::v1::TableStatus status);
// "add-learner", "catch-up", ... ("none" for STAGE_NONE).
std::string stage_name(meta::v1::ReplicaChange::Stage stage);
// "n1@zone-a* n2@zone-b n3@zone-c": the leader marked with '*'.
std::string replicas_text(const meta::v1::Partition& p);
// What is under way on the partition: "split at 0x... -> t1.2 (reason)", "replica n1 -> n4:
// catch-up (drain)", both separated by "; ", or "-" when nothing is.
std::string operation_text(const meta::v1::Partition& p);

// The text tables (header row first, every line ending in '\n').
std::string partitions_text(const meta::v1::Table& table, const StatsIndex& stats);
std::string tables_text(const std::vector<meta::v1::Table>& tables, const StatsIndex& stats);
std::string nodes_text(const std::vector<meta::v1::Node>& nodes);

// The JSON documents described above (indented by two spaces, ending in '\n').
std::string partitions_json(const meta::v1::Table& table, const StatsIndex& stats);
std::string tables_json(const std::vector<meta::v1::Table>& tables, const StatsIndex& stats);
std::string nodes_json(const std::vector<meta::v1::Node>& nodes);

// The partition a command line names: its full id, or its number within the table ("2" for
// "<table_id>.2"). Null if the table has no such partition.
const meta::v1::Partition* find_partition(const meta::v1::Table& table, std::string_view arg);

}  // namespace shoal::ctl
