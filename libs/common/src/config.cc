#include "shoal/common/config.h"

namespace shoal {

void CommonConfig::add_options(CLI::App& app) {
  app.add_option("--nats", nats_url, "NATS server URL(s), comma separated")
      ->envname("SHOAL_NATS_URL");
  app.add_option("--prefix", subject_prefix, "NATS subject prefix")->envname("SHOAL_PREFIX");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")
      ->envname("SHOAL_LOG_LEVEL");
  app.add_option("--admin-port", admin_port, "port for /metrics and /healthz (0 = off)")
      ->envname("SHOAL_ADMIN_PORT");
  app.add_option("--nats-connect-timeout-ms", nats_connect_timeout_ms,
                 "keep trying to reach NATS at start-up this long")
      ->envname("SHOAL_NATS_CONNECT_TIMEOUT_MS")->check(CLI::Range(0, 3600000));
}

}  // namespace shoal
