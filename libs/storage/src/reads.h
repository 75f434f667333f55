#pragma once
// Range reads of a replica (QUERY, SCAN): run on the replica actor, bounded by the request's
// limit and byte budget (DynamoDB's 1 MB page), so one call never reads without bound.

#include "replica.h"

namespace shoal::storage {

// `d`: the replica's descriptor as applied now (a split narrows its range). SCAN answers
// carry range_hi = d.hash_hi.
Status read_range(const ReplicaEnv& env, const storage::v1::ReplicaDescriptor& d,
                  const storage::v1::DataRequest& req, storage::v1::DataResponse* resp);

}  // namespace shoal::storage
