#pragma once
// The autoscaler's decisions, as pure code: no NATS, no clock, no threads. The service
// (service.h) feeds it the storage nodes' stats and metadata's catalog and carries out what
// it returns; tests drive it with made-up stats and an explicit time.
//
//   Policy::observe()  folds one NodeStats message (shoal.stats.<node>) into per-partition
//                      windows. Only the leader replica's entry counts: it serves the reads,
//                      decides the writes and its size is the partition's.
//   Policy::plan()     returns what to do now: splits for size, splits for heat (or the
//                      refusal to split a single hot key / a load no split point separates),
//                      and replica moves that even out replica counts per zone.
//   desired_nodes()    storage nodes each zone should have for its data and load.
//
// Units are exact integers: bytes, and capacity in tenths of a unit (as the stats carry it;
// read_units_x10 = 5 is half a read unit). Rates are tenths of a unit per second.
//
// Thread-safety: none; the service serializes calls under its own mutex.

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "shoal/meta/v1/meta.pb.h"

namespace shoal::autoscaler {

struct Options {
  // Split a partition whose leader reports more bytes than this (DynamoDB: 10 GB).
  uint64_t split_size_bytes = 10ull << 30;
  // Per-partition throughput caps (DynamoDB: 3,000 RCU / 1,000 WCU per partition), in whole
  // units per second. A partition above either one for heat_ms is hot.
  uint64_t heat_read_units = 3000;
  uint64_t heat_write_units = 1000;
  int64_t heat_ms = 10000;
  // A heat split needs at least this many sampled requests over the hot period...
  uint64_t min_key_samples = 10;
  // ...no single key hash above this share of them (a single hot key: a split cannot help)...
  uint32_t hot_key_percent = 50;
  // ...and a split point leaving at least this share of the sampled load on each side.
  uint32_t min_side_percent = 10;
  // After a decision about a partition (split asked, or refused), leave it alone this long.
  // A size split asked again for the same range (the last one did not happen) waits twice as
  // long each time, up to 64 x.
  int64_t cooldown_ms = 10000;
  // A partition whose leader has not reported for this long is forgotten.
  int64_t stats_ttl_ms = 10000;
  // Rebalancing: every live node of a zone within this many percent of the zone's mean
  // replica count; at most max_moves replica moves under way in the whole fleet.
  uint32_t balance_percent = 20;
  int max_moves = 2;
  // Leader balancing (leaders take the writes and strongly consistent reads): at most this
  // many leadership transfers per plan; 0 turns it off.
  int max_leader_transfers = 4;
  // Below this fleet-wide leader load (units per second, writes weighing 3: see
  // plan_leaders) leaders are balanced by count only.
  uint64_t leader_load_floor_units = 100;
  // What one storage node is sized for (desired_nodes()).
  uint64_t node_capacity_bytes = 100ull << 30;
  uint64_t node_read_units = 30000;
  uint64_t node_write_units = 10000;
};

// What metadata knows, as the service last fetched it (ListTables + DescribeTable, ListNodes).
struct Catalog {
  std::map<std::string, meta::v1::Table> tables;  // by table_id
  std::vector<meta::v1::Node> nodes;
  // Wall-clock time of the fetch: partitions pinned by an operator past it
  // (Partition.pinned_until_epoch_ms) are neither moved nor have their leadership moved.
  int64_t fetched_epoch_ms = 0;
};

// Pinned by an operator at the catalog's fetch time.
bool pinned(const meta::v1::Partition& p, const Catalog& catalog);

enum class Kind {
  kSplitSize,          // split at the data median: the partition passed split_size_bytes
  kSplitHeat,          // split at the weighted median of the sampled key hashes
  kMove,               // move one replica to an emptier node of the same zone
  kNoSplitSingleKey,   // hot, but one key hash carries most of the load
  kNoSplitNoPoint,     // hot, but no split point leaves load on both sides
  kTransferLeader,     // hand a partition's leadership to another member
};
// The `kind` label value: split_size, split_heat, move, no_split_single_key, no_split_no_point,
// transfer_leader.
std::string_view kind_name(Kind kind);

struct Decision {
  Kind kind = Kind::kSplitSize;
  std::string table_id;
  std::string table_name;
  std::string partition_id;
  uint64_t split_hash = 0;  // splits: 0 = the data median (size), else lo < split_hash <= hi
  std::string from_node_id;  // moves
  std::string to_node_id;
  std::string zone;
  std::string reason;  // why, for the log and the RPC's reason field
};

// ---- Heat split point --------------------------------------------------------------------

struct SplitPoint {
  enum class Outcome { kSplit, kSingleKey, kNoPoint, kTooFewSamples };
  Outcome outcome = Outcome::kTooFewSamples;
  uint64_t split_hash = 0;  // kSplit: lo < split_hash <= hi
  uint64_t total = 0;       // sampled requests inside [lo, hi]
  uint64_t left = 0;        // of them, below split_hash (kSplit), else 0
  uint64_t top = 0;         // requests of the most sampled hash
};

// Where to split the inclusive range [lo, hi] so the sampled requests (hash -> count) fall
// about half on each side: between the two adjacent sampled hashes at the weighted median.
// Samples outside [lo, hi] are ignored.
SplitPoint heat_split_point(const std::map<uint64_t, uint64_t>& samples, uint64_t lo,
                            uint64_t hi, const Options& options);

// ---- Per-partition windows ---------------------------------------------------------------

struct PartitionWindow {
  std::string table_id;
  std::string partition_id;
  uint64_t hash_lo = 0;
  uint64_t hash_hi = 0;
  std::string leader_node_id;  // the node whose report is the latest leader report
  uint64_t size_bytes = 0;
  uint64_t item_count = 0;
  uint32_t learners = 0;
  int64_t last_report_ms = 0;
  // Rates of the latest leader report, tenths of a unit per second.
  uint64_t read_rate_x10 = 0;
  uint64_t write_rate_x10 = 0;
  // The current hot period: since when (-1: not hot) and the key hashes sampled during it.
  int64_t hot_since_ms = -1;
  std::map<uint64_t, uint64_t> samples;
  // Units and milliseconds of the leader reports of the last heat_ms (averages for sizing).
  struct Interval {
    int64_t at_ms;
    uint64_t read_units_x10;
    uint64_t write_units_x10;
    uint64_t interval_ms;
  };
  std::deque<Interval> recent;
  int64_t quiet_until_ms = 0;  // no decision about it before this
  // Size splits asked in a row while the range stayed the same (metadata drops one the
  // group refuses, e.g. all the data under one partition key): each doubles the cooldown.
  uint32_t size_asks = 0;
  uint64_t asked_lo = 0;
  uint64_t asked_hi = 0;

  // Average rates over `recent`, tenths of a unit per second.
  uint64_t avg_read_rate_x10() const;
  uint64_t avg_write_rate_x10() const;
};

class Policy {
 public:
  explicit Policy(Options options) : options_(options) {}

  const Options& options() const { return options_; }

  // Folds in one node's report received at `now_ms` (the autoscaler's clock: node clocks
  // may disagree). Follower entries are ignored. Returns how many leader entries it took.
  int observe(const meta::v1::NodeStats& stats, int64_t now_ms);

  // Forgets partitions whose leader has been silent for stats_ttl_ms.
  void expire(int64_t now_ms);

  // The decisions to take now against `catalog`. Split decisions (and refusals) put their
  // partition in cooldown and end its hot period, so each is returned once. Moves are
  // planned from the catalog alone (see plan_moves); the caller should plan them only with
  // a catalog fetched after its previous moves were accepted.
  std::vector<Decision> plan_splits(const Catalog& catalog, int64_t now_ms);

  const std::map<std::string, PartitionWindow>& partitions() const { return windows_; }

 private:
  void decided(PartitionWindow& w, int64_t now_ms);

  Options options_;
  std::map<std::string, PartitionWindow> windows_;  // by partition id
};

// ---- Rebalancing -------------------------------------------------------------------------

// Replica moves under way in the catalog (partitions with a ReplicaChange).
int moves_in_flight(const Catalog& catalog);

// Replicas per live, not draining node, counting moves under way as done.
std::map<std::string, int> replica_counts(const Catalog& catalog);

// Moves from the fullest to the emptiest node of a zone until every live node of the zone
// is within ±balance_percent of the zone's mean replica count (or no better spread exists:
// fullest - emptiest <= 1), at most max_moves - moves_in_flight of them, one per partition,
// zones taking turns. Only partitions of ACTIVE tables with no split or change under way
// move, never onto a node already holding a replica of the partition; a follower replica
// is preferred to the leader. With `policy`, which replica moves follows the load (every
// replica applies its partition's writes): from a node carrying more load than the target,
// the hottest candidate goes (the heat spreads onto the emptier node), else the coldest.
std::vector<Decision> plan_moves(const Catalog& catalog, const Options& options,
                                 const Policy* policy = nullptr);

// A partition's load as its leader last reported it: read units + 3 x write units per second,
// in tenths (averages over heat_ms). 0 without a report.
uint64_t partition_load_x10(const Policy& policy, const std::string& partition_id);

// Leadership transfers that even out the leaders per live, not draining node holding
// replicas, at most max_leader_transfers, one per partition. A partition's load is its
// leader's average rates over heat_ms, read units + 3 x write units (a write costs about
// three reads: the per-partition caps are 3,000 RCU / 1,000 WCU); its leader is the one the
// stats last reported (else the catalog's hint). Two rules, in turns:
//   load:  when the fleet's leader load is at least leader_load_floor_units and the most
//          loaded node is above the mean by more than balance_percent, its hottest partition
//          whose move lowers the peak goes to the least loaded member;
//   count: when the node leading the most partitions is outside the mean ±balance_percent
//          and leads at least two more than a member of one of its partitions, its coldest
//          such partition goes to that member (the one leading the fewest).
// Only partitions of ACTIVE tables with no split or change under way.
std::vector<Decision> plan_leaders(const Catalog& catalog, const Policy& policy);

// ---- Sizing ------------------------------------------------------------------------------

// Per zone: max(1, live nodes now, ceil(bytes of its replicas / node_capacity_bytes),
// ceil(read load / node_read_units), ceil(write load / node_write_units)). A partition's
// bytes and load (average over the last heat_ms) are its leader's report, counted in
// every zone holding one of its replicas.
std::map<std::string, int> desired_nodes(const Catalog& catalog, const Policy& policy);

// "9.1 MiB", "10 GiB", "512 B": for log lines.
std::string format_bytes(uint64_t bytes);
// "3250.5": tenths of a unit as a decimal.
std::string format_units_x10(uint64_t units_x10);

}  // namespace shoal::autoscaler
