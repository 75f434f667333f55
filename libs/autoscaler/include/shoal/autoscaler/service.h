#pragma once
// The autoscaler service: the I/O around Policy (policy.h).
//
//   - subscribes to every storage node's stats (<prefix>.stats.*) and folds them into the
//     Policy on the NATS delivery thread (cheap: no I/O under the lock);
//   - one decision thread wakes every `interval`: refreshes its copy of the catalog
//     (ListNodes, ListTables, DescribeTable per table) every `catalog_refresh` or right after
//     it acted, asks the Policy, and carries out each decision through metadata
//     (SplitPartition, MoveReplica, TransferLeader), waiting for each answer (this thread blocks on
//     purpose, see docs/ARCHITECTURE.md; stop() cuts a wait short);
//   - logs every decision with its reason and counts it;
//   - with options.k8s, hands each pass's desired node counts to that K8sScaler (k8s.h),
//     which applies them to the per-zone StatefulSets on its own thread (never this one, never
//     a NATS thread).
//
// Metrics (docs/METRICS.md), with a registry:
//   shoal_autoscaler_decisions_total{kind,result}  kind: split_size, split_heat, move,
//       no_split_single_key, no_split_no_point, transfer_leader; result: ok (metadata accepted it, or nothing
//       to ask), refused (metadata said no: FAILED_PRECONDITION, INVALID_ARGUMENT, NOT_FOUND,
//       RESOURCE_EXHAUSTED), error (no answer, unparsable, any other status), dry_run
//   shoal_autoscaler_stats_received_total   NodeStats messages taken
//   shoal_autoscaler_partitions_tracked     partitions with a live leader report
//   shoal_autoscaler_moves_in_flight        replica changes under way in the catalog
//   shoal_autoscaler_desired_nodes{zone}    storage nodes each zone should have
//
// One autoscaler acts on a fleet: run a single replica (two would each plan the same moves;
// metadata refuses a second operation on a busy partition, so the harm is bounded to
// refusals and a doubled move budget).
//
// Thread-safety: start()/stop() from one thread; ready() from any.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "shoal/autoscaler/k8s.h"
#include "shoal/autoscaler/policy.h"
#include "shoal/common/status.h"
#include "shoal/metrics/registry.h"
#include "shoal/nats/connection.h"
#include "shoal/subjects/subjects.h"

namespace shoal::autoscaler {

struct ServiceOptions {
  Options policy;
  std::chrono::milliseconds interval{1000};          // decision loop period
  std::chrono::milliseconds catalog_refresh{3000};   // catalog copy refreshed this often
  std::chrono::milliseconds rpc_timeout{5000};       // one metadata request
  bool dry_run = false;  // decide and log, ask metadata nothing (reads excepted)
  // Not owned; started and stopped by the caller, outliving the service. Null: the desired
  // node counts are only exported.
  K8sScaler* k8s = nullptr;
};

class AutoscalerService {
 public:
  AutoscalerService(std::shared_ptr<nats::Connection> nats, subjects::Subjects subjects,
                    ServiceOptions options, metrics::Registry* registry);
  ~AutoscalerService();
  AutoscalerService(const AutoscalerService&) = delete;
  AutoscalerService& operator=(const AutoscalerService&) = delete;

  // Subscribes to the stats and starts the decision thread.
  Status start();
  // Stops both; idempotent (the destructor calls it).
  void stop();
  // True once a catalog fetch succeeded within the last three refresh periods.
  bool ready() const;

 private:
  struct Metrics;
  void loop();
  void pass();
  Status refresh_catalog();
  template <class Resp>
  Status meta_call(std::string_view op, const google::protobuf::Message& request, Resp* response);
  bool stopping();
  void execute(const Decision& d);
  void count(const Decision& d, std::string_view result);
  int64_t now_ms() const;

  std::shared_ptr<nats::Connection> nats_;
  subjects::Subjects subjects_;
  ServiceOptions options_;
  std::unique_ptr<Metrics> metrics_;
  const std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();

  std::mutex mu_;  // guards policy_ (stats thread and decision thread)
  Policy policy_;

  // Decision thread only.
  Catalog catalog_;
  int64_t catalog_at_ms_ = -1;  // when catalog_ was fetched (-1: never)
  bool catalog_stale_ = true;   // we acted since: refetch before planning moves
  int64_t leaders_quiet_until_ms_ = 0;  // decision thread: no leader plan before this
  int64_t moves_quiet_until_ms_ = 0;  // after a refused/failed move (or a dry run's plan)
  std::atomic<int64_t> last_catalog_ok_ms_{-1};

  nats::Subscription stats_sub_;
  std::thread thread_;
  // Wakes the decision thread: stop(), and metadata replies (shared with their callbacks,
  // which may outlive this object).
  struct Signal {
    std::mutex mu;  // guards stopping and the replies waited for
    std::condition_variable cv;
    bool stopping = false;
  };
  std::shared_ptr<Signal> signal_ = std::make_shared<Signal>();
};

}  // namespace shoal::autoscaler
