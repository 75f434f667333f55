#include "shoal/nats/connection.h"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <future>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "shoal/nats/caf_types.h"

namespace shoal::nats {
namespace {

using Clock = std::chrono::steady_clock;

Status from_nats(natsStatus s, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += natsStatus_GetText(s);
  switch (s) {
    case NATS_TIMEOUT:
      return {Code::kDeadlineExceeded, std::move(msg)};
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
      return invalid_argument(std::move(msg));
    default:
      return unavailable(std::move(msg));
  }
}

MessagePtr to_message(natsMsg* m) {
  auto out = std::make_shared<Message>();
  out->subject = natsMsg_GetSubject(m);
  if (const char* r = natsMsg_GetReply(m)) out->reply = r;
  if (int n = natsMsg_GetDataLength(m); n > 0) out->data.assign(natsMsg_GetData(m), n);
  natsMsg_Destroy(m);
  return out;
}

constexpr size_t kShards = 16;

// What a scrape reads: NATS.c's statistics of a connection, and the last values seen once the
// connection is closed. Shared by the Connection and its metric callbacks, which may outlive
// it.
class Telemetry {
 public:
  struct Counts {
    bool connected = false;
    uint64_t in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0;
  };

  Telemetry() { (void)natsStatistics_Create(&stats_); }
  ~Telemetry() {
    if (stats_) natsStatistics_Destroy(stats_);
  }
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  void attach(natsConnection* conn) {
    std::lock_guard l(mu_);
    conn_ = conn;
  }
  // Before the connection is destroyed: keeps its final counts.
  void detach() {
    std::lock_guard l(mu_);
    refresh_locked();
    last_.connected = false;
    conn_ = nullptr;
  }
  Counts read() {
    std::lock_guard l(mu_);
    refresh_locked();
    return last_;
  }

  std::atomic<uint64_t> reconnects{0};

 private:
  void refresh_locked() {
    if (!conn_) return;
    last_.connected = natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
    uint64_t reconnects_unused = 0;
    if (stats_ && natsConnection_GetStats(conn_, stats_) == NATS_OK) {
      (void)natsStatistics_GetCounts(stats_, &last_.in_msgs, &last_.in_bytes, &last_.out_msgs,
                                     &last_.out_bytes, &reconnects_unused);
    }
  }

  std::mutex mu_;  // serializes reads of conn_ with detach() (the caller then destroys it)
  natsConnection* conn_ = nullptr;
  natsStatistics* stats_ = nullptr;
  Counts last_;
};
constexpr auto kTimerTick = std::chrono::milliseconds(5);

}  // namespace

// ---------------------------------------------------------------- Subscription

struct Subscription::State {
  natsSubscription* sub = nullptr;
  MessageHandler handler;
  // Set under `mu` by unsubscribe(); the delivery callback checks it so no message is
  // handled after unsubscribe() returned (one already running may finish).
  std::mutex mu;
  bool done = false;
  // Keeps this state alive until NATS.c reports the subscription complete.
  std::shared_ptr<State> self;

  static void on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* st = static_cast<State*>(closure);
    MessagePtr m = to_message(msg);
    {
      std::lock_guard l(st->mu);
      if (st->done) return;
    }
    st->handler(std::move(m));
  }
  static void on_complete(void* closure) {
    auto* st = static_cast<State*>(closure);
    std::shared_ptr<State> keep;
    std::lock_guard l(st->mu);
    keep.swap(st->self);  // released after the lock guard (declared before it)
  }
};

Subscription::Subscription(Subscription&& other) noexcept : state_(std::move(other.state_)) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    unsubscribe();
    state_ = std::move(other.state_);
  }
  return *this;
}

Subscription::~Subscription() { unsubscribe(); }

void Subscription::unsubscribe() {
  if (!state_) return;
  auto st = std::move(state_);
  {
    std::lock_guard l(st->mu);
    st->done = true;
  }
  // Unsubscribe may fail if the connection is already closed; Destroy is always valid.
  (void)natsSubscription_Unsubscribe(st->sub);
  natsSubscription_Destroy(st->sub);
}

// ---------------------------------------------------------------- Connection::Impl

struct Connection::Impl {
  Options options;
  natsConnection* conn = nullptr;
  std::string inbox_prefix;  // "_INBOX.<nuid>."
  Subscription inbox_sub;

  struct Pending {
    ReplyHandler done;
    Clock::time_point deadline;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<uint64_t, Pending> pending;
    // Min-heap of (deadline, token); entries of completed requests are skipped lazily.
    std::priority_queue<std::pair<Clock::time_point, uint64_t>,
                        std::vector<std::pair<Clock::time_point, uint64_t>>, std::greater<>>
        deadlines;
  };
  std::array<Shard, kShards> shards;
  std::atomic<uint64_t> next_token{1};

  // Sender: publishes go straight into NATS.c's buffer; this thread flushes it.
  std::atomic<bool> flush_needed{false};
  std::mutex flusher_mu;
  std::condition_variable flusher_cv;
  std::thread flusher;
  std::thread timer;
  std::atomic<bool> stopping{false};
  std::mutex close_mu;
  bool closed = false;

  std::atomic<uint64_t> published{0}, flushes{0}, requests{0}, timeouts{0}, no_responders{0};
  const std::shared_ptr<Telemetry> telemetry = std::make_shared<Telemetry>();

  ~Impl() { close(); }

  void kick() {
    if (options.send_asap) return;
    if (!flush_needed.exchange(true, std::memory_order_acq_rel)) {
      std::lock_guard l(flusher_mu);
      flusher_cv.notify_one();
    }
  }

  void flusher_loop() {
    while (true) {
      {
        std::unique_lock l(flusher_mu);
        flusher_cv.wait(l, [&] { return flush_needed.load() || stopping.load(); });
      }
      if (stopping) return;
      flush_needed.store(false, std::memory_order_release);
      // Writes everything buffered so far plus a PING, then waits for the PONG; publishes
      // arriving meanwhile set flush_needed again and go out in the next turn together.
      natsStatus s = natsConnection_FlushTimeout(conn, 1000);
      flushes.fetch_add(1, std::memory_order_relaxed);
      if (s != NATS_OK && !stopping) {
        // Disconnected: NATS.c keeps the bytes in its reconnect buffer. Avoid a busy loop.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }

  void timer_loop() {
    while (!stopping) {
      std::this_thread::sleep_for(kTimerTick);
      auto now = Clock::now();
      for (auto& shard : shards) {
        std::vector<ReplyHandler> expired;
        {
          std::lock_guard l(shard.mu);
          while (!shard.deadlines.empty() && shard.deadlines.top().first <= now) {
            uint64_t token = shard.deadlines.top().second;
            shard.deadlines.pop();
            auto it = shard.pending.find(token);
            if (it == shard.pending.end()) continue;
            expired.push_back(std::move(it->second.done));
            shard.pending.erase(it);
          }
        }
        for (auto& done : expired) {
          timeouts.fetch_add(1, std::memory_order_relaxed);
          done(Status(Code::kDeadlineExceeded, "NATS request timed out"));
        }
      }
    }
  }

  ReplyHandler take(uint64_t token) {
    auto& shard = shards[token % kShards];
    std::lock_guard l(shard.mu);
    auto it = shard.pending.find(token);
    if (it == shard.pending.end()) return {};
    ReplyHandler done = std::move(it->second.done);
    shard.pending.erase(it);
    return done;
  }

  static void on_reply(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    std::string_view subject = natsMsg_GetSubject(msg);
    uint64_t token = 0;
    if (subject.size() > self->inbox_prefix.size()) {
      auto tail = subject.substr(self->inbox_prefix.size());
      auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), token);
      if (ec != std::errc() || p != tail.data() + tail.size()) token = 0;
    }
    ReplyHandler done = token ? self->take(token) : ReplyHandler{};
    if (!done) {  // late reply after a timeout, or garbage
      natsMsg_Destroy(msg);
      return;
    }
    if (natsMsg_IsNoResponders(msg)) {
      natsMsg_Destroy(msg);
      self->no_responders.fetch_add(1, std::memory_order_relaxed);
      done(unavailable("no responders"));
      return;
    }
    std::string data;
    if (int n = natsMsg_GetDataLength(msg); n > 0) data.assign(natsMsg_GetData(msg), n);
    natsMsg_Destroy(msg);
    done(std::move(data));
  }

  static void on_disconnected(natsConnection*, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    if (!self->stopping) spdlog::warn("nats: disconnected from {}", self->options.url);
  }
  static void on_reconnected(natsConnection*, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    self->telemetry->reconnects.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("nats: reconnected to {}", self->options.url);
  }

  Result<Subscription> subscribe(std::string_view subject, std::string_view queue,
                                 MessageHandler handler, natsMsgHandler raw = nullptr,
                                 void* raw_closure = nullptr) {
    auto st = std::make_shared<Subscription::State>();
    st->handler = std::move(handler);
    std::string subj(subject), q(queue);
    void* closure = raw ? raw_closure : st.get();
    natsMsgHandler cb = raw ? raw : &Subscription::State::on_msg;
    natsStatus s = q.empty()
                       ? natsConnection_Subscribe(&st->sub, conn, subj.c_str(), cb, closure)
                       : natsConnection_QueueSubscribe(&st->sub, conn, subj.c_str(), q.c_str(),
                                                       cb, closure);
    if (s != NATS_OK) return from_nats(s, "subscribe " + subj);
    // Storage and metadata ingress can burst; NATS.c drops beyond the limit (slow consumer).
    (void)natsSubscription_SetPendingLimits(st->sub, 1 << 20, 256 << 20);
    st->self = st;
    if (natsSubscription_SetOnCompleteCB(st->sub, &Subscription::State::on_complete,
                                         st.get()) != NATS_OK) {
      st->self.reset();  // the subscription is kept alive by the returned handle only
    }
    return Subscription(std::move(st));
  }

  void fail_all_pending() {
    for (auto& shard : shards) {
      std::vector<ReplyHandler> all;
      {
        std::lock_guard l(shard.mu);
        for (auto& [_, p] : shard.pending) all.push_back(std::move(p.done));
        shard.pending.clear();
        while (!shard.deadlines.empty()) shard.deadlines.pop();
      }
      for (auto& done : all) done(unavailable("NATS connection closed"));
    }
  }

  void close() {
    std::lock_guard l(close_mu);
    if (closed) return;
    closed = true;
    stopping = true;
    {
      std::lock_guard fl(flusher_mu);
      flusher_cv.notify_all();
    }
    if (flusher.joinable()) flusher.join();
    if (timer.joinable()) timer.join();
    inbox_sub.unsubscribe();
    if (conn) {
      telemetry->detach();
      natsConnection_Close(conn);
      natsConnection_Destroy(conn);
      conn = nullptr;
    }
    fail_all_pending();
  }
};

// ---------------------------------------------------------------- Connection

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

Result<std::shared_ptr<Connection>> Connection::connect(const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  natsOptions* opts = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK) return unavailable("natsOptions_Create failed");
  std::unique_ptr<natsOptions, void (*)(natsOptions*)> guard(opts, natsOptions_Destroy);
  natsOptions_SetURL(opts, options.url.c_str());
  if (!options.name.empty()) natsOptions_SetName(opts, options.name.c_str());
  natsOptions_SetAllowReconnect(opts, true);
  natsOptions_SetMaxReconnect(opts, -1);  // forever
  natsOptions_SetReconnectWait(opts, options.reconnect_wait.count());
  natsOptions_SetReconnectBufSize(opts, options.reconnect_buffer_bytes);
  natsOptions_SetPingInterval(opts, 5000);
  natsOptions_SetMaxPingsOut(opts, 3);
  natsOptions_SetTimeout(opts, 2000);
  natsOptions_SetSendAsap(opts, options.send_asap);
  natsOptions_SetMaxPendingMsgs(opts, 1 << 20);
  natsOptions_SetDisconnectedCB(opts, &Impl::on_disconnected, impl.get());
  natsOptions_SetReconnectedCB(opts, &Impl::on_reconnected, impl.get());

  auto give_up = Clock::now() + options.connect_timeout;
  natsStatus s;
  while (true) {
    s = natsConnection_Connect(&impl->conn, opts);
    if (s == NATS_OK || Clock::now() >= give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (s != NATS_OK) return from_nats(s, "connect to " + options.url);
  impl->telemetry->attach(impl->conn);

  natsInbox* inbox = nullptr;
  if (natsInbox_Create(&inbox) != NATS_OK) return unavailable("natsInbox_Create failed");
  impl->inbox_prefix = std::string(inbox) + ".";
  natsInbox_Destroy(inbox);
  auto sub = impl->subscribe(impl->inbox_prefix + "*", "", {}, &Impl::on_reply, impl.get());
  if (!sub.ok()) return sub.status();
  impl->inbox_sub = std::move(sub).value();

  if (!options.send_asap) impl->flusher = std::thread([p = impl.get()] { p->flusher_loop(); });
  impl->timer = std::thread([p = impl.get()] { p->timer_loop(); });
  return std::shared_ptr<Connection>(new Connection(std::move(impl)));
}

Status Connection::publish(std::string_view subject, std::string_view data) {
  return publish_request(subject, {}, data);
}

Status Connection::publish_request(std::string_view subject, std::string_view reply,
                                   std::string_view data) {
  if (impl_->stopping) return unavailable("NATS connection closed");
  // NATS.c wants NUL-terminated subjects; small strings stay on the stack (SSO).
  std::string subj(subject), rep(reply);
  natsStatus s =
      rep.empty()
          ? natsConnection_Publish(impl_->conn, subj.c_str(), data.data(),
                                   static_cast<int>(data.size()))
          : natsConnection_PublishRequest(impl_->conn, subj.c_str(), rep.c_str(), data.data(),
                                          static_cast<int>(data.size()));
  if (s != NATS_OK) return from_nats(s, "publish " + subj);
  impl_->published.fetch_add(1, std::memory_order_relaxed);
  impl_->kick();
  return Status::ok();
}

Status Connection::respond(const Message& request, std::string_view data) {
  if (request.reply.empty()) return Status::ok();
  return publish(request.reply, data);
}

void Connection::request(std::string_view subject, std::string_view data,
                         std::chrono::milliseconds timeout, ReplyHandler done) {
  if (impl_->stopping) return done(unavailable("NATS connection closed"));
  uint64_t token = impl_->next_token.fetch_add(1, std::memory_order_relaxed);
  auto& shard = impl_->shards[token % kShards];
  auto deadline = Clock::now() + timeout;
  {
    std::lock_guard l(shard.mu);
    shard.pending.emplace(token, Impl::Pending{std::move(done), deadline});
    shard.deadlines.emplace(deadline, token);
  }
  impl_->requests.fetch_add(1, std::memory_order_relaxed);
  char buf[24];
  auto [end, _] = std::to_chars(buf, buf + sizeof buf, token);
  std::string reply = impl_->inbox_prefix;
  reply.append(buf, end);
  Status s = publish_request(subject, reply, data);
  if (!s.is_ok()) {
    if (auto cb = impl_->take(token)) cb(std::move(s));
  }
}

Result<std::string> Connection::request_sync(std::string_view subject, std::string_view data,
                                             std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<Result<std::string>>>();
  auto future = promise->get_future();
  request(subject, data, timeout,
          [promise](Result<std::string> r) { promise->set_value(std::move(r)); });
  return future.get();
}

Result<Subscription> Connection::subscribe(std::string_view subject, std::string_view queue,
                                           MessageHandler handler) {
  if (impl_->stopping) return unavailable("NATS connection closed");
  return impl_->subscribe(subject, queue, std::move(handler));
}

Result<Subscription> Connection::subscribe_actor(std::string_view subject,
                                                 std::string_view queue, caf::actor actor) {
  return subscribe(subject, queue,
                   [actor = std::move(actor)](MessagePtr m) { caf::anon_send(actor, std::move(m)); });
}

Status Connection::flush(std::chrono::milliseconds timeout) {
  if (impl_->stopping) return unavailable("NATS connection closed");
  natsStatus s = natsConnection_FlushTimeout(impl_->conn, timeout.count());
  return s == NATS_OK ? Status::ok() : from_nats(s, "flush");
}

bool Connection::connected() const {
  return !impl_->stopping && impl_->conn &&
         natsConnection_Status(impl_->conn) == NATS_CONN_STATUS_CONNECTED;
}

ConnectionStats Connection::stats() const {
  ConnectionStats s;
  s.published = impl_->published.load();
  s.flushes = impl_->flushes.load();
  s.requests = impl_->requests.load();
  s.request_timeouts = impl_->timeouts.load();
  s.no_responders = impl_->no_responders.load();
  s.reconnects = impl_->telemetry->reconnects.load();
  s.connected = connected();
  const auto counts = impl_->telemetry->read();
  s.in_msgs = counts.in_msgs;
  s.out_msgs = counts.out_msgs;
  s.in_bytes = counts.in_bytes;
  s.out_bytes = counts.out_bytes;
  return s;
}

void Connection::register_metrics(metrics::Registry& registry) {
  std::shared_ptr<Telemetry> t = impl_->telemetry;
  metrics::BuildGauge()
      .Name("shoal_nats_connected")
      .Help("1 while the process's NATS connection is connected, 0 otherwise")
      .Register(registry)
      .AddCallback({}, [t] { return t->read().connected ? 1.0 : 0.0; });
  metrics::BuildCounter()
      .Name("shoal_nats_reconnects_total")
      .Help("Times the NATS connection was re-established after a disconnect")
      .Register(registry)
      .AddCallback({}, [t] { return double(t->reconnects.load(std::memory_order_relaxed)); });
  auto& messages = metrics::BuildCounter()
                       .Name("shoal_nats_messages_total")
                       .Help("NATS messages received (in) and sent (out) on this connection")
                       .Register(registry);
  messages.AddCallback({{"direction", "in"}}, [t] { return double(t->read().in_msgs); });
  messages.AddCallback({{"direction", "out"}}, [t] { return double(t->read().out_msgs); });
  auto& bytes = metrics::BuildCounter()
                    .Name("shoal_nats_bytes_total")
                    .Help("NATS message payload bytes received (in) and sent (out)")
                    .Register(registry);
  bytes.AddCallback({{"direction", "in"}}, [t] { return double(t->read().in_bytes); });
  bytes.AddCallback({{"direction", "out"}}, [t] { return double(t->read().out_bytes); });
}

void Connection::close() { impl_->close(); }

}  // namespace shoal::nats
