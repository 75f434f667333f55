#pragma once
// Small helpers shared by the metadata service's source files (service.cc, repair.cc,
// scale.cc): wall-clock time and the Status every RPC response carries in field 1.

#include <chrono>
#include <cstdint>
#include <string>

#include "shoal/common/status.h"
#include "shoal/common/v1/status.pb.h"

namespace shoal::metadata {

inline int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline void set_status(common::v1::Status* out, const Status& s) {
  out->set_code(s.is_ok() ? common::v1::CODE_OK : static_cast<common::v1::Code>(s.code()));
  out->set_message(s.message());
}

// The reply carrying `s` (OK included).
template <class Resp>
std::string error_reply(const Status& s) {
  Resp r;
  set_status(r.mutable_status(), s);
  return r.SerializeAsString();
}

}  // namespace shoal::metadata
