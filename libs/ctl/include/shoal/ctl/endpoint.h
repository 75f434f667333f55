#pragma once
// The read-only admin endpoint a service adds to its admin HTTP server (the router does):
//
//   GET /admin/tables/<name>/partitions   200, the partitions JSON document of view.h (what
//                                         `shoalctl partitions <name> --json` prints)
//                                         404 {"error": ...} if there is no such table
//                                         503 {"error": ...} metadata unreachable, or too
//                                         many requests queued
//
// Answering takes NATS round trips (DescribeTable, ADMIN_OP_STATS per node, up to ~1.5 s
// when a node is silent), so the admin I/O thread only queues the request: one worker thread
// of this object answers queued requests in order. HTTP-agnostic: the answer goes to a
// callback, which the service turns into its HTTP response.
// Thread-safety: handle() may be called from any thread. The destructor joins the worker
// after answering what is still queued with 503.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "shoal/ctl/client.h"

namespace shoal::ctl {

// The table named by "/admin/tables/<name>/partitions" (query string ignored, %XX decoded);
// nullopt for any other path.
std::optional<std::string> partitions_path_table(std::string_view target);

// The admin path prefix the endpoint serves.
inline constexpr std::string_view kAdminTablesPrefix = "/admin/tables/";

struct AdminAnswer {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

class PartitionsEndpoint {
 public:
  PartitionsEndpoint(std::shared_ptr<nats::Connection> nats, subjects::Subjects subjects,
                     ClientOptions options = {}, size_t max_queued = 16);
  ~PartitionsEndpoint();
  PartitionsEndpoint(const PartitionsEndpoint&) = delete;
  PartitionsEndpoint& operator=(const PartitionsEndpoint&) = delete;

  // Answers `target` (a request target); `done` runs once, on the worker thread (or on the
  // caller's, at once, for a path that is not ours or a full queue).
  void handle(std::string_view target, std::function<void(AdminAnswer)> done);

 private:
  struct Job {
    std::string table;
    std::function<void(AdminAnswer)> done;
  };
  void run();

  Client client_;
  size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread worker_;  // last: started once the members above exist
};

// {"error": "<message>"}\n
std::string error_json(std::string_view message);

}  // namespace shoal::ctl
