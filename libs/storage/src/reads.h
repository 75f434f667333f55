#pragma once
// Range reads of a replica (QUERY, SCAN): run on the replica actor, bounded by the request's
// limit and byte budget (DynamoDB's 1 MB page), so one call never reads without bound.

#include "replica.h"

namespace shoal::storage {

Status read_range(const ReplicaEnv& env, const storage::v1::DataRequest& req,
                  storage::v1::DataResponse* resp);

}  // namespace shoal::storage
