#pragma once
// Query and Scan share one driver: read pages from partitions (one for a Query, the
// partitions overlapping a hash range for a Scan) until DynamoDB's page ends, then answer
// Items / Count / ScannedCount / LastEvaluatedKey.

#include "capacity.h"
#include "expressions.h"

namespace shoal::router {

struct PagedRead {
  std::string table;      // name, for routing
  TableInfoPtr info;
  // Template for each storage request: op, table id, pk, sort range, direction, start.
  storage::v1::DataRequest request;
  uint64_t hash_lo = 0;   // SCAN: hash range still to read (inclusive)
  uint64_t hash_hi = ~0ull;
  uint32_t limit = 0;     // Limit (0 = none)
  bool count_only = false;                          // Select=COUNT
  ConsumedMode consumed = ConsumedMode::kNone;
};

// Runs the read and answers the call.
void run_paged_read(Router::Impl& r, const CallPtr& call, std::shared_ptr<PagedRead> read);

// Limit / Select / ConsistentRead / projection / filter parameters common to Query and Scan
// (`filter_param`: FilterExpression). Expressions are parsed into `ex` (the caller adds its
// own, then calls ex.finish()).
// `legacy_filter` is "QueryFilter" or "ScanFilter".
std::optional<api::ApiError> parse_read_options(const rapidjson::Value& body,
                                                RequestExpressions& ex, const char* legacy_filter,
                                                PagedRead* read);

}  // namespace shoal::router
