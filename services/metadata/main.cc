// shoal-metadata: catalog, partition map, node registry. Wiring only; logic in libs/metadata.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>

#include "shoal/common/config.h"
#include "shoal/common/log.h"
#include "shoal/common/signals.h"
#include "shoal/http/admin.h"
#include "shoal/metadata/service.h"
#include "shoal/metrics/process.h"
#include "shoal/nats/connection.h"

int main(int argc, char** argv) {
  CLI::App app{"Shoal metadata service"};
  shoal::CommonConfig common;
  common.add_options(app);
  shoal::metadata::MetadataOptions options;
  int node_timeout_ms = 5000;
  app.add_option("--data-dir", options.data_dir, "RocksDB directory")->required()->envname("SHOAL_DATA_DIR");
  app.add_option("--partitions", options.default_partitions, "initial partitions per table")
      ->envname("SHOAL_DEFAULT_PARTITIONS")->check(CLI::Range(1, 1024));
  app.add_option("--replicas", options.replication_factor, "replicas per partition")
      ->envname("SHOAL_REPLICAS")->check(CLI::Range(1, 3));
  app.add_option("--node-timeout-ms", node_timeout_ms, "a node without heartbeat this long is down");
  int64_t replace_after_ms = options.replace_after.count();
  app.add_option("--replace-after-ms", replace_after_ms,
                 "replace the replicas of a node without heartbeat this long (0: never)")
      ->envname("SHOAL_REPLACE_AFTER_MS");
  int64_t reopen_missing_after_ms = options.reopen_missing_after.count();
  app.add_option("--reopen-missing-after-ms", reopen_missing_after_ms,
                 "open a member's replica again when its heartbeats leave it out this long "
                 "(0: never)")
      ->envname("SHOAL_REOPEN_MISSING_AFTER_MS")->check(CLI::NonNegativeNumber);
  // The metadata Raft group: this replica's name and every replica's name (same list on each).
  // Raft ids: position of the name in the sorted list + 1. In Kubernetes (StatefulSet of 3):
  // --id-from-hostname --peers m0,m1,m2 names pod shoal-metadata-<n> "m<n>".
  app.add_option("--id", options.id, "metadata replica name (default m1)")
      ->envname("SHOAL_METADATA_ID");
  bool id_from_hostname = false;
  app.add_flag("--id-from-hostname", id_from_hostname,
               "name this replica m<ordinal> from a StatefulSet hostname <name>-<ordinal>")
      ->envname("SHOAL_METADATA_ID_FROM_HOSTNAME");
  app.add_option("--peers", options.peers, "all metadata replica names, comma separated "
                                           "(default: just --id)")
      ->envname("SHOAL_METADATA_PEERS")->delimiter(',');
  // The local fleet's documented default pair (README); real deployments pass their own.
  std::vector<std::string> keys = {"shoal:shoal-secret"};
  app.add_option("--access-key", keys, "SigV4 access key ID:SECRET the routers accept (repeatable)")
      ->envname("SHOAL_ACCESS_KEYS")->delimiter(',');
  CLI11_PARSE(app, argc, argv);
  if (id_from_hostname) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    std::string h = host;
    auto dash = h.rfind('-');
    std::string ordinal = dash == std::string::npos ? "" : h.substr(dash + 1);
    if (ordinal.empty() || ordinal.find_first_not_of("0123456789") != std::string::npos) {
      std::fprintf(stderr, "--id-from-hostname: hostname '%s' has no -<ordinal>\n", host);
      return 2;
    }
    options.id = "m" + ordinal;
  }
  for (const auto& k : keys) {
    auto colon = k.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == k.size()) {
      std::fprintf(stderr, "--access-key must be ID:SECRET, got '%s'\n", k.c_str());
      return 2;
    }
    options.access_keys.emplace_back(k.substr(0, colon), k.substr(colon + 1));
  }
  shoal::block_termination_signals();  // before any thread starts
  options.node_timeout = std::chrono::milliseconds(node_timeout_ms);
  options.replace_after = std::chrono::milliseconds(replace_after_ms);
  options.reopen_missing_after = std::chrono::milliseconds(reopen_missing_after_ms);

  shoal::init_logging("metadata", common.log_level);
  auto nats = shoal::nats::Connection::connect({.url = common.nats_url, .name = "shoal-metadata",
       .connect_timeout = std::chrono::milliseconds(common.nats_connect_timeout_ms)});
  if (!nats.ok()) {
    spdlog::critical("cannot connect to NATS at {}: {}", common.nats_url, nats.status().to_string());
    return 1;
  }
  shoal::metrics::Registry registry;
  shoal::metrics::register_process_metrics(registry, "metadata", SHOAL_VERSION);
  (*nats)->register_metrics(registry);
  shoal::metadata::MetadataService service(*nats, shoal::subjects::Subjects(common.subject_prefix),
                                           options, &registry);
  if (auto s = service.start(); !s.is_ok()) {
    spdlog::critical("metadata start failed: {}", s.to_string());
    return 1;
  }
  std::unique_ptr<shoal::http::AdminServer> admin;
  if (common.admin_port > 0) {
    admin = std::make_unique<shoal::http::AdminServer>(
        static_cast<uint16_t>(common.admin_port), &registry, [&service] { return service.ready(); });
    if (auto s = admin->start(); !s.is_ok()) {
      spdlog::critical("admin port {}: {}", common.admin_port, s.to_string());
      return 1;
    }
  }
  spdlog::info("metadata {} ready (data in {})", options.id, options.data_dir);
  int sig = shoal::wait_for_termination_signal();
  spdlog::info("metadata stopping (signal {})", sig);
  service.stop();
  return 0;
}
