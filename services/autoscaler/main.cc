// shoal-autoscaler: splits, rebalancing and fleet sizing from the storage nodes' stats.
// Wiring only; the decisions are in libs/autoscaler (policy.h), the I/O in its service.h.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "shoal/autoscaler/service.h"
#include "shoal/common/config.h"
#include "shoal/common/log.h"
#include "shoal/common/signals.h"
#include "shoal/http/admin.h"
#include "shoal/metrics/process.h"
#include "shoal/nats/connection.h"

int main(int argc, char** argv) {
  CLI::App app{"Shoal autoscaler: partition splits, replica rebalancing, desired node counts"};
  shoal::CommonConfig common;
  common.add_options(app);
  shoal::autoscaler::ServiceOptions options;
  auto& p = options.policy;
  int64_t interval_ms = options.interval.count();
  int64_t refresh_ms = options.catalog_refresh.count();
  int64_t heat_seconds = p.heat_ms / 1000;
  int64_t cooldown_ms = p.cooldown_ms;
  app.add_option("--interval-ms", interval_ms, "decision loop period")
      ->envname("SHOAL_AUTOSCALER_INTERVAL_MS")->check(CLI::Range(int64_t{10}, int64_t{3600000}));
  app.add_option("--catalog-refresh-ms", refresh_ms, "how often the catalog copy is refetched")
      ->envname("SHOAL_AUTOSCALER_CATALOG_REFRESH_MS")->check(CLI::Range(int64_t{10}, int64_t{3600000}));
  app.add_flag("--dry-run", options.dry_run, "log and count decisions, ask metadata for nothing")
      ->envname("SHOAL_AUTOSCALER_DRY_RUN");
  app.add_option("--split-size-bytes", p.split_size_bytes,
                 "split a partition larger than this, at its data median (default 10 GiB)")
      ->envname("SHOAL_SPLIT_SIZE_BYTES")->check(CLI::PositiveNumber);
  app.add_option("--heat-read-units", p.heat_read_units,
                 "per-partition read cap, RCU per second (DynamoDB: 3000)")
      ->envname("SHOAL_HEAT_READ_UNITS")->check(CLI::PositiveNumber);
  app.add_option("--heat-write-units", p.heat_write_units,
                 "per-partition write cap, WCU per second (DynamoDB: 1000)")
      ->envname("SHOAL_HEAT_WRITE_UNITS")->check(CLI::PositiveNumber);
  app.add_option("--heat-seconds", heat_seconds,
                 "a partition above a cap this long is split for heat")
      ->envname("SHOAL_HEAT_SECONDS")->check(CLI::Range(int64_t{1}, int64_t{86400}));
  app.add_option("--hot-key-percent", p.hot_key_percent,
                 "no heat split when one key hash has more than this share of the samples")
      ->envname("SHOAL_HOT_KEY_PERCENT")->check(CLI::Range(1, 100));
  app.add_option("--min-key-samples", p.min_key_samples,
                 "sampled requests needed before a heat split is decided")
      ->envname("SHOAL_MIN_KEY_SAMPLES");
  app.add_option("--cooldown-ms", cooldown_ms,
                 "after a decision about a partition, leave it alone this long")
      ->envname("SHOAL_AUTOSCALER_COOLDOWN_MS")->check(CLI::Range(int64_t{0}, int64_t{86400000}));
  app.add_option("--balance-percent", p.balance_percent,
                 "rebalance until every node is within this many percent of its zone's mean")
      ->envname("SHOAL_BALANCE_PERCENT")->check(CLI::Range(1, 100));
  app.add_option("--max-moves", p.max_moves, "replica moves under way at once (0: no rebalancing)")
      ->envname("SHOAL_MAX_MOVES")->check(CLI::Range(0, 1000));
  app.add_option("--max-leader-transfers", p.max_leader_transfers,
                 "leadership transfers per plan to balance leaders (0: no leader balancing)")
      ->envname("SHOAL_MAX_LEADER_TRANSFERS")->check(CLI::Range(0, 1000));
  app.add_option("--leader-load-floor", p.leader_load_floor_units,
                 "fleet leader load (units/s, a write counting 3) below which leaders are "
                 "balanced by count only")
      ->envname("SHOAL_LEADER_LOAD_FLOOR");
  app.add_option("--node-capacity-bytes", p.node_capacity_bytes,
                 "data one storage node is sized for (desired node count)")
      ->envname("SHOAL_NODE_CAPACITY_BYTES")->check(CLI::PositiveNumber);
  app.add_option("--node-read-units", p.node_read_units,
                 "read units per second one storage node is sized for")
      ->envname("SHOAL_NODE_READ_UNITS")->check(CLI::PositiveNumber);
  app.add_option("--node-write-units", p.node_write_units,
                 "write units per second one storage node is sized for")
      ->envname("SHOAL_NODE_WRITE_UNITS")->check(CLI::PositiveNumber);
  // Applying desired_nodes to the per-zone storage StatefulSets (libs/autoscaler/README.md).
  bool k8s_scale = false;
  shoal::autoscaler::K8sConfig k8s;
  shoal::autoscaler::ScalerOptions scaler;
  int64_t k8s_interval_ms = scaler.apply_interval.count();
  int64_t k8s_timeout_ms = k8s.timeout.count();
  std::string scale_once;
  app.add_flag("--k8s-scale", k8s_scale,
               "scale the per-zone storage StatefulSets up to the desired node counts")
      ->envname("SHOAL_AUTOSCALER_K8S_SCALE");
  app.add_option("--k8s-api", k8s.api_url,
                 "Kubernetes API https://host:port (default: in-cluster, KUBERNETES_SERVICE_HOST)")
      ->envname("SHOAL_K8S_API");
  app.add_option("--k8s-token-file", k8s.token_file,
                 "bearer token file (default: the pod's service account token)")
      ->envname("SHOAL_K8S_TOKEN_FILE");
  app.add_option("--k8s-ca-file", k8s.ca_file, "CA of the API server (default: the service account's ca.crt)")
      ->envname("SHOAL_K8S_CA_FILE");
  app.add_option("--k8s-client-cert", k8s.client_cert_file, "client certificate (PEM) instead of a token")
      ->envname("SHOAL_K8S_CLIENT_CERT");
  app.add_option("--k8s-client-key", k8s.client_key_file, "its private key (PEM)")
      ->envname("SHOAL_K8S_CLIENT_KEY");
  app.add_option("--k8s-namespace", k8s.namespace_name,
                 "namespace of the StatefulSets (default: the pod's own)")
      ->envname("SHOAL_K8S_NAMESPACE");
  app.add_option("--k8s-statefulset", scaler.statefulset_template,
                 "StatefulSet of a zone's storage nodes; {zone} is the zone as the chart writes "
                 "it in names (lower case, '.' and '_' as '-', 15 characters)")
      ->envname("SHOAL_K8S_STATEFULSET")->capture_default_str();
  app.add_option("--k8s-max-nodes-per-zone", scaler.max_nodes_per_zone,
                 "never scale a zone's StatefulSet above this")
      ->envname("SHOAL_K8S_MAX_NODES_PER_ZONE")->check(CLI::Range(1, 10000))->capture_default_str();
  app.add_option("--k8s-apply-interval-ms", k8s_interval_ms,
                 "evaluate each StatefulSet at most this often")
      ->envname("SHOAL_K8S_APPLY_INTERVAL_MS")->check(CLI::Range(int64_t{1000}, int64_t{86400000}))
      ->capture_default_str();
  app.add_option("--k8s-timeout-ms", k8s_timeout_ms, "one Kubernetes API request")
      ->envname("SHOAL_K8S_TIMEOUT_MS")->check(CLI::Range(int64_t{100}, int64_t{600000}))
      ->capture_default_str();
  app.add_option("--k8s-scale-once", scale_once,
                 "operator/test tool: apply zone=count[,zone=count...] once through the same "
                 "policy and client (scale up only, capped), print each outcome, exit; needs no NATS");
  CLI11_PARSE(app, argc, argv);
  shoal::block_termination_signals();  // before any thread starts
  options.interval = std::chrono::milliseconds(interval_ms);
  options.catalog_refresh = std::chrono::milliseconds(refresh_ms);
  p.heat_ms = heat_seconds * 1000;
  p.cooldown_ms = cooldown_ms;
  // Leader reports must outlive a hot period, or no partition would ever stay hot long enough.
  p.stats_ttl_ms = std::max<int64_t>(p.stats_ttl_ms, 3 * interval_ms);

  shoal::init_logging("autoscaler", common.log_level);
  scaler.apply_interval = std::chrono::milliseconds(k8s_interval_ms);
  scaler.dry_run = options.dry_run;
  k8s.timeout = std::chrono::milliseconds(k8s_timeout_ms);
  shoal::metrics::Registry registry;
  std::unique_ptr<shoal::autoscaler::K8sScaler> k8s_scaler;
  if (k8s_scale || !scale_once.empty()) {
    auto config = shoal::autoscaler::resolve_k8s_config(k8s);
    if (!config.ok()) {
      spdlog::critical("--k8s-scale: {}", config.status().to_string());
      return 1;
    }
    auto client = shoal::autoscaler::K8sClient::create(*config);
    if (!client.ok()) {
      spdlog::critical("--k8s-scale: {}", client.status().to_string());
      return 1;
    }
    spdlog::info("autoscaler: scaling StatefulSets {} in namespace {} via {}, up to {} per zone, "
                 "at most every {} ms{}",
                 scaler.statefulset_template, config->namespace_name, config->api_url,
                 scaler.max_nodes_per_zone, k8s_interval_ms, scaler.dry_run ? " (dry run)" : "");
    k8s_scaler = std::make_unique<shoal::autoscaler::K8sScaler>(std::move(*client), scaler, &registry);
  }
  if (!scale_once.empty()) {
    std::map<std::string, int> counts;
    for (size_t pos = 0; pos <= scale_once.size();) {
      size_t end = scale_once.find(',', pos);
      if (end == std::string::npos) end = scale_once.size();
      std::string item = scale_once.substr(pos, end - pos);
      pos = end + 1;
      auto eq = item.find('=');
      int n = 0;
      try {
        if (eq == std::string::npos || eq == 0) throw std::invalid_argument(item);
        size_t used = 0;
        n = std::stoi(item.substr(eq + 1), &used);
        if (used != item.size() - eq - 1 || n < 0) throw std::invalid_argument(item);
      } catch (const std::exception&) {
        spdlog::critical("--k8s-scale-once: expected zone=count, got '{}'", item);
        return 2;
      }
      counts[item.substr(0, eq)] = n;
    }
    int errors = 0;
    for (const auto& [zone, n] : counts) {
      auto o = k8s_scaler->apply_once(zone, n);
      std::printf("zone=%s statefulset=%s result=%s current=%d target=%d reason=%s\n",
                  zone.c_str(), shoal::autoscaler::statefulset_name(scaler.statefulset_template, zone).c_str(),
                  o.result.c_str(), o.current, o.target, o.reason.c_str());
      if (o.result == "error") ++errors;
    }
    std::fflush(stdout);
    return errors == 0 ? 0 : 1;
  }
  options.k8s = k8s_scaler.get();
  auto nats = shoal::nats::Connection::connect({.url = common.nats_url, .name = "shoal-autoscaler",
       .connect_timeout = std::chrono::milliseconds(common.nats_connect_timeout_ms)});
  if (!nats.ok()) {
    spdlog::critical("cannot connect to NATS at {}: {}", common.nats_url, nats.status().to_string());
    return 1;
  }
  shoal::metrics::register_process_metrics(registry, "autoscaler", SHOAL_VERSION);
  (*nats)->register_metrics(registry);
  shoal::autoscaler::AutoscalerService service(
      *nats, shoal::subjects::Subjects(common.subject_prefix), options, &registry);
  if (k8s_scaler) k8s_scaler->start();
  if (auto s = service.start(); !s.is_ok()) {
    spdlog::critical("autoscaler start failed: {}", s.to_string());
    return 1;
  }
  std::unique_ptr<shoal::http::AdminServer> admin;
  if (common.admin_port > 0) {
    admin = std::make_unique<shoal::http::AdminServer>(
        static_cast<uint16_t>(common.admin_port), &registry,
        [&nats, &service] { return (*nats)->connected() && service.ready(); });
    if (auto s = admin->start(); !s.is_ok()) {
      spdlog::critical("admin port {}: {}", common.admin_port, s.to_string());
      return 1;
    }
  }
  spdlog::info("autoscaler running{}: split above {} bytes, heat caps {} RCU / {} WCU for {} s, "
               "max {} moves, balance ±{}%, {} leader transfers per plan",
               options.dry_run ? " (dry run)" : "", p.split_size_bytes, p.heat_read_units,
               p.heat_write_units, heat_seconds, p.max_moves, p.balance_percent,
               p.max_leader_transfers);
  int sig = shoal::wait_for_termination_signal();
  spdlog::info("autoscaler stopping (signal {})", sig);
  service.stop();
  if (k8s_scaler) k8s_scaler->stop();
  return 0;
}
