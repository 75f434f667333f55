#pragma once
// Settings shared by every service's command line: NATS address, subject prefix, logging.
// Each service adds its own options to the same CLI11 app in main.cc.

#include <CLI/CLI.hpp>

#include <string>

namespace shoal {

struct CommonConfig {
  std::string nats_url = "nats://127.0.0.1:4222";
  std::string subject_prefix = "shoal";  // lets two fleets share one NATS
  std::string log_level = "info";
  int admin_port = 0;  // /metrics, /healthz; 0 = none
  // How long a starting service keeps trying to reach NATS before it gives up (a pod started
  // beside its NATS servers waits for them instead of crash-looping).
  int nats_connect_timeout_ms = 10000;

  // Registers --nats, --prefix, --log-level, --admin-port and --nats-connect-timeout-ms
  // (env SHOAL_NATS_URL, ...).
  void add_options(CLI::App& app);
};

}  // namespace shoal
