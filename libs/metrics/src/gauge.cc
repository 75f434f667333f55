#include "shoal/metrics/gauge.h"

#include <chrono>

namespace shoal::metrics {

void Gauge::SetToCurrentTime() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  Set(std::chrono::duration<double>(now).count());
}

}  // namespace shoal::metrics
