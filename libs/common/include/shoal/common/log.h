#pragma once
// Logging: spdlog with one format across services. `init_logging` is called once from main.

#include <spdlog/spdlog.h>

#include <string>

namespace shoal {

// `service` names the process in every line (e.g. "storage-node/n1"); `level` is a spdlog
// level name ("info", "debug", ...). Thread-safe after the call returns.
void init_logging(const std::string& service, const std::string& level);

}  // namespace shoal
