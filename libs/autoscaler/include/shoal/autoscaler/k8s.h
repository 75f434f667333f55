#pragma once
// Applying the desired storage node counts (policy.h: desired_nodes) to Kubernetes: one
// StatefulSet per zone, scaled through its scale subresource.
//
//   - K8sConfig / resolve_k8s_config(): where the API server is and how to authenticate,
//     from explicit settings (flags) or the pod's in-cluster configuration
//     (KUBERNETES_SERVICE_HOST/PORT, the service account's token, ca.crt and namespace).
//   - K8sClient: a tiny synchronous HTTPS client (Boost.Beast + OpenSSL) for two calls:
//     GET and PATCH (JSON merge patch) of apps/v1 statefulsets/{name}/scale.
//   - K8sScaler: the policy. Only scales up (a storage node leaves only after a drain, which
//     is an operator's decision: a smaller desired count is logged and not applied), never
//     above `max_nodes_per_zone`, at most once per `apply_interval` per StatefulSet. Runs
//     its requests on its own thread: offer() never blocks on the network.
//
// Metrics (docs/METRICS.md), with a registry:
//   shoal_autoscaler_k8s_scale_total{zone,result}  result: ok (the StatefulSet was scaled
//       up), skipped (nothing to do: at or above the desired count, at the cap, or a dry
//       run), error (the API server could not be reached or refused).
//
// Thread-safety: K8sClient calls may run concurrently (each opens its own connection);
// K8sScaler: start()/stop() from one thread, offer() and apply_once() from any.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "shoal/common/status.h"
#include "shoal/metrics/registry.h"

namespace shoal::autoscaler {

struct K8sConfig {
  std::string api_url;           // https://host:port (empty: in-cluster)
  std::string token_file;        // bearer token, reread on every request (rotated tokens)
  std::string ca_file;           // verifies the API server (empty: system store)
  std::string client_cert_file;  // optional client certificate (PEM) ...
  std::string client_key_file;   // ... and its key
  std::string namespace_name;    // of the StatefulSets (empty: the pod's own)
  std::chrono::milliseconds timeout{5000};  // one request: connect, TLS, write, read
};

// Fills what `explicit_config` leaves empty from the in-cluster configuration: the API at
// https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT and the files under
// /var/run/secrets/kubernetes.io/serviceaccount (`sa_dir`). Without an API URL, or without a
// namespace, or with no credential at all, the error says what is missing.
Result<K8sConfig> resolve_k8s_config(
    K8sConfig explicit_config,
    const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

class K8sClient {
 public:
  // Fails on an unusable URL or unreadable CA / client certificate files.
  static Result<std::unique_ptr<K8sClient>> create(K8sConfig config);
  ~K8sClient();
  K8sClient(const K8sClient&) = delete;
  K8sClient& operator=(const K8sClient&) = delete;

  const K8sConfig& config() const { return config_; }

  // spec.replicas of the StatefulSet's scale subresource. NotFound: no such StatefulSet;
  // FailedPrecondition: the API server refused (401/403/409/422...: the message is its own);
  // Unavailable / DeadlineExceeded: it could not be reached in time.
  Result<int> get_replicas(const std::string& statefulset);
  // PATCH {"spec":{"replicas":n}} (application/merge-patch+json); errors as get_replicas.
  Status set_replicas(const std::string& statefulset, int replicas);

 private:
  struct Impl;
  explicit K8sClient(K8sConfig config, std::unique_ptr<Impl> impl);
  Result<std::string> call(const char* method, const std::string& target,
                           const std::string& body);
  K8sConfig config_;
  std::unique_ptr<Impl> impl_;
};

// A zone as it appears in the chart's object names (charts/shoal/templates/_helpers.tpl,
// shoal.zoneSlug): lower case, '.' and '_' as '-', at most 15 characters, no trailing '-'.
std::string zone_slug(std::string_view zone);
// `tmpl` with every "{zone}" replaced by zone_slug(zone).
std::string statefulset_name(std::string_view tmpl, std::string_view zone);

struct ScalerOptions {
  // The chart names a release's storage StatefulSets <fullname>-storage-<zone slug>; its
  // fullname is "shoal" for a release named shoal (the chart passes its own).
  std::string statefulset_template = "shoal-storage-{zone}";
  int max_nodes_per_zone = 10;
  std::chrono::milliseconds apply_interval{60000};  // per StatefulSet
  bool dry_run = false;  // read the current count, log what would be done, change nothing
};

class K8sScaler {
 public:
  K8sScaler(std::unique_ptr<K8sClient> client, ScalerOptions options,
            metrics::Registry* registry);
  ~K8sScaler();
  K8sScaler(const K8sScaler&) = delete;
  K8sScaler& operator=(const K8sScaler&) = delete;

  struct Outcome {
    std::string result;  // ok, skipped, error (the metric's label)
    std::string reason;  // as logged
    int current = -1;    // replicas before (-1: unknown)
    int target = -1;     // replicas asked for (-1: none)
  };

  // One evaluation for one zone, now, on the calling thread (blocks up to two requests):
  // reads the StatefulSet's replicas and raises them to min(desired, max_nodes_per_zone) when
  // that is more. Logged and counted. Ignores the apply interval and does not restart it.
  Outcome apply_once(const std::string& zone, int desired);

  // The applier thread: takes the latest offer() and applies each zone's count when that
  // zone's StatefulSet was last evaluated `apply_interval` ago or never.
  void start();
  void stop();  // idempotent; waits for a request under way (bounded by the timeout)
  // Non-blocking: replaces the counts the thread applies next.
  void offer(std::map<std::string, int> desired);

 private:
  void loop();
  void count(const std::string& zone, std::string_view result);

  std::unique_ptr<K8sClient> client_;
  ScalerOptions options_;
  metrics::Family<metrics::Counter>* scale_total_ = nullptr;

  std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  bool stopping_ = false;
  bool offered_ = false;
  std::map<std::string, int> desired_;
  // Applier thread only: when each zone was last evaluated.
  std::map<std::string, std::chrono::steady_clock::time_point> last_apply_;
  std::thread thread_;
};

}  // namespace shoal::autoscaler
