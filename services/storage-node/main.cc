// shoal-storage-node: hosts partition replicas as CAF actors on RocksDB. Wiring only; logic
// in libs/storage.
#include <CLI/CLI.hpp>

#include <algorithm>


#include "shoal/common/config.h"
#include "shoal/common/log.h"
#include "shoal/common/signals.h"
#include "shoal/http/admin.h"
#include "shoal/metrics/process.h"
#include "shoal/nats/connection.h"
#include "shoal/storage/node.h"

int main(int argc, char** argv) {
  CLI::App app{"Shoal storage node"};
  shoal::CommonConfig common;
  common.add_options(app);
  shoal::storage::NodeOptions options;
  bool no_sync = false;
  app.add_option("--node-id", options.node_id, "stable node id")->required()->envname("SHOAL_NODE_ID");
  app.add_option("--zone", options.zone, "zone label (topology.kubernetes.io/zone)")
      ->required()->envname("SHOAL_ZONE");
  app.add_option("--data-dir", options.data_dir, "RocksDB directory")->required()->envname("SHOAL_DATA_DIR");
  app.add_flag("--no-sync", no_sync, "do not fsync commits (benchmarks of the CPU path only)");
  app.add_flag("--noop-data", options.noop_data,
               "answer data requests at once without storing anything (benchmarks of the "
               "router and NATS layers only; never for real data)");
  app.add_option("--raft-compact-entries", options.compact_threshold,
                 "compact a replica's Raft log once it holds this many applied entries "
                 "(0 = never)")
      ->envname("SHOAL_RAFT_COMPACT_ENTRIES");
  auto* keep = app.add_option("--raft-compact-keep", options.compact_keep,
                              "entries kept before the applied index when compacting, for "
                              "lagging followers (default min(1000, compact-entries / 10))")
                   ->envname("SHOAL_RAFT_COMPACT_KEEP");
  CLI11_PARSE(app, argc, argv);
  shoal::block_termination_signals();  // before any thread starts
  options.sync = !no_sync;
  if (keep->count() == 0) {
    options.compact_keep = std::min<uint64_t>(options.compact_keep, options.compact_threshold / 10);
  }

  shoal::init_logging("storage-node/" + options.node_id, common.log_level);
  auto nats = shoal::nats::Connection::connect(
      {.url = common.nats_url, .name = "shoal-storage-" + options.node_id,
       .connect_timeout = std::chrono::milliseconds(common.nats_connect_timeout_ms)});
  if (!nats.ok()) {
    spdlog::critical("cannot connect to NATS at {}: {}", common.nats_url, nats.status().to_string());
    return 1;
  }
  shoal::metrics::Registry registry;
  shoal::metrics::register_process_metrics(registry, "storage-node", SHOAL_VERSION);
  (*nats)->register_metrics(registry);
  shoal::storage::StorageNode node(*nats, shoal::subjects::Subjects(common.subject_prefix), options,
                                   &registry);
  if (auto s = node.start(); !s.is_ok()) {
    spdlog::critical("storage node start failed: {}", s.to_string());
    return 1;
  }
  std::unique_ptr<shoal::http::AdminServer> admin;
  if (common.admin_port > 0) {
    admin = std::make_unique<shoal::http::AdminServer>(
        static_cast<uint16_t>(common.admin_port), &registry, [&node] { return node.ready(); });
    if (auto s = admin->start(); !s.is_ok()) {
      spdlog::critical("admin port {}: {}", common.admin_port, s.to_string());
      return 1;
    }
  }
  spdlog::info("storage node {} ready in zone {}", options.node_id, options.zone);
  int sig = shoal::wait_for_termination_signal();
  spdlog::info("storage node stopping (signal {})", sig);
  node.stop();
  return 0;
}
