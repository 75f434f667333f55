#pragma once
// A C++ wrapper over NATS.c: one Connection per process, shared by everything in it.
//
// What it adds to NATS.c:
//   - Result/Status errors instead of natsStatus codes;
//   - RAII subscriptions whose callbacks get an immutable, shareable Message;
//   - pipelined asynchronous requests: one wildcard inbox subscription for the whole
//     connection and a sharded table of pending requests (no global lock around
//     request/reply), with per-request timeouts and "no responders" detection;
//   - outbound batching: publishes are queued and a sender thread hands everything that is
//     ready to NATS.c in one turn, then flushes once. Under light load a message leaves at
//     once (no 1 ms flusher delay); under heavy load one flush covers many messages (no
//     system call per message). See docs/ARCHITECTURE.md, "Blocking places".
//   - delivery of subscription messages straight into a CAF actor (subscribe_actor);
//   - Prometheus series of the connection read from NATS.c's statistics when scraped
//     (register_metrics), so nothing is counted on the message path.
//
// Thread safety: every method may be called from any thread, including from inside a
// subscription or request callback. Callbacks of one subscription run one at a time, in
// order, on that subscription's NATS.c delivery thread; request callbacks run on the inbox
// subscription's thread or on the timeout thread. Callbacks must not block for long.

#include <caf/actor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "shoal/common/status.h"
#include "shoal/metrics/registry.h"

namespace shoal::nats {

struct Options {
  std::string url = "nats://127.0.0.1:4222";
  std::string name;  // shown by the server (connz) and in logs
  // Keep retrying the initial connect instead of failing at once (a service started
  // before nats-server waits for it). 0 = fail at once.
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds reconnect_wait{250};
  // Bytes NATS.c keeps while reconnecting; publishes beyond that fail.
  int reconnect_buffer_bytes = 32 * 1024 * 1024;
  // Flush each publish inside NATS.c (one system call per message). Off by default: our
  // sender thread batches instead.
  bool send_asap = false;
};

struct Message {
  std::string subject;
  std::string reply;  // empty when no answer is expected
  std::string data;
};
using MessagePtr = std::shared_ptr<const Message>;

class Connection;

// A live subscription; unsubscribes when destroyed (after which its callback is no longer
// called, though a call already running may finish). Movable, not copyable.
class Subscription {
 public:
  Subscription() = default;
  Subscription(Subscription&& other) noexcept;
  Subscription& operator=(Subscription&& other) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription();

  bool valid() const { return state_ != nullptr; }
  void unsubscribe();

  struct State;

 private:
  friend class Connection;
  explicit Subscription(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

using ReplyHandler = std::function<void(Result<std::string>)>;
using MessageHandler = std::function<void(MessagePtr)>;

struct ConnectionStats {
  uint64_t published = 0;        // messages handed to NATS.c
  uint64_t flushes = 0;          // sender turns (each flushes once)
  uint64_t requests = 0;
  uint64_t request_timeouts = 0;
  uint64_t no_responders = 0;
  uint64_t reconnects = 0;
  bool connected = false;
  // NATS.c's own counts over the connection's life (every message, requests and replies
  // included), as of the call; after close() they stay at their last values.
  uint64_t in_msgs = 0;
  uint64_t out_msgs = 0;
  uint64_t in_bytes = 0;
  uint64_t out_bytes = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  static Result<std::shared_ptr<Connection>> connect(const Options& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Queues `data` for `subject`. Fails only if the connection is closed or the reconnect
  // buffer is full; success does not mean delivery (NATS is at-most-once).
  Status publish(std::string_view subject, std::string_view data);
  Status publish_request(std::string_view subject, std::string_view reply,
                         std::string_view data);
  // Answers a request message (publishes to its reply subject; no-op without one).
  Status respond(const Message& request, std::string_view data);

  // Sends a request and calls `done` exactly once: with the reply payload, with
  // kDeadlineExceeded after `timeout`, with kUnavailable if no one subscribes to `subject`
  // or the connection is closed.
  void request(std::string_view subject, std::string_view data,
               std::chrono::milliseconds timeout, ReplyHandler done);
  // Blocking form of request(); never call it from a callback of this connection.
  Result<std::string> request_sync(std::string_view subject, std::string_view data,
                                   std::chrono::milliseconds timeout);

  // Subscribes; `queue` non-empty joins a queue group (each message to one member).
  Result<Subscription> subscribe(std::string_view subject, std::string_view queue,
                                 MessageHandler handler);
  // Delivers each message to `actor` as a (MessagePtr) message (see caf_types.h).
  Result<Subscription> subscribe_actor(std::string_view subject, std::string_view queue,
                                       caf::actor actor);

  // Waits until everything queued so far reached the server (PING/PONG round trip).
  Status flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  bool connected() const;
  ConnectionStats stats() const;
  // Adds this connection's series to `registry`, all computed when scraped from NATS.c's
  // statistics (one natsConnection_GetStats per series, nothing on the message path):
  //   shoal_nats_connected                       gauge, 1 while connected, else 0
  //   shoal_nats_reconnects_total                counter, successful reconnects
  //   shoal_nats_messages_total{direction=in|out} counter
  //   shoal_nats_bytes_total{direction=in|out}    counter, payload bytes
  // One connection per registry (a second call replaces the first connection's series). The
  // series stay valid after close() and after this Connection is destroyed (last values,
  // connected 0), so the registry may outlive it.
  void register_metrics(metrics::Registry& registry);
  // Fails pending requests with kUnavailable, stops threads, closes the NATS connection.
  // Idempotent; the destructor calls it.
  void close();

  struct Impl;

 private:
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shoal::nats
