#pragma once
// The admin endpoint every service exposes (--admin-port):
//
//   GET /metrics  200, the registry in Prometheus text format 0.0.4
//                 (Content-Type: text/plain; version=0.0.4)
//   GET /healthz  200 "ok" while the process serves HTTP at all (liveness)
//   GET /readyz   200 "ready" if ready() says so (or there is no ready()), else 503
//   GET <prefix>...  whatever a route added with add_route() answers
//   anything else 404 (405 for another method on one of the paths above)
//
// Built on Server with one I/O thread; a scrape runs the registry's callbacks on it.
// Ownership: `registry` (may be null: empty /metrics) and whatever `ready` captures must
// outlive the AdminServer (or its stop()). Thread-safety: as Server.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "shoal/common/status.h"
#include "shoal/http/server.h"
#include "shoal/metrics/registry.h"

namespace shoal::http {

class AdminServer {
 public:
  // `ready` runs on the admin I/O thread for each /readyz; it must be quick.
  AdminServer(uint16_t port, metrics::Registry* registry, std::function<bool()> ready = {},
              std::string address = "0.0.0.0");
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Hands GET/HEAD requests whose path starts with `prefix` to `handler` (other methods get
  // 405). The handler runs on the admin I/O thread and must not block: it may answer later,
  // from any thread, through the Responder. The longest matching prefix wins; the built-in
  // paths above cannot be overridden. Call before start().
  void add_route(std::string prefix, Handler handler);

  Status start();
  uint16_t port() const { return server_.port(); }
  void stop() { server_.stop(); }

 private:
  void handle(Request&& request, Responder responder) const;

  metrics::Registry* registry_;
  std::function<bool()> ready_;
  std::vector<std::pair<std::string, Handler>> routes_;  // fixed once started
  Server server_;  // last: stopped (threads joined) before the members above go away
};

}  // namespace shoal::http
