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

  // Registers --nats, --prefix, --log-level and --admin-port (env SHOAL_NATS_URL, ...).
  void add_options(CLI::App& app);
};

}  // namespace shoal
