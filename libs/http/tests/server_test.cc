#include "shoal/http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <latch>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "raw_socket.h"
#include "shoal/http/client.h"

namespace shoal::http {
namespace {

using namespace std::chrono_literals;
using testing::RawSocket;
using testing::status_of;

// Echo: "<METHOD> <target>\n<body>", with X-Echo copied back.
void echo(Request&& req, Responder resp) {
  Response r;
  r.status = 200;
  r.headers.emplace_back("Content-Type", "text/plain");
  if (auto v = req.header("x-echo"); !v.empty()) r.headers.emplace_back("X-Echo", std::string(v));
  r.body = req.method + " " + req.target + "\n" + req.body;
  resp.send(std::move(r));
}

ServerOptions local(int threads = 2) {
  ServerOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.threads = threads;
  return o;
}

std::string raw_get(std::string_view extra = {}, std::string_view version = "HTTP/1.1") {
  return "GET /x " + std::string(version) + "\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

TEST(Server, RoundTripWithHeadersAndBody) {
  Request seen;
  std::mutex mu;
  Server server(local(), [&](Request&& req, Responder resp) {
    {
      std::lock_guard lock(mu);
      seen.method = req.method;
      seen.target = req.target;
      seen.version = req.version;
      seen.remote = req.remote;
      seen.headers = req.headers;
    }
    echo(std::move(req), std::move(resp));
  });
  ASSERT_TRUE(server.start().is_ok());
  ASSERT_NE(server.port(), 0);
  Client client("127.0.0.1", server.port());
  auto r = client.post("/path?q=1",
                       {{"X-Echo", "hello"}, {"X-Amz-Target", "DynamoDB_20120810.PutItem"}},
                       "{\"a\":1}");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->header("x-echo"), "hello");
  EXPECT_EQ(r->header("Content-Type"), "text/plain");
  EXPECT_EQ(r->header("Content-Length"), std::to_string(r->body.size()));
  EXPECT_FALSE(r->header("Date").empty());
  EXPECT_EQ(r->body, "POST /path?q=1\n{\"a\":1}");
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/path?q=1");
  EXPECT_EQ(seen.version, 11);
  EXPECT_EQ(seen.headers.get("x-amz-target"), "DynamoDB_20120810.PutItem");
  EXPECT_EQ(seen.headers.get("HOST"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen.remote.rfind("127.0.0.1:", 0), 0u) << seen.remote;
}

TEST(Server, KeepAliveHundredSequentialRequestsOnOneConnection) {
  std::mutex mu;
  std::set<std::string> remotes;
  Server server(local(), [&](Request&& req, Responder resp) {
    {
      std::lock_guard lock(mu);
      remotes.insert(req.remote);
    }
    echo(std::move(req), std::move(resp));
  });
  ASSERT_TRUE(server.start().is_ok());
  Client client("127.0.0.1", server.port());
  for (int i = 0; i < 100; ++i) {
    auto body = "req" + std::to_string(i);
    auto r = client.post("/", {}, body);
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().to_string();
    ASSERT_EQ(r->body, "POST /\n" + body);
    ASSERT_TRUE(r->header("Connection").empty());  // keep-alive is the HTTP/1.1 default
  }
  EXPECT_TRUE(client.connected());
  EXPECT_EQ(server.connections(), 1u);
  std::lock_guard lock(mu);
  EXPECT_EQ(remotes.size(), 1u);
}

TEST(Server, TwoHundredConcurrentConnectionsTwentyRequestsEach) {
  constexpr int kConnections = 200;
  constexpr int kRequests = 20;
  std::atomic<int> handled{0};
  Server server(local(), [&](Request&& req, Responder resp) {
    handled.fetch_add(1);
    echo(std::move(req), std::move(resp));
  });
  ASSERT_TRUE(server.start().is_ok());
  std::latch connected(kConnections);
  std::latch go(1);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kConnections; ++t) {
    threads.emplace_back([&, t] {
      Client client("127.0.0.1", server.port());
      for (int i = 0; i < kRequests; ++i) {
        std::string body = std::to_string(t) + "/" + std::to_string(i);
        auto r = client.post("/c", {}, body);
        if (r.ok() && r->status == 200 && r->body == "POST /c\n" + body) ok.fetch_add(1);
        if (i == 0) {
          connected.count_down();
          go.wait();  // all connections open at once
        }
      }
    });
  }
  connected.wait();
  EXPECT_EQ(server.connections(), size_t(kConnections));
  go.count_down();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kConnections * kRequests);
  EXPECT_EQ(handled.load(), kConnections * kRequests);
}

// Responders handed to a worker thread that answers later, as a NATS callback does.
class DeferredResponder {
 public:
  DeferredResponder() : thread_([this] { run(); }) {}
  ~DeferredResponder() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void push(Request&& req, Responder resp) {
    {
      std::lock_guard lock(mu_);
      queue_.emplace_back(std::move(req), std::move(resp));
    }
    cv_.notify_all();
  }
  std::thread::id id() const { return thread_.get_id(); }
  std::function<void(Request&, Responder&)> answer = [](Request& req, Responder& resp) {
    std::this_thread::sleep_for(20ms);
    resp.send(Response::make(202, "later:" + req.body));
  };

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return done_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto [req, resp] = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      answer(req, resp);
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Request, Responder>> queue_;
  bool done_ = false;
  std::thread thread_;
};

TEST(Server, ResponseSentLaterFromAnotherThread) {
  DeferredResponder later;
  std::atomic<bool> handler_on_other_thread{true};
  Server server(local(), [&](Request&& req, Responder resp) {
    if (std::this_thread::get_id() == later.id()) handler_on_other_thread = false;
    later.push(std::move(req), std::move(resp));
  });
  ASSERT_TRUE(server.start().is_ok());
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      Client client("127.0.0.1", server.port());
      for (int i = 0; i < 5; ++i) {
        std::string body = std::to_string(c * 10 + i);
        auto r = client.post("/", {}, body);
        if (r.ok() && r->status == 202 && r->body == "later:" + body) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_TRUE(handler_on_other_thread.load());
}

TEST(Server, DroppedResponderSends500) {
  DeferredResponder later;
  later.answer = [](Request&, Responder& resp) { Responder dropped = std::move(resp); };
  Server server(local(), [&](Request&& req, Responder resp) {
    if (req.target == "/now") return;  // dropped on the I/O thread
    later.push(std::move(req), std::move(resp));  // dropped on another thread
  });
  ASSERT_TRUE(server.start().is_ok());
  Client client("127.0.0.1", server.port());
  for (const char* target : {"/now", "/later", "/now"}) {
    auto r = client.get(target);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->status, 500u) << target;
  }
  EXPECT_TRUE(client.connected());  // a 500 from the server keeps the connection
}

TEST(Server, SecondSendIsIgnoredAndThrowingHandlerGets500) {
  Server server(local(), [](Request&& req, Responder resp) {
    if (req.target == "/throw") throw std::runtime_error("boom");
    resp.send(Response::make(200, "first"));
    resp.send(Response::make(201, "second"));
    EXPECT_FALSE(resp.pending());
  });
  ASSERT_TRUE(server.start().is_ok());
  Client client("127.0.0.1", server.port());
  auto a = client.get("/twice");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, 200u);
  EXPECT_EQ(a->body, "first");
  auto b = client.get("/throw");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->status, 500u);
  auto c = client.get("/twice");  // the connection is still in sync
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->body, "first");
}

TEST(Server, BodyOverLimitGets413AndClose) {
  auto opts = local();
  opts.body_limit = 1024;
  std::atomic<int> handled{0};
  Server server(opts, [&](Request&& req, Responder resp) {
    handled.fetch_add(1);
    echo(std::move(req), std::move(resp));
  });
  ASSERT_TRUE(server.start().is_ok());
  {
    // Refused from the Content-Length alone; the client is sending the body meanwhile.
    RawSocket s(server.port());
    ASSERT_TRUE(s.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n"));
    s.send(std::string(200000, 'x'));
    auto resp = s.read_response();
    EXPECT_EQ(status_of(resp), 413u) << resp;
    EXPECT_NE(resp.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(s.wait_closed());
  }
  {
    // Chunked: refused once the chunks exceed the limit.
    RawSocket s(server.port());
    std::string chunk = "400\r\n" + std::string(1024, 'y') + "\r\n";
    ASSERT_TRUE(s.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                       chunk + chunk + "0\r\n\r\n"));
    EXPECT_EQ(status_of(s.read_response()), 413u);
    EXPECT_TRUE(s.wait_closed());
  }
  // Exactly at the limit is fine.
  auto r = post("127.0.0.1", server.port(), "/", {}, std::string(1024, 'z'));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(handled.load(), 1);
}

TEST(Server, GarbageGets400AndClose) {
  std::atomic<int> handled{0};
  Server server(local(), [&](Request&& req, Responder resp) {
    handled.fetch_add(1);
    echo(std::move(req), std::move(resp));
  });
  ASSERT_TRUE(server.start().is_ok());
  for (std::string garbage : {std::string("GARBAGE\r\n\r\n"), std::string("\x16\x03\x01\x02\x00\x01\x00\r\n\r\n"),
                              std::string("GET / HTTP/9.9\r\n\r\n"),
                              std::string("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n")}) {
    RawSocket s(server.port());
    ASSERT_TRUE(s.send(garbage));
    auto resp = s.read_response();
    EXPECT_EQ(status_of(resp), 400u) << garbage << " -> " << resp;
    EXPECT_TRUE(s.wait_closed());
  }
  {
    auto opts = local();
    opts.header_limit = 1024;
    Server small(opts, echo);
    ASSERT_TRUE(small.start().is_ok());
    RawSocket s(small.port());
    ASSERT_TRUE(s.send("GET / HTTP/1.1\r\nX-Big: " + std::string(4096, 'b') + "\r\n\r\n"));
    EXPECT_EQ(status_of(s.read_response()), 431u);
    EXPECT_TRUE(s.wait_closed());
  }
  EXPECT_EQ(handled.load(), 0);
}

TEST(Server, ConnectionCloseAndHttp10) {
  Server server(local(), echo);
  ASSERT_TRUE(server.start().is_ok());
  {
    RawSocket s(server.port());
    ASSERT_TRUE(s.send(raw_get("Connection: close\r\n")));
    auto resp = s.read_response();
    EXPECT_EQ(status_of(resp), 200u);
    EXPECT_NE(resp.find("Connection: close\r\n"), std::string::npos) << resp;
    EXPECT_TRUE(s.wait_closed());
  }
  {
    RawSocket s(server.port());
    ASSERT_TRUE(s.send(raw_get({}, "HTTP/1.0")));
    auto resp = s.read_response();
    EXPECT_EQ(status_of(resp), 200u);
    EXPECT_TRUE(s.wait_closed());
  }
  {
    // HTTP/1.0 keep-alive is honored too.
    RawSocket s(server.port());
    ASSERT_TRUE(s.send(raw_get("Connection: keep-alive\r\n", "HTTP/1.0")));
    auto first = s.read_response();
    EXPECT_NE(first.find("Connection: keep-alive\r\n"), std::string::npos) << first;
    ASSERT_TRUE(s.send(raw_get("Connection: keep-alive\r\n", "HTTP/1.0")));
    EXPECT_EQ(status_of(s.read_response()), 200u);
  }
  // A handler asking for close gets it.
  Server closing(local(), [](Request&&, Responder resp) {
    Response r = Response::make(200, "bye");
    r.headers.emplace_back("Connection", "close");
    resp.send(std::move(r));
  });
  ASSERT_TRUE(closing.start().is_ok());
  RawSocket s(closing.port());
  ASSERT_TRUE(s.send(raw_get()));
  EXPECT_EQ(status_of(s.read_response()), 200u);
  EXPECT_TRUE(s.wait_closed());
}

TEST(Server, PipelinedRequestsAnsweredInOrderOneAtATime) {
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  DeferredResponder later;
  later.answer = [&](Request& req, Responder& resp) {
    std::this_thread::sleep_for(10ms);
    in_flight.fetch_sub(1);
    resp.send(Response::make(200, req.target));
  };
  Server server(local(), [&](Request&& req, Responder resp) {
    int now = in_flight.fetch_add(1) + 1;
    int prev = max_in_flight.load();
    while (now > prev && !max_in_flight.compare_exchange_weak(prev, now)) {
    }
    later.push(std::move(req), std::move(resp));
  });
  ASSERT_TRUE(server.start().is_ok());
  RawSocket s(server.port());
  std::string all;
  for (int i = 0; i < 5; ++i) all += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_TRUE(s.send(all));
  for (int i = 0; i < 5; ++i) {
    auto resp = s.read_response();
    ASSERT_EQ(status_of(resp), 200u);
    EXPECT_TRUE(resp.ends_with("\r\n\r\n/" + std::to_string(i))) << resp;
  }
  EXPECT_EQ(max_in_flight.load(), 1);
}

TEST(Server, ExpectContinueChunkedAndHead) {
  Server server(local(), echo);
  ASSERT_TRUE(server.start().is_ok());
  {
    RawSocket s(server.port());
    ASSERT_TRUE(s.send("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                       "Expect: 100-continue\r\n\r\n"));
    auto cont = s.read_response(/*no_body=*/true);
    EXPECT_EQ(cont, "HTTP/1.1 100 Continue\r\n\r\n");
    ASSERT_TRUE(s.send("hello"));
    auto resp = s.read_response();
    EXPECT_EQ(status_of(resp), 200u);
    EXPECT_TRUE(resp.ends_with("POST /e\nhello")) << resp;
  }
  {
    RawSocket s(server.port());
    ASSERT_TRUE(s.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"));
    auto resp = s.read_response();
    EXPECT_TRUE(resp.ends_with("POST /c\nabcdefg")) << resp;
  }
  {
    RawSocket s(server.port());
    ASSERT_TRUE(s.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto resp = s.read_response(/*no_body=*/true);
    EXPECT_NE(resp.find("Content-Length: 8\r\n"), std::string::npos) << resp;
    ASSERT_TRUE(s.send(raw_get()));  // no body bytes were sent for HEAD: next one parses
    EXPECT_TRUE(s.read_response().ends_with("GET /x\n"));
  }
}

TEST(Server, LargeBodyRoundTrip) {
  Server server(local(), echo);
  ASSERT_TRUE(server.start().is_ok());
  std::string big(8 * 1024 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  Client client("127.0.0.1", server.port());
  auto r = client.post("/big", {}, big);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->body.size(), big.size() + 10);
  EXPECT_TRUE(r->body == "POST /big\n" + big);
}

TEST(Server, IdleTimeoutCloses) {
  auto opts = local();
  opts.idle_timeout = 1s;
  Server server(opts, echo);
  ASSERT_TRUE(server.start().is_ok());
  RawSocket idle(server.port());
  RawSocket partial(server.port());
  ASSERT_TRUE(partial.send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"));  // stalls
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.wait_closed());
  EXPECT_TRUE(partial.wait_closed());
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 900ms);
  EXPECT_LT(waited, 5s);
  for (int i = 0; i < 100 && server.connections() != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server.connections(), 0u);
}

TEST(Server, StopIsGracefulForRequestsInFlight) {
  auto opts = local();
  opts.shutdown_timeout = 5s;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Responder> parked;
  Server server(opts, [&](Request&&, Responder resp) {
    std::lock_guard lock(mu);
    parked.emplace(std::move(resp));
    cv.notify_all();
  });
  ASSERT_TRUE(server.start().is_ok());
  RawSocket idle(server.port());
  RawSocket busy(server.port());
  ASSERT_TRUE(busy.send(raw_get()));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return parked.has_value(); }));
  }
  auto t0 = std::chrono::steady_clock::now();
  std::thread stopper([&] { server.stop(); });
  EXPECT_TRUE(idle.wait_closed());  // idle connections go at once
  std::this_thread::sleep_for(100ms);
  {
    std::lock_guard lock(mu);
    parked->send(Response::make(200, "finished"));
  }
  auto resp = busy.read_response();
  EXPECT_EQ(status_of(resp), 200u);
  EXPECT_NE(resp.find("Connection: close\r\n"), std::string::npos) << resp;
  EXPECT_TRUE(busy.wait_closed());
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);  // did not wait for the timeout
  // New connections are refused.
  EXPECT_FALSE(get("127.0.0.1", server.port(), "/", {}, {.timeout = 2s}).ok());
}

TEST(Server, ResponderMayOutliveServer) {
  std::optional<Responder> parked;
  std::mutex mu;
  {
    auto opts = local(1);
    opts.shutdown_timeout = 100ms;
    Server server(opts, [&](Request&&, Responder resp) {
      std::lock_guard lock(mu);
      parked.emplace(std::move(resp));
    });
    ASSERT_TRUE(server.start().is_ok());
    RawSocket s(server.port());
    ASSERT_TRUE(s.send(raw_get()));
    for (int i = 0; i < 500; ++i) {
      std::lock_guard lock(mu);
      if (parked) break;
      std::this_thread::sleep_for(10ms);
    }
    server.stop();
    EXPECT_TRUE(s.wait_closed());  // force-closed after shutdown_timeout
  }
  std::lock_guard lock(mu);
  ASSERT_TRUE(parked.has_value());
  EXPECT_TRUE(parked->pending());
  parked->send(Response::make(200, "too late"));  // harmless
  EXPECT_FALSE(parked->pending());
  parked.reset();
}

TEST(Server, StartFailsOnBusyPortAndBadAddress) {
  Server first(local(), echo);
  ASSERT_TRUE(first.start().is_ok());
  auto opts = local();
  opts.port = first.port();
  Server second(opts, echo);
  auto s = second.start();
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  auto bad = local();
  bad.address = "no.such.host.invalid";
  Server third(bad, echo);
  EXPECT_FALSE(third.start().is_ok());
  EXPECT_FALSE(first.start().is_ok());  // already started
}

}  // namespace
}  // namespace shoal::http
