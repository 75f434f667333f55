#pragma once
// The load loop: closed-loop YCSB-style clients on keep-alive HTTP/1.1 connections.
//
// `threads` I/O threads each run one io_context; connections are spread over them round-robin
// and stay on their thread, so a thread's histograms and error counts are touched by that
// thread only (no lock on the hot path). Each connection has one request in flight: choose an
// operation, build and sign the request, send, wait for the response, record, repeat. A
// connection that fails (connect, write, read, timeout) is closed and reopened for its next
// operation; the failed operation is counted as an error and not retried.
//
// What is measured: operations issued after the warmup (and, with a duration, before its end),
// from just before the request is signed to the full response; throughput divides them by the
// time from the end of the warmup to the last measured completion.
//
// Thread-safety: run() is called from one thread; it blocks until the run ends.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <utility>

#include "histogram.h"
#include "workload.h"
#include "zipf.h"

namespace shoal::bench {

struct RunOptions {
  Endpoint endpoint;
  SigningConfig signing;
  std::string table = "usertable";
  Workload workload = Workload::kA;
  uint64_t records = 1000;
  uint64_t operations = 0;  // measured operations in total; 0: run for `duration`
  std::chrono::milliseconds duration{10000};
  std::chrono::milliseconds warmup{0};
  Distribution distribution = Distribution::kZipfian;
  ItemShape shape;
  bool consistent_read = false;
  int connections = 32;
  int threads = 2;
  std::chrono::milliseconds timeout{10000};  // per request, connect included
  bool progress = true;                      // a line per second on stderr
  int significant_digits = 3;
  uint64_t seed = 0;  // 0: random
};

struct OpResult {
  Histogram latency_us;            // successful operations
  std::map<std::string, uint64_t> errors;  // by type
  uint64_t error_count() const;
};

struct Results {
  Workload workload = Workload::kA;
  double seconds = 0;  // measured wall time
  std::array<OpResult, kOpCount> ops;
  Histogram overall_us;  // every successful top-level operation
  std::map<std::string, uint64_t> errors;  // by type, all operations
  uint64_t error_count() const;
  double throughput() const { return seconds > 0 ? overall_us.count() / seconds : 0; }
};

// Runs the workload against an existing table. `stop`, when set (e.g. by SIGINT), ends the
// run early as if its time were up.
Results run(const RunOptions& options, const std::atomic<bool>* stop = nullptr);

// Human-readable summary (one block per operation type with any activity, then totals).
void print_summary(std::ostream& out, const Results& results);
// The same as a JSON object.
std::string results_json(const Results& results, const RunOptions& options);

}  // namespace shoal::bench
