#include "shoal/metrics/process.h"

namespace shoal::metrics {

void register_process_metrics(Registry& registry, const std::string& service,
                              const std::string& version) {
  BuildGauge()
      .Name("shoal_build_info")
      .Help("Always 1; labels name the service and the version it was built from")
      .Register(registry)
      .Add({{"service", service}, {"version", version}})
      .Set(1);
  BuildGauge()
      .Name("shoal_process_start_time_seconds")
      .Help("Start time of the process since the Unix epoch, in seconds")
      .Register(registry)
      .Add({})
      .SetToCurrentTime();
}

}  // namespace shoal::metrics
