#include "shoal/http/server.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "request_parser.h"
#include "response_head.h"

// Threading model: one io_context per I/O thread, rather than one shared io_context with a
// strand per connection. Each accepted socket is bound (round-robin) to one worker's
// io_context and all of its handlers run on that worker's single thread, so:
//  - no strand: a connection's state is touched by one thread only, without locks;
//  - no handler migrates between cores (the connection's buffers stay in one cache);
//  - the scheduler lock of an io_context is only contended by posts from outside (responses
//    completed on NATS threads), not by every I/O thread dequeuing from one shared queue.
// The cost is pinning: a few very busy connections cannot spread over more threads than
// they have. The gateway's clients (SDKs with connection pools) open many connections, and
// handlers never block (the work happens on NATS/storage threads), so this is acceptable.
//
// Lifetimes: a Connection is owned by whatever may still touch it: its pending async
// operation, a handler queued to its io_context, or the Responder of its request in flight.
// A Responder also owns the Worker (the io_context), so a Responder that outlives the Server
// can still post into a live (stopped) io_context; the queued handler then dies with it.
// Connections never own their Worker, so there is no cycle. Per-worker state (the list of
// open connections, used for idle sweeps and shutdown) is only touched on the worker thread.

namespace shoal::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

namespace detail {

using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Acceptor = net::basic_socket_acceptor<tcp, Executor>;
using Timer = net::basic_waitable_timer<Clock, net::wait_traits<Clock>, Executor>;

constexpr size_t kHeaderReadSize = 8 * 1024;
constexpr size_t kBodyReadSize = 64 * 1024;
constexpr size_t kMaxIdleBuffer = 128 * 1024;  // shrink the read buffer between requests above
constexpr Clock::duration kLingerTimeout = std::chrono::seconds(2);

// What every connection of one server shares. Owned by Server::Impl; used only on the I/O
// threads, which stop() joins before the Server goes away.
struct Shared {
  ServerOptions options;
  Handler handler;
  std::atomic<size_t> live{0};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable drained;
};

struct Worker : std::enable_shared_from_this<Worker> {
  explicit Worker(Shared* s) : shared(s) {}

  net::io_context ioc{1};  // one thread runs it
  Timer sweep{ioc.get_executor()};
  std::optional<net::executor_work_guard<Executor>> guard{ioc.get_executor()};
  Shared* shared;
  Connection* connections = nullptr;  // open connections (intrusive list), this thread only

  void link(Connection* c);
  void unlink(Connection* c);
  template <class F>
  void for_each_connection(F&& f);
  void schedule_sweep(Clock::duration period);
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Worker* worker, Socket socket)
      : worker_(worker), shared_(worker->shared), socket_(std::move(socket)) {}

  // All below run on the worker's thread.
  void start();
  void deliver(Response&& r);
  void begin_shutdown();
  void check_timeout(Clock::time_point now, Clock::duration idle);
  void close();

  Connection* prev = nullptr;  // Worker::connections links
  Connection* next = nullptr;

 private:
  enum class Phase { kReading, kHandling, kWriting, kLingering, kClosed };

  void next_request();
  void parse();
  void read_some();
  void on_read(const error_code& ec, size_t n);
  void send_continue();
  void dispatch();
  void fail(const error_code& ec);
  void write(Response&& r, bool close);
  void on_write(const error_code& ec);
  void linger();
  void linger_read();

  Worker* worker_;
  Shared* shared_;
  Socket socket_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  Response response_;  // being written
  std::string head_;   // its status line and fields; capacity reused
  std::string remote_;
  Phase phase_ = Phase::kReading;
  Clock::time_point since_;  // start of the current phase
  int version_ = 11;
  bool keep_alive_ = true;
  bool head_request_ = false;
  bool continue_sent_ = false;
  bool close_after_write_ = false;
};

// ---- Worker --------------------------------------------------------------------------------

void Worker::link(Connection* c) {
  c->prev = nullptr;
  c->next = connections;
  if (connections) connections->prev = c;
  connections = c;
}

void Worker::unlink(Connection* c) {
  if (c->prev) c->prev->next = c->next;
  else if (connections == c) connections = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = c->next = nullptr;
}

template <class F>
void Worker::for_each_connection(F&& f) {
  for (Connection* c = connections; c != nullptr;) {
    Connection* next = c->next;  // f may close (unlink) c
    f(*c);
    c = next;
  }
}

void Worker::schedule_sweep(Clock::duration period) {
  sweep.expires_after(period);
  sweep.async_wait([this, period](const error_code& ec) {
    if (ec) return;
    auto now = Clock::now();
    auto idle = std::chrono::duration_cast<Clock::duration>(shared->options.idle_timeout);
    for_each_connection([&](Connection& c) { c.check_timeout(now, idle); });
    schedule_sweep(period);
  });
}

// ---- Connection ----------------------------------------------------------------------------

void Connection::start() {
  worker_->link(this);
  shared_->live.fetch_add(1, std::memory_order_relaxed);
  error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) {
    auto addr = ep.address();
    remote_ = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
    remote_ += ':';
    remote_ += std::to_string(ep.port());
  }
  socket_.set_option(tcp::no_delay(true), ec);
  next_request();
}

void Connection::next_request() {
  phase_ = Phase::kReading;
  since_ = Clock::now();
  parser_.emplace();
  parser_->body_limit(shared_->options.body_limit);
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(shared_->options.header_limit, UINT32_MAX)));
  parser_->eager(true);
  continue_sent_ = false;
  if (buffer_.size() == 0 && buffer_.capacity() > kMaxIdleBuffer) buffer_.shrink_to_fit();
  parse();
}

// Feeds buffered bytes to the parser; dispatches a complete request or reads more.
void Connection::parse() {
  error_code ec;
  while (buffer_.size() > 0) {
    size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == beast::http::error::need_more) {
      ec = {};
      break;
    }
    if (ec) return fail(ec);
    if (parser_->is_done()) return dispatch();
    if (used == 0) break;
  }
  if (shared_->stopping.load(std::memory_order_relaxed) && !parser_->got_some()) return close();
  if (parser_->is_header_done() && parser_->expect_continue() && !continue_sent_) {
    return send_continue();
  }
  read_some();
}

void Connection::read_some() {
  size_t want = parser_ && parser_->is_header_done() ? kBodyReadSize : kHeaderReadSize;
  socket_.async_read_some(buffer_.prepare(want),
                          [self = shared_from_this()](const error_code& ec, size_t n) {
                            self->on_read(ec, n);
                          });
}

void Connection::on_read(const error_code& ec, size_t n) {
  if (phase_ != Phase::kReading) return;  // closed meanwhile
  if (ec) return close();                 // eof, reset, cancelled
  buffer_.commit(n);
  parse();
}

void Connection::send_continue() {
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  continue_sent_ = true;
  net::async_write(socket_, net::buffer(kContinue.data(), kContinue.size()),
                   [self = shared_from_this()](const error_code& ec, size_t) {
                     if (self->phase_ != Phase::kReading) return;
                     if (ec) return self->close();
                     self->read_some();
                   });
}

void Connection::dispatch() {
  phase_ = Phase::kHandling;
  keep_alive_ = parser_->keep_alive();
  Request request = std::move(parser_->request());
  parser_.reset();
  version_ = request.version;
  head_request_ = request.method == "HEAD";
  request.remote = remote_;
  // Nothing below may touch `this` state: the handler may already have answered inline.
  try {
    shared_->handler(std::move(request), Responder(worker_->shared_from_this(), shared_from_this()));
  } catch (const std::exception& e) {
    spdlog::error("http: handler threw: {}", e.what());
  } catch (...) {
    spdlog::error("http: handler threw a non-exception");
  }
}

void Connection::fail(const error_code& ec) {
  unsigned status = 400;
  const char* text = "Bad Request: malformed HTTP request\n";
  if (ec == beast::http::error::body_limit) {
    status = 413;
    text = "Payload Too Large: request body exceeds the limit\n";
  } else if (ec == beast::http::error::header_limit) {
    status = 431;
    text = "Request Header Fields Too Large\n";
  }
  spdlog::debug("http: {} from {}: {}", status, remote_, ec.message());
  parser_.reset();
  phase_ = Phase::kHandling;
  version_ = 11;
  head_request_ = false;
  write(Response::make(status, text), /*close=*/true);
}

void Connection::deliver(Response&& r) {
  if (phase_ != Phase::kHandling) return;  // closed by stop() while the handler worked
  bool close =
      !keep_alive_ || shared_->stopping.load(std::memory_order_relaxed) || wants_close(r);
  write(std::move(r), close);
}

void Connection::write(Response&& r, bool close) {
  response_ = std::move(r);
  close_after_write_ = close;
  format_head(head_, response_, {.close = close, .keep_alive = !close && version_ < 11});
  phase_ = Phase::kWriting;
  since_ = Clock::now();
  bool bodyless = head_request_ || response_.status < 200 || response_.status == 204 ||
                  response_.status == 304;
  std::array<net::const_buffer, 2> buffers{
      net::buffer(head_),
      bodyless ? net::const_buffer() : net::buffer(response_.body)};
  net::async_write(socket_, buffers,
                   [self = shared_from_this()](const error_code& ec, size_t) {
                     self->on_write(ec);
                   });
}

void Connection::on_write(const error_code& ec) {
  if (phase_ != Phase::kWriting) return;  // closed meanwhile
  response_ = Response{};                  // release the body now, not at the next response
  if (ec) return close();
  if (close_after_write_) return linger();
  next_request();
}

// Closes "lingering" (RFC 7230 6.6): stop sending, then read and discard until the client
// closes (or kLingerTimeout), so a client still sending a body sees our response instead
// of a reset. While the server stops, the connection closes at once instead (stop() waits
// for requests in flight, not for clients to hang up).
void Connection::linger() {
  if (shared_->stopping.load(std::memory_order_relaxed)) return close();
  phase_ = Phase::kLingering;
  since_ = Clock::now();
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return close();
  buffer_.clear();
  linger_read();
}

void Connection::linger_read() {
  socket_.async_read_some(buffer_.prepare(kHeaderReadSize),
                          [self = shared_from_this()](const error_code& ec, size_t) {
                            if (self->phase_ != Phase::kLingering) return;
                            if (ec) return self->close();
                            self->buffer_.clear();
                            self->linger_read();
                          });
}

void Connection::begin_shutdown() {
  switch (phase_) {
    case Phase::kReading:
      // Idle between requests: close now. A request partly received may still complete.
      if (!parser_ || !parser_->got_some()) close();
      break;
    case Phase::kLingering:
      close();
      break;
    default:
      break;  // the response in progress goes out with Connection: close
  }
}

void Connection::check_timeout(Clock::time_point now, Clock::duration idle) {
  switch (phase_) {
    case Phase::kReading:
    case Phase::kWriting:
      if (idle > Clock::duration::zero() && now - since_ > idle) {
        spdlog::debug("http: closing idle connection from {}", remote_);
        close();
      }
      break;
    case Phase::kLingering:
      if (now - since_ > kLingerTimeout) close();
      break;
    default:
      break;  // the handler's time is not limited here
  }
}

void Connection::close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);  // cancels pending operations; their handlers see kClosed
  worker_->unlink(this);
  parser_.reset();
  if (shared_->live.fetch_sub(1, std::memory_order_acq_rel) == 1 &&
      shared_->stopping.load(std::memory_order_acquire)) {
    std::lock_guard lock(shared_->mu);
    shared_->drained.notify_all();
  }
}

}  // namespace detail

// ---- Responder -----------------------------------------------------------------------------

namespace {
Response internal_error() {
  return Response::make(500, "Internal Server Error: the request was dropped unanswered\n");
}
}  // namespace

Responder::Responder(std::shared_ptr<detail::Worker> worker,
                     std::shared_ptr<detail::Connection> conn)
    : worker_(std::move(worker)), conn_(std::move(conn)) {}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (conn_) {
      try {
        send(internal_error());
      } catch (...) {
      }
    }
    worker_ = std::move(other.worker_);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

Responder::~Responder() {
  if (!conn_) return;
  try {
    send(internal_error());
  } catch (...) {
    // Out of memory: the connection is left to the idle sweep / shutdown.
  }
}

void Responder::send(Response response) {
  if (!conn_) return;
  auto worker = std::move(worker_);
  auto conn = std::move(conn_);
  // Inline when already on the connection's thread, else queued to it.
  net::dispatch(worker->ioc, [conn = std::move(conn), r = std::move(response)]() mutable {
    conn->deliver(std::move(r));
  });
}

// ---- Server --------------------------------------------------------------------------------

struct Server::Impl {
  detail::Shared shared;
  // Declared before the acceptor: the acceptor lives on workers[0]'s io_context.
  std::vector<std::shared_ptr<detail::Worker>> workers;
  std::optional<detail::Acceptor> acceptor;
  std::optional<detail::Timer> accept_retry;
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};
  size_t next_worker = 0;  // workers[0]'s thread only
  std::mutex lifecycle_mu;
  bool started = false;
  bool stopped = false;

  void accept();
  // Runs `f` on `w`'s thread and waits for it.
  template <class F>
  void run_on(detail::Worker& w, F&& f) {
    std::promise<void> done;
    net::post(w.ioc, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  bool on_io_thread() const {
    auto me = std::this_thread::get_id();
    return std::any_of(threads.begin(), threads.end(),
                       [me](const std::thread& t) { return t.get_id() == me; });
  }
};

void Server::Impl::accept() {
  detail::Worker& target = *workers[next_worker++ % workers.size()];
  acceptor->async_accept(target.ioc, [this, &target](const error_code& ec, detail::Socket socket) {
    if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      // Typically EMFILE: back off instead of spinning on the error.
      spdlog::warn("http: accept failed: {}", ec.message());
      accept_retry->expires_after(std::chrono::milliseconds(100));
      accept_retry->async_wait([this](const error_code& e) {
        if (!e && acceptor->is_open()) accept();
      });
      return;
    }
    net::post(target.ioc, [w = &target, s = std::move(socket)]() mutable {
      if (w->shared->stopping.load()) return;  // the socket closes as it goes
      std::make_shared<detail::Connection>(w, std::move(s))->start();
    });
    accept();
  });
}

Server::Server(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->shared.options = std::move(options);
  impl_->shared.handler = std::move(handler);
}

Server::~Server() { stop(); }

uint16_t Server::port() const { return impl_->port.load(); }

size_t Server::connections() const { return impl_->shared.live.load(); }

Status Server::start() {
  auto& im = *impl_;
  std::lock_guard lock(im.lifecycle_mu);
  if (im.started || im.stopped) return failed_precondition("http server already started");
  const auto& opts = im.shared.options;
  if (!im.shared.handler) return invalid_argument("http server needs a handler");
  int n = std::max(1, opts.threads);
  for (int i = 0; i < n; ++i) im.workers.push_back(std::make_shared<detail::Worker>(&im.shared));
  auto& ioc0 = im.workers[0]->ioc;

  auto fail = [&im](Status s) {
    im.acceptor.reset();
    im.workers.clear();
    return s;
  };
  error_code ec;
  tcp::endpoint endpoint;
  auto addr = net::ip::make_address(opts.address, ec);
  if (!ec) {
    endpoint = tcp::endpoint(addr, opts.port);
  } else {
    tcp::resolver resolver(ioc0);
    auto results = resolver.resolve(opts.address, std::to_string(opts.port), ec);
    if (ec || results.empty()) {
      return fail(invalid_argument("cannot resolve listen address '" + opts.address + "'"));
    }
    endpoint = results.begin()->endpoint();
  }
  std::string where = opts.address + ":" + std::to_string(opts.port);
  im.acceptor.emplace(ioc0.get_executor());
  if (im.acceptor->open(endpoint.protocol(), ec); ec) {
    return fail(unavailable("cannot open socket for " + where + ": " + ec.message()));
  }
  im.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (im.acceptor->bind(endpoint, ec); ec) {
    return fail(unavailable("cannot bind " + where + ": " + ec.message()));
  }
  if (im.acceptor->listen(net::socket_base::max_listen_connections, ec); ec) {
    return fail(unavailable("cannot listen on " + where + ": " + ec.message()));
  }
  im.port = im.acceptor->local_endpoint(ec).port();
  im.accept_retry.emplace(ioc0.get_executor());

  auto idle = std::chrono::duration_cast<Clock::duration>(opts.idle_timeout);
  Clock::duration sweep = std::clamp<Clock::duration>(idle / 4, std::chrono::milliseconds(50),
                                                      std::chrono::seconds(1));
  if (idle <= Clock::duration::zero()) sweep = std::chrono::seconds(1);  // lingering only
  for (auto& w : im.workers) w->schedule_sweep(sweep);
  im.accept();
  for (int i = 0; i < n; ++i) {
    im.threads.emplace_back([w = im.workers[i], i] {
      std::string name = "shoal-http-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      for (;;) {
        try {
          w->ioc.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("http: I/O thread {}: {}", i, e.what());
        }
      }
    });
  }
  im.started = true;
  return Status::ok();
}

void Server::stop() {
  auto& im = *impl_;
  std::lock_guard lock(im.lifecycle_mu);
  if (!im.started || im.stopped) return;
  if (im.on_io_thread()) {
    spdlog::error("http: Server::stop() called from its own I/O thread; ignored");
    return;
  }
  im.stopped = true;
  im.shared.stopping = true;

  // 1. No new connections.
  im.run_on(*im.workers[0], [&im] {
    error_code ec;
    im.acceptor->close(ec);
    im.accept_retry->cancel();
  });
  // 2. Close idle connections; requests in flight finish with Connection: close.
  for (auto& w : im.workers) {
    im.run_on(*w, [&w] { w->for_each_connection([](detail::Connection& c) { c.begin_shutdown(); }); });
  }
  {
    std::unique_lock lk(im.shared.mu);
    im.shared.drained.wait_for(lk, im.shared.options.shutdown_timeout,
                               [&im] { return im.shared.live.load() == 0; });
  }
  // 3. Close what is left (a Responder sending later finds its connection closed).
  for (auto& w : im.workers) {
    im.run_on(*w, [&w] {
      w->for_each_connection([](detail::Connection& c) { c.close(); });
      w->sweep.cancel();
      w->guard.reset();
    });
  }
  for (auto& w : im.workers) w->ioc.stop();
  for (auto& t : im.threads) t.join();
  im.threads.clear();
}

}  // namespace shoal::http
