#include "client.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace shoal::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

uint64_t OpResult::error_count() const {
  uint64_t n = 0;
  for (const auto& [_, c] : errors) n += c;
  return n;
}

uint64_t Results::error_count() const {
  uint64_t n = 0;
  for (const auto& [_, c] : errors) n += c;
  return n;
}

namespace {

constexpr int64_t kHighestUs = 60'000'000;  // 60 s; slower requests land in the top bucket

int64_t micros(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// What all threads share: read-only after start, except the progress histogram (mutex,
// touched once a second per thread) and the stop flag.
struct Shared {
  const RunOptions& options;
  Mix mix;
  ValuePool pool;
  tcp::resolver::results_type endpoints;
  Clock::time_point start, measure_start;
  std::optional<Clock::time_point> deadline;  // end of issuing (duration runs)
  std::atomic<bool> stop{false};

  std::mutex progress_mu;
  Histogram progress_us;  // everything completed so far, warmup included

  explicit Shared(const RunOptions& o)
      : options(o),
        mix(mix_of(o.workload)),
        pool(1 << 20, o.seed ? o.seed : std::random_device{}()),
        progress_us(kHighestUs, o.significant_digits) {}
};

// One I/O thread: its io_context and everything recorded by its connections.
struct Worker {
  net::io_context ioc{1};
  std::array<OpResult, kOpCount> ops;
  Histogram overall_us;
  Histogram recent_us;  // since the last progress flush
  std::atomic<uint64_t> completed{0};  // top-level operations, warmup included (one writer)
  std::atomic<uint64_t> failed{0};     // (one writer)
  Clock::time_point last_measured{};
  int active = 0;  // connections still running
  net::steady_timer flush_timer{ioc};

  explicit Worker(int digits) : overall_us(kHighestUs, digits), recent_us(kHighestUs, digits) {
    for (auto& o : ops) o.latency_us = Histogram(kHighestUs, digits);
  }
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `quota`: measured top-level operations to issue (UINT64_MAX: until the deadline). For the
  // load workload, the ids [first_id, first_id + quota) are inserted in order.
  Connection(Shared& shared, Worker& worker, uint64_t seed, uint64_t quota, uint64_t first_id)
      : shared_(shared),
        worker_(worker),
        stream_(worker.ioc),
        retry_timer_(worker.ioc),
        rng_(seed),
        keys_(shared.options.distribution, shared.options.records),
        quota_(quota),
        next_id_(first_id) {}

  void start() {
    ++worker_.active;
    next();
  }

 private:
  void next() {
    const auto now = Clock::now();
    const bool load = shared_.options.workload == Workload::kLoad;
    if (quota_ == 0 || shared_.stop.load(std::memory_order_relaxed) ||
        (shared_.deadline && now >= *shared_.deadline)) {
      finish();
      return;
    }
    measured_ = now >= shared_.measure_start;
    // Warmup operations do not count against an operation quota, except when loading
    // (each id is inserted exactly once).
    if (measured_ || load) {
      if (quota_ != UINT64_MAX) --quota_;
    }
    op_start_ = now;
    op_ = load ? Op::kInsert
               : choose_op(shared_.mix, std::uniform_real_distribution<double>(0, 1)(rng_));
    const uint64_t id = load ? next_id_++ : keys_.next(rng_);
    key_ = record_key(id);
    const auto& o = shared_.options;
    switch (op_) {
      case Op::kRead:
      case Op::kReadModifyWrite:
        step_ = Op::kRead;
        send("GetItem", get_item_body(o.table, key_, o.consistent_read));
        break;
      case Op::kUpdate:
        step_ = Op::kUpdate;
        send("UpdateItem", update_body());
        break;
      case Op::kInsert:
        step_ = Op::kInsert;
        send("PutItem", put_item_body(o.table, key_, o.shape, shared_.pool, rng_));
        break;
    }
  }

  std::string update_body() {
    const auto& o = shared_.options;
    const int field = std::uniform_int_distribution<int>(0, std::max(0, o.shape.fields - 1))(rng_);
    return update_item_body(o.table, key_, field, shared_.pool.take(rng_, o.shape.field_size()));
  }

  void send(std::string_view operation, std::string body) {
    const auto& o = shared_.options;
    step_start_ = Clock::now();
    http::Request signed_req = dynamodb_request(o.endpoint.host_header, operation, std::move(body));
    sign_request(signed_req, o.signing,
                 std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
    req_ = {};
    req_.method(bhttp::verb::post);
    req_.target("/");
    req_.version(11);
    for (size_t i = 0; i < signed_req.headers.size(); ++i) {
      auto [name, value] = signed_req.headers[i];
      req_.insert(beast::string_view(name.data(), name.size()),
                  beast::string_view(value.data(), value.size()));
    }
    req_.keep_alive(true);
    req_.body() = std::move(signed_req.body);
    req_.prepare_payload();

    stream_.expires_after(o.timeout);
    if (!connected_) {
      stream_.async_connect(shared_.endpoints,
                            [self = shared_from_this()](const error_code& ec, const tcp::endpoint&) {
                              self->on_connect(ec);
                            });
    } else {
      write();
    }
  }

  void on_connect(const error_code& ec) {
    if (ec) {
      fail(ec == beast::error::timeout ? "Timeout" : "ConnectError: " + ec.message(), true);
      return;
    }
    error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    connected_ = true;
    write();
  }

  void write() {
    bhttp::async_write(stream_, req_, [self = shared_from_this()](const error_code& ec, size_t) {
      if (ec) {
        self->fail(self->transport_error(ec), false);
        return;
      }
      self->read();
    });
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(64 * 1024 * 1024);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](const error_code& ec, size_t) {
                        self->on_response(ec);
                      });
  }

  std::string transport_error(const error_code& ec) const {
    if (ec == beast::error::timeout) return "Timeout";
    return "TransportError: " + ec.message();
  }

  void on_response(const error_code& ec) {
    if (ec) {
      fail(transport_error(ec), false);
      return;
    }
    auto& res = parser_->get();
    const bool keep = res.keep_alive();
    std::string error = classify_error(res.result_int(), res.body());
    // A read of a record the load phase wrote must find it (YCSB counts NOT_FOUND as an error).
    if (error.empty() && step_ == Op::kRead &&
        res.body().find("\"Item\"") == std::string::npos) {
      error = "ItemNotFound";
    }
    if (!keep) close();
    if (!error.empty()) {
      fail(error, false);
      return;
    }
    const auto now = Clock::now();
    if (measured_ && op_ == Op::kReadModifyWrite) {
      // YCSB reports the read and the update of a read-modify-write under READ and UPDATE too.
      worker_.ops[static_cast<int>(step_)].latency_us.record(micros(now - step_start_));
    }
    if (op_ == Op::kReadModifyWrite && step_ == Op::kRead) {
      step_ = Op::kUpdate;
      send("UpdateItem", update_body());
      return;
    }
    const int64_t us = micros(now - op_start_);
    if (measured_) {
      worker_.ops[static_cast<int>(op_)].latency_us.record(us);
      worker_.overall_us.record(us);
      worker_.last_measured = std::max(worker_.last_measured, now);
    }
    worker_.recent_us.record(us);
    worker_.completed.store(worker_.completed.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    next();
  }

  // The current top-level operation failed with `type`. Transport failures close the
  // connection (reopened by the next operation); failed connects back off 100 ms.
  void fail(const std::string& type, bool connect_failed) {
    if (type.starts_with("Timeout") || type.starts_with("TransportError") || connect_failed) {
      close();
    }
    if (measured_) {
      ++worker_.ops[static_cast<int>(op_)].errors[type];
      worker_.last_measured = std::max(worker_.last_measured, Clock::now());
    }
    worker_.failed.store(worker_.failed.load(std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
    worker_.completed.store(worker_.completed.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
    if (connect_failed) {
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([self = shared_from_this()](const error_code&) { self->next(); });
    } else {
      next();
    }
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    buffer_.clear();
    connected_ = false;
  }

  void finish() {
    close();
    if (--worker_.active == 0) worker_.flush_timer.cancel();
  }

  Shared& shared_;
  Worker& worker_;
  beast::tcp_stream stream_;
  net::steady_timer retry_timer_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> req_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  bool connected_ = false;
  Rng rng_;
  KeyChooser keys_;
  uint64_t quota_;
  uint64_t next_id_;
  bool measured_ = false;
  Op op_ = Op::kRead;
  Op step_ = Op::kRead;
  std::string key_;
  Clock::time_point op_start_, step_start_;
};

// Four times a second, hand this thread's recent latencies to the progress line.
void schedule_flush(Shared& shared, Worker& w) {
  w.flush_timer.expires_after(std::chrono::milliseconds(250));
  w.flush_timer.async_wait([&shared, &w](const error_code& ec) {
    {
      std::lock_guard lock(shared.progress_mu);
      shared.progress_us.merge(w.recent_us);
    }
    w.recent_us.reset();
    if (!ec && w.active > 0) schedule_flush(shared, w);
  });
}

std::string format_ms(int64_t us) { return fmt::format("{:.2f}", us / 1000.0); }

}  // namespace

Results run(const RunOptions& options, const std::atomic<bool>* stop) {
  Shared shared(options);
  {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    shared.endpoints =
        resolver.resolve(options.endpoint.host, std::to_string(options.endpoint.port));
  }
  const int nthreads = std::max(1, options.threads);
  const int nconns = std::max(1, options.connections);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < nthreads; ++i) {
    workers.push_back(std::make_unique<Worker>(options.significant_digits));
  }

  shared.start = Clock::now();
  shared.measure_start = shared.start + options.warmup;
  const bool load = options.workload == Workload::kLoad;
  if (!load && options.operations == 0) shared.deadline = shared.measure_start + options.duration;

  Rng seeder(options.seed ? options.seed : std::random_device{}());
  const uint64_t total = load ? options.records : options.operations;
  for (int c = 0; c < nconns; ++c) {
    Worker& w = *workers[c % nthreads];
    uint64_t quota = UINT64_MAX, first = 0;
    if (load || options.operations > 0) {
      first = total * c / nconns;
      quota = total * (c + 1) / nconns - first;
    }
    auto conn = std::make_shared<Connection>(shared, w, seeder(), quota, first);
    net::post(w.ioc, [conn] { conn->start(); });
  }
  for (auto& w : workers) net::post(w->ioc, [&shared, &w] { schedule_flush(shared, *w); });

  std::atomic<int> running{nthreads};
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&w, &running] {
      w->ioc.run();
      running.fetch_sub(1);
    });
  }

  // Progress line once a second; stop issuing when asked to.
  uint64_t last_ops = 0;
  auto last_tick = Clock::now();
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (stop && stop->load()) shared.stop = true;
    const auto now = Clock::now();
    if (now - last_tick < std::chrono::seconds(1)) continue;
    uint64_t ops = 0, errors = 0;
    for (auto& w : workers) {
      ops += w->completed.load(std::memory_order_relaxed);
      errors += w->failed.load(std::memory_order_relaxed);
    }
    int64_t p99;
    {
      std::lock_guard lock(shared.progress_mu);
      p99 = shared.progress_us.percentile(99);
    }
    if (options.progress) {
      const double dt = std::chrono::duration<double>(now - last_tick).count();
      const double elapsed = std::chrono::duration<double>(now - shared.start).count();
      fmt::print(stderr, "{:7.1f}s  {:>10} ops  {:>9.0f} ops/s  p99 {} ms  errors {}{}\n",
                 elapsed, ops, (ops - last_ops) / dt, format_ms(p99), errors,
                 now < shared.measure_start ? "  (warmup)" : "");
    }
    last_ops = ops;
    last_tick = now;
  }
  for (auto& t : threads) t.join();

  Results r;
  r.workload = options.workload;
  r.overall_us = Histogram(kHighestUs, options.significant_digits);
  for (auto& o : r.ops) o.latency_us = Histogram(kHighestUs, options.significant_digits);
  Clock::time_point last = shared.measure_start;
  for (auto& w : workers) {
    r.overall_us.merge(w->overall_us);
    for (int i = 0; i < kOpCount; ++i) {
      r.ops[i].latency_us.merge(w->ops[i].latency_us);
      for (const auto& [type, n] : w->ops[i].errors) {
        r.ops[i].errors[type] += n;
        r.errors[type] += n;
      }
    }
    last = std::max(last, w->last_measured);
  }
  r.seconds = std::chrono::duration<double>(last - shared.measure_start).count();
  return r;
}

void print_summary(std::ostream& out, const Results& r) {
  auto row = [&](std::string_view name, const Histogram& h, uint64_t errors, double seconds) {
    out << fmt::format("{:<18} {:>10} {:>10.1f} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}\n", name,
                       h.count(), seconds > 0 ? h.count() / seconds : 0.0, format_ms(h.mean()),
                       format_ms(h.percentile(50)), format_ms(h.percentile(95)),
                       format_ms(h.percentile(99)), format_ms(h.percentile(99.9)),
                       format_ms(h.max()), errors);
  };
  out << fmt::format("workload {}: {:.1f} s measured, {:.1f} ops/s, {} errors\n",
                     workload_name(r.workload), r.seconds, r.throughput(), r.error_count());
  out << fmt::format("{:<18} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}\n",
                     "operation", "ops", "ops/s", "mean ms", "p50 ms", "p95 ms", "p99 ms",
                     "p99.9 ms", "max ms", "errors");
  for (int i = 0; i < kOpCount; ++i) {
    const auto& o = r.ops[i];
    if (o.latency_us.count() == 0 && o.errors.empty()) continue;
    row(op_name(static_cast<Op>(i)), o.latency_us, o.error_count(), r.seconds);
  }
  row("OVERALL", r.overall_us, r.error_count(), r.seconds);
  if (!r.errors.empty()) {
    out << "errors by type:\n";
    for (const auto& [type, n] : r.errors) out << fmt::format("  {:<50} {}\n", type, n);
  }
}

namespace {
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out.append(fmt::format("\\u{:04x}", c));
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string histogram_json(const Histogram& h, double seconds) {
  return fmt::format(
      R"({{"count":{},"ops_per_s":{:.2f},"mean_us":{:.1f},"min_us":{},"p50_us":{},"p95_us":{},)"
      R"("p99_us":{},"p999_us":{},"max_us":{}}})",
      h.count(), seconds > 0 ? h.count() / seconds : 0.0, h.mean(), h.min(), h.percentile(50),
      h.percentile(95), h.percentile(99), h.percentile(99.9), h.max());
}

std::string errors_json(const std::map<std::string, uint64_t>& errors) {
  std::string out = "{";
  for (const auto& [type, n] : errors) {
    if (out.size() > 1) out.push_back(',');
    out.append(json_string(type)).append(":").append(std::to_string(n));
  }
  return out + "}";
}
}  // namespace

std::string results_json(const Results& r, const RunOptions& o) {
  std::string out = "{";
  out += fmt::format(
      R"("workload":"{}","distribution":"{}","records":{},"connections":{},"threads":{},)"
      R"("item_size":{},"consistent_read":{},"seconds":{:.3f},"throughput":{:.2f},)",
      workload_name(r.workload), o.distribution == Distribution::kZipfian ? "zipfian" : "uniform",
      o.records, o.connections, o.threads, o.shape.item_size, o.consistent_read, r.seconds,
      r.throughput());
  out += R"("overall":)" + histogram_json(r.overall_us, r.seconds);
  out += R"(,"errors":)" + errors_json(r.errors) + R"(,"operations":{)";
  bool first = true;
  for (int i = 0; i < kOpCount; ++i) {
    const auto& op = r.ops[i];
    if (op.latency_us.count() == 0 && op.errors.empty()) continue;
    if (!first) out.push_back(',');
    first = false;
    std::string h = histogram_json(op.latency_us, r.seconds);
    h.pop_back();
    out += json_string(op_name(static_cast<Op>(i))) + ":" + h + R"(,"errors":)" +
           errors_json(op.errors) + "}";
  }
  return out + "}}";
}

}  // namespace shoal::bench
