#include "shoal/http/admin.h"

#include <string_view>

#include "shoal/metrics/text_serializer.h"

namespace shoal::http {

namespace {
ServerOptions admin_options(uint16_t port, std::string address) {
  ServerOptions o;
  o.address = std::move(address);
  o.port = port;
  o.threads = 1;
  o.body_limit = 64 * 1024;
  o.shutdown_timeout = std::chrono::seconds(1);
  return o;
}
}  // namespace

AdminServer::AdminServer(uint16_t port, metrics::Registry* registry, std::function<bool()> ready,
                         std::string address)
    : registry_(registry), ready_(std::move(ready)),
      server_(admin_options(port, std::move(address)),
              [this](Request&& request, Responder responder) {
                handle(std::move(request), std::move(responder));
              }) {}

AdminServer::~AdminServer() { server_.stop(); }

void AdminServer::add_route(std::string prefix, Handler handler) {
  routes_.emplace_back(std::move(prefix), std::move(handler));
}

Status AdminServer::start() { return server_.start(); }

void AdminServer::handle(Request&& request, Responder responder) const {
  std::string_view path = request.target;
  if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  bool known = path == "/metrics" || path == "/healthz" || path == "/readyz";
  const Handler* route = nullptr;
  if (!known) {
    size_t best = 0;
    for (const auto& [prefix, handler] : routes_) {
      if (prefix.size() >= best && path.substr(0, prefix.size()) == prefix) {
        best = prefix.size();
        route = &handler;
      }
    }
  }
  if (!known && !route) return responder.send(Response::make(404, "not found\n"));
  if (request.method != "GET" && request.method != "HEAD") {
    Response r = Response::make(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return responder.send(std::move(r));
  }
  if (route) return (*route)(std::move(request), std::move(responder));
  if (path == "/metrics") {
    std::string body = registry_ ? metrics::serialize(*registry_) : std::string();
    return responder.send(
        Response::make(200, std::move(body), std::string(metrics::kTextContentType)));
  }
  if (path == "/healthz") return responder.send(Response::make(200, "ok"));
  bool ready = true;
  if (ready_) {
    try {
      ready = ready_();
    } catch (...) {
      ready = false;
    }
  }
  responder.send(ready ? Response::make(200, "ready") : Response::make(503, "not ready"));
}

}  // namespace shoal::http
