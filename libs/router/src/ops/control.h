#pragma once
// Control-plane operations beyond the table lifecycle: UpdateTable, tags, DescribeLimits,
// DescribeEndpoints. One file per operation group in ops/; the handlers are registered in
// router.cc's dispatch table.

#include <optional>
#include <string_view>

#include "../impl.h"

namespace shoal::router {

void handle_update_table(Router::Impl&, const CallPtr&);
void handle_tag_resource(Router::Impl&, const CallPtr&);
void handle_untag_resource(Router::Impl&, const CallPtr&);
void handle_list_tags_of_resource(Router::Impl&, const CallPtr&);
void handle_describe_limits(Router::Impl&, const CallPtr&);
// DescribeEndpoints names the endpoint the client reached (the call's Host header).
void handle_describe_endpoints(Router::Impl&, const CallPtr&);

// CreateTable's Tags and DeletionProtectionEnabled members, validated as TagResource and
// UpdateTable validate them, into the new table.
std::optional<api::ApiError> create_table_extras(const rapidjson::Value& body,
                                                 meta::v1::Table* table);

}  // namespace shoal::router
