#pragma once
// Router: the DynamoDB front door. Speaks DynamoDB JSON 1.0 over HTTP, dispatches on
// X-Amz-Target, validates input, and routes item operations by partition-key hash to the
// storage node hosting the partition's leader, over NATS. Table operations go to metadata.
//
// Nothing here blocks: an HTTP request becomes an asynchronous NATS request whose callback
// (on a NATS thread) completes the HTTP response.

#include <chrono>
#include <memory>
#include <string>

#include "shoal/common/status.h"
#include "shoal/http/server.h"
#include "shoal/metrics/registry.h"
#include "shoal/nats/connection.h"
#include "shoal/subjects/subjects.h"

namespace shoal::router {

struct RouterOptions {
  std::chrono::milliseconds request_timeout{10000};  // whole request, incl. retries
  // One NATS round trip. A write that times out has an unknown outcome and fails with a 500;
  // a read that times out is retried on another replica.
  std::chrono::milliseconds rpc_timeout{2000};
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // SigV4: false = verify every signature against the access keys metadata holds;
  // true = accept any well-formed credentials, as DynamoDB Local does.
  bool accept_any_credentials = false;
  std::chrono::seconds access_key_refresh{30};
  // The router's zone; with follower_reads, eventually consistent reads go to the replica
  // in this zone (when the partition has one) instead of the leader.
  std::string zone;
  bool follower_reads = false;
};

class Router {
 public:
  Router(std::shared_ptr<nats::Connection> nats, subjects::Subjects subjects,
         RouterOptions options, metrics::Registry* registry);
  ~Router();

  // Subscribes to metadata events (partition-map cache invalidation).
  Status start();
  // Can verify signatures (access keys loaded, or any credentials accepted).
  bool ready() const;

  // The HTTP handler. Thread-safe; never blocks.
  void handle(http::Request&& request, http::Responder responder);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace shoal::router
