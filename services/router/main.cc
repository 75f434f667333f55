// shoal-router: the DynamoDB JSON 1.0 gateway. Wiring only; logic is in libs/router.
#include <CLI/CLI.hpp>

#include <thread>

#include "shoal/common/config.h"
#include "shoal/common/log.h"
#include "shoal/common/signals.h"
#include "shoal/ctl/endpoint.h"
#include "shoal/http/admin.h"
#include "shoal/http/server.h"
#include "shoal/metrics/process.h"
#include "shoal/nats/connection.h"
#include "shoal/router/router.h"

int main(int argc, char** argv) {
  CLI::App app{"Shoal router: DynamoDB-compatible HTTP gateway"};
  shoal::CommonConfig common;
  common.add_options(app);
  std::string listen = "0.0.0.0";
  int port = 8000;
  int threads = 2;
  int timeout_ms = 10000;
  shoal::router::RouterOptions options;
  app.add_option("--listen", listen, "HTTP listen address")->envname("SHOAL_LISTEN");
  app.add_option("--port", port, "HTTP port for the DynamoDB API")->envname("SHOAL_PORT");
  app.add_option("--http-threads", threads, "HTTP I/O threads")->envname("SHOAL_HTTP_THREADS");
  app.add_option("--request-timeout-ms", timeout_ms, "deadline of one API request");
  app.add_option("--region", options.region, "region reported in ARNs")->envname("SHOAL_REGION");
  app.add_option("--zone", options.zone, "this router's zone (topology.kubernetes.io/zone)")
      ->envname("SHOAL_ZONE");
  app.add_flag("--follower-reads", options.follower_reads,
               "serve eventually consistent reads from the replica in --zone")
      ->envname("SHOAL_FOLLOWER_READS");
  std::string auth_mode = "verify";
  app.add_option("--auth", auth_mode,
                 "verify: check SigV4 signatures against metadata's access keys; any: accept any "
                 "well-formed credentials (as DynamoDB Local does)")
      ->envname("SHOAL_AUTH")->check(CLI::IsMember({"verify", "any"}));
  CLI11_PARSE(app, argc, argv);
  shoal::block_termination_signals();  // before any thread starts
  options.request_timeout = std::chrono::milliseconds(timeout_ms);
  options.accept_any_credentials = auth_mode == "any";

  shoal::init_logging("router", common.log_level);
  auto nats = shoal::nats::Connection::connect({.url = common.nats_url, .name = "shoal-router",
       .connect_timeout = std::chrono::milliseconds(common.nats_connect_timeout_ms)});
  if (!nats.ok()) {
    spdlog::critical("cannot connect to NATS at {}: {}", common.nats_url, nats.status().to_string());
    return 1;
  }
  shoal::metrics::Registry registry;
  shoal::metrics::register_process_metrics(registry, "router", SHOAL_VERSION);
  (*nats)->register_metrics(registry);
  shoal::router::Router router(*nats, shoal::subjects::Subjects(common.subject_prefix), options,
                               &registry);
  if (auto s = router.start(); !s.is_ok()) {
    spdlog::critical("router start failed: {}", s.to_string());
    return 1;
  }
  shoal::http::ServerOptions http_options;
  http_options.address = listen;
  http_options.port = static_cast<uint16_t>(port);
  http_options.threads = threads;
  shoal::http::Server server(http_options, [&router](shoal::http::Request&& req,
                                                     shoal::http::Responder resp) {
    router.handle(std::move(req), std::move(resp));
  });
  if (auto s = server.start(); !s.is_ok()) {
    spdlog::critical("cannot listen on {}:{}: {}", listen, port, s.to_string());
    return 1;
  }
  // GET /admin/tables/<name>/partitions: what `shoalctl partitions <name> --json` prints.
  // Declared before `admin`, so the admin server stops before the endpoint's worker goes
  // (which may take a metadata request's deadline: kept short, a caller can ask again).
  shoal::ctl::ClientOptions admin_rpc;
  admin_rpc.rpc_timeout = std::chrono::milliseconds(3000);
  shoal::ctl::PartitionsEndpoint partitions_endpoint(
      *nats, shoal::subjects::Subjects(common.subject_prefix), admin_rpc);
  std::unique_ptr<shoal::http::AdminServer> admin;
  if (common.admin_port > 0) {
    admin = std::make_unique<shoal::http::AdminServer>(
        static_cast<uint16_t>(common.admin_port), &registry,
        [&nats, &router] { return (*nats)->connected() && router.ready(); });
    admin->add_route(std::string(shoal::ctl::kAdminTablesPrefix),
                     [&partitions_endpoint](shoal::http::Request&& req,
                                            shoal::http::Responder resp) {
                       partitions_endpoint.handle(
                           req.target, [r = std::make_shared<shoal::http::Responder>(
                                            std::move(resp))](shoal::ctl::AdminAnswer a) {
                             r->send(shoal::http::Response::make(
                                 static_cast<unsigned>(a.status), std::move(a.body),
                                 std::move(a.content_type)));
                           });
                     });
    if (auto s = admin->start(); !s.is_ok()) {
      spdlog::critical("admin port {}: {}", common.admin_port, s.to_string());
      return 1;
    }
  }
  spdlog::info("router listening on {}:{}", listen, server.port());

  int sig = shoal::wait_for_termination_signal();
  spdlog::info("router stopping (signal {})", sig);
  server.stop();
  return 0;
}
