#include "shoal/autoscaler/k8s.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

namespace shoal::autoscaler {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

bool file_exists(const std::string& path) {
  std::ifstream f(path);
  return f.good();
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return invalid_argument("cannot read " + path);
  std::ostringstream out;
  out << f.rdbuf();
  return out.str();
}

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

struct Endpoint {
  std::string host;  // without brackets
  std::string port;
};

// https://host[:port][/], https://[v6]:port.
Result<Endpoint> parse_url(const std::string& url) {
  constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0) return invalid_argument("k8s API URL must be https://host:port: " + url);
  std::string rest = url.substr(kScheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    if (slash + 1 != rest.size()) return invalid_argument("k8s API URL must have no path: " + url);
    rest.resize(slash);
  }
  Endpoint e{.host = rest, .port = "443"};
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return invalid_argument("bad k8s API URL: " + url);
    e.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return invalid_argument("bad k8s API URL: " + url);
      e.port = rest.substr(close + 2);
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    e.host = rest.substr(0, colon);
    e.port = rest.substr(colon + 1);
  }
  if (e.host.empty() || e.port.empty() ||
      !std::all_of(e.port.begin(), e.port.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return invalid_argument("bad k8s API URL: " + url);
  }
  return e;
}

// The API server's own explanation (a metav1.Status body), or the body's start.
std::string api_message(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("message") &&
      doc["message"].IsString()) {
    return doc["message"].GetString();
  }
  return body.substr(0, 200);
}

}  // namespace

Result<K8sConfig> resolve_k8s_config(K8sConfig c, const std::string& sa_dir) {
  if (c.api_url.empty()) {
    const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
    const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
    if (host == nullptr || *host == '\0') {
      return invalid_argument(
          "no Kubernetes API: not in a cluster (KUBERNETES_SERVICE_HOST unset) and no --k8s-api");
    }
    std::string h = host;
    if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
    c.api_url = "https://" + h + ":" + (port != nullptr && *port != '\0' ? port : "443");
  }
  if (c.token_file.empty() && c.client_cert_file.empty() && file_exists(sa_dir + "/token")) {
    c.token_file = sa_dir + "/token";
  }
  if (c.ca_file.empty() && file_exists(sa_dir + "/ca.crt")) c.ca_file = sa_dir + "/ca.crt";
  if (c.namespace_name.empty() && file_exists(sa_dir + "/namespace")) {
    SHOAL_ASSIGN_OR_RETURN(auto ns, read_file(sa_dir + "/namespace"));
    c.namespace_name = trim(ns);
  }
  if (c.namespace_name.empty()) {
    return invalid_argument("no Kubernetes namespace: no --k8s-namespace and no " + sa_dir + "/namespace");
  }
  if (c.token_file.empty() && c.client_cert_file.empty()) {
    return invalid_argument("no Kubernetes credentials: no --k8s-token-file, no --k8s-client-cert "
                            "and no " + sa_dir + "/token");
  }
  if (c.client_cert_file.empty() != c.client_key_file.empty()) {
    return invalid_argument("--k8s-client-cert and --k8s-client-key go together");
  }
  return c;
}

struct K8sClient::Impl {
  Endpoint endpoint;
  ssl::context tls{ssl::context::tls_client};
};

K8sClient::K8sClient(K8sConfig config, std::unique_ptr<Impl> impl)
    : config_(std::move(config)), impl_(std::move(impl)) {}
K8sClient::~K8sClient() = default;

Result<std::unique_ptr<K8sClient>> K8sClient::create(K8sConfig config) {
  auto impl = std::make_unique<Impl>();
  SHOAL_ASSIGN_OR_RETURN(impl->endpoint, parse_url(config.api_url));
  error_code ec;
  impl->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (!config.ca_file.empty()) {
    impl->tls.load_verify_file(config.ca_file, ec);
    if (ec) return invalid_argument("k8s CA file " + config.ca_file + ": " + ec.message());
  } else {
    impl->tls.set_default_verify_paths(ec);
  }
  impl->tls.set_verify_mode(ssl::verify_peer);
  if (!config.client_cert_file.empty()) {
    impl->tls.use_certificate_chain_file(config.client_cert_file, ec);
    if (ec) return invalid_argument("k8s client certificate " + config.client_cert_file + ": " + ec.message());
    impl->tls.use_private_key_file(config.client_key_file, ssl::context::pem, ec);
    if (ec) return invalid_argument("k8s client key " + config.client_key_file + ": " + ec.message());
  }
  return std::unique_ptr<K8sClient>(new K8sClient(std::move(config), std::move(impl)));
}

// One request on a fresh connection (one call a minute per zone: no keep-alive to manage).
// The io_context runs on the calling thread; the stream's deadline bounds every step.
Result<std::string> K8sClient::call(const char* method, const std::string& target,
                                    const std::string& body) {
  const Endpoint& ep = impl_->endpoint;
  std::string token;
  if (!config_.token_file.empty()) {
    SHOAL_ASSIGN_OR_RETURN(token, read_file(config_.token_file));
    token = trim(std::move(token));
  }
  net::io_context ioc{1};
  beast::ssl_stream<beast::tcp_stream> stream(ioc, impl_->tls);
  error_code ec;
  bool timed_out = false;
  auto step = [&](auto start) {
    bool done = false;
    start([&](const error_code& e, auto&&...) {
      ec = e;
      done = true;
    });
    ioc.restart();
    ioc.run();
    if (ec == beast::error::timeout) timed_out = true;
    return !ec && done;
  };
  auto fail = [&](const std::string& what) -> Status {
    std::string m = std::string(method) + " " + target + ": " + what + ": " + ec.message();
    return timed_out ? Status(Code::kDeadlineExceeded, m) : unavailable(m);
  };

  tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(ep.host, ep.port, ec);
  if (ec) return fail("resolve " + ep.host);
  beast::get_lowest_layer(stream).expires_after(config_.timeout);
  if (!step([&](auto h) { beast::get_lowest_layer(stream).async_connect(endpoints, h); })) {
    return fail("connect " + ep.host + ":" + ep.port);
  }
  error_code addr_ec;
  net::ip::make_address(ep.host, addr_ec);
  if (addr_ec && !SSL_set_tlsext_host_name(stream.native_handle(), ep.host.c_str())) {
    return unavailable("TLS SNI for " + ep.host);
  }
  stream.set_verify_callback(ssl::host_name_verification(ep.host));
  if (!step([&](auto h) { stream.async_handshake(ssl::stream_base::client, h); })) {
    return fail("TLS handshake with " + ep.host + ":" + ep.port);
  }
  bhttp::request<bhttp::string_body> req{
      bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, ep.host);
  req.set(bhttp::field::user_agent, "shoal-autoscaler");
  req.set(bhttp::field::accept, "application/json");
  if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/merge-patch+json");
    req.body() = body;
  }
  req.prepare_payload();
  if (!step([&](auto h) { bhttp::async_write(stream, req, h); })) return fail("write");
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  if (!step([&](auto h) { bhttp::async_read(stream, buffer, res, h); })) return fail("read");
  error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);

  const unsigned code = res.result_int();
  if (code >= 200 && code < 300) return std::move(res.body());
  std::string m = std::string(method) + " " + target + ": HTTP " + std::to_string(code) + ": " +
                  api_message(res.body());
  if (code == 404) return not_found(m);
  if (code >= 500 || code == 429) return unavailable(m);
  return failed_precondition(m);
}

namespace {
std::string scale_path(const std::string& ns, const std::string& name) {
  return "/apis/apps/v1/namespaces/" + ns + "/statefulsets/" + name + "/scale";
}
}  // namespace

Result<int> K8sClient::get_replicas(const std::string& statefulset) {
  SHOAL_ASSIGN_OR_RETURN(std::string body,
                         call("GET", scale_path(config_.namespace_name, statefulset), ""));
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return internal_error("unparsable scale of " + statefulset);
  // A Scale without spec.replicas has 0 (omitempty).
  if (!doc.HasMember("spec") || !doc["spec"].IsObject()) return 0;
  const auto& spec = doc["spec"];
  if (!spec.HasMember("replicas")) return 0;
  if (!spec["replicas"].IsInt()) return internal_error("scale of " + statefulset + ": replicas not an integer");
  return spec["replicas"].GetInt();
}

Status K8sClient::set_replicas(const std::string& statefulset, int replicas) {
  std::string patch = R"({"spec":{"replicas":)" + std::to_string(replicas) + "}}";
  auto r = call("PATCH", scale_path(config_.namespace_name, statefulset), patch);
  return r.ok() ? Status::ok() : r.status();
}

std::string zone_slug(std::string_view zone) {
  std::string s;
  for (char c : zone) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    s.push_back(c == '.' || c == '_' ? '-' : c);
  }
  if (s.size() > 15) s.resize(15);
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s;
}

std::string statefulset_name(std::string_view tmpl, std::string_view zone) {
  constexpr std::string_view kZone = "{zone}";
  const std::string slug = zone_slug(zone);
  std::string out;
  size_t pos = 0;
  for (size_t at; (at = tmpl.find(kZone, pos)) != std::string_view::npos; pos = at + kZone.size()) {
    out.append(tmpl.substr(pos, at - pos));
    out.append(slug);
  }
  out.append(tmpl.substr(pos));
  return out;
}

K8sScaler::K8sScaler(std::unique_ptr<K8sClient> client, ScalerOptions options,
                     metrics::Registry* registry)
    : client_(std::move(client)), options_(std::move(options)) {
  if (registry == nullptr) return;
  scale_total_ = &metrics::BuildCounter()
                      .Name("shoal_autoscaler_k8s_scale_total")
                      .Help("Evaluations of a zone's storage StatefulSet against its desired "
                            "node count, by outcome")
                      .Register(*registry);
}

K8sScaler::~K8sScaler() { stop(); }

void K8sScaler::count(const std::string& zone, std::string_view result) {
  if (scale_total_ == nullptr) return;
  scale_total_->Add({{"zone", zone}, {"result", std::string(result)}}).Increment();
}

K8sScaler::Outcome K8sScaler::apply_once(const std::string& zone, int desired) {
  const std::string name = statefulset_name(options_.statefulset_template, zone);
  const std::string& ns = client_->config().namespace_name;
  const char* dry = options_.dry_run ? " (dry run)" : "";
  Outcome o;
  auto finish = [&](std::string result, std::string reason, bool quiet = false) {
    o.result = std::move(result);
    o.reason = std::move(reason);
    count(zone, o.result);
    if (o.result == "error") {
      spdlog::warn("autoscaler: k8s scale of statefulset {}/{} (zone {}) failed: {}", ns, name,
                   zone, o.reason);
    } else if (quiet) {
      spdlog::debug("autoscaler: k8s statefulset {}/{} (zone {}): {}", ns, name, zone, o.reason);
    } else {
      spdlog::info("autoscaler{}: k8s statefulset {}/{} (zone {}): {}", dry, ns, name, zone,
                   o.reason);
    }
    return o;
  };
  auto current = client_->get_replicas(name);
  if (!current.ok()) return finish("error", current.status().to_string());
  o.current = *current;
  const int target = std::min(desired, options_.max_nodes_per_zone);
  if (desired < o.current) {
    return finish("skipped", fmt::format("desired {} < current {} replicas: not applied, scaling "
                                         "down needs a drain first (shoalctl drain)",
                                         desired, o.current));
  }
  if (target <= o.current) {
    if (desired > o.current) {
      return finish("skipped", fmt::format("desired {} but already at the cap of {} "
                                           "(--k8s-max-nodes-per-zone): not applied",
                                           desired, options_.max_nodes_per_zone));
    }
    return finish("skipped", fmt::format("at the desired {} replicas", desired), true);
  }
  std::string why = fmt::format("scale up from {} to {} replicas: desired {}{}", o.current, target,
                                desired,
                                target < desired ? fmt::format(" capped at {} (--k8s-max-nodes-per-zone)",
                                                               options_.max_nodes_per_zone)
                                                 : std::string());
  if (options_.dry_run) return finish("skipped", why + ": not applied");
  o.target = target;
  if (Status s = client_->set_replicas(name, target); !s.is_ok()) {
    return finish("error", why + ": " + s.to_string());
  }
  return finish("ok", why);
}

void K8sScaler::start() {
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { loop(); });
}

void K8sScaler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void K8sScaler::offer(std::map<std::string, int> desired) {
  {
    std::lock_guard lock(mu_);
    desired_ = std::move(desired);
    offered_ = true;
  }
  cv_.notify_all();
}

void K8sScaler::loop() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    // Wake on a new offer, or when the earliest zone is due again.
    Clock::time_point wake = Clock::time_point::max();
    for (const auto& [zone, n] : desired_) {
      auto it = last_apply_.find(zone);
      wake = std::min(wake, it == last_apply_.end() ? Clock::now() : it->second + options_.apply_interval);
    }
    if (wake == Clock::time_point::max()) {
      cv_.wait(lock, [this] { return stopping_ || offered_; });
    } else {
      cv_.wait_until(lock, wake, [this] { return stopping_ || offered_; });
    }
    if (stopping_) break;
    offered_ = false;
    std::map<std::string, int> desired = desired_;
    lock.unlock();
    for (const auto& [zone, n] : desired) {
      auto it = last_apply_.find(zone);
      const auto now = Clock::now();
      if (it != last_apply_.end() && now - it->second < options_.apply_interval) continue;
      {
        std::lock_guard check(mu_);
        if (stopping_) break;
      }
      last_apply_[zone] = now;
      apply_once(zone, n);
    }
    lock.lock();
  }
}

}  // namespace shoal::autoscaler
