#pragma once
// Series every Shoal process exports, whatever its service:
//   shoal_build_info{service,version} = 1 (a gauge, to join other series on in PromQL)
//   shoal_process_start_time_seconds  = Unix time of the call (made once, at startup)
//
// Thread-safety: as Registry. Calling it twice with the same registry adds the second
// service's build_info series and moves the start time (tests only).

#include <string>

#include "shoal/metrics/registry.h"

namespace shoal::metrics {

void register_process_metrics(Registry& registry, const std::string& service,
                              const std::string& version);

}  // namespace shoal::metrics
