#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

#include "shoal/metrics/process.h"
#include "shoal/metrics/registry.h"
#include "shoal/metrics/text_serializer.h"

namespace shoal::metrics {
namespace {

TEST(Metrics, ExactTextForSmallRegistry) {
  Registry registry;
  auto& requests = BuildCounter()
                       .Name("shoal_requests_total")
                       .Help("Requests by operation")
                       .Register(registry);
  requests.Add({{"op", "PutItem"}}).Increment();
  requests.Add({{"op", "PutItem"}}).Increment(2);
  requests.Add({{"op", "GetItem"}}).Increment(0.5);
  requests.Add({{"op", "GetItem"}}).Increment(-7);  // ignored
  auto& depth = BuildGauge()
                    .Name("shoal_queue_depth")
                    .Help("Queued work")
                    .Labels({{"node", "n1"}})
                    .Register(registry);
  auto& g = depth.Add({});
  g.Set(10);
  g.Decrement(3);
  g.Increment(0.25);
  auto& lat = BuildHistogram().Name("shoal_latency_seconds").Help("Latency").Register(registry);
  auto& h = lat.Add({{"op", "x"}}, Histogram::BucketBoundaries{0.1, 1});
  h.Observe(0.05);
  h.Observe(0.1);  // le is inclusive
  h.Observe(0.5);
  h.Observe(7);
  auto& unlabeled = BuildGauge().Name("up").Help("Is up").Register(registry);
  unlabeled.Add({}).Set(1);

  EXPECT_EQ(serialize(registry),
            "# HELP shoal_requests_total Requests by operation\n"
            "# TYPE shoal_requests_total counter\n"
            "shoal_requests_total{op=\"GetItem\"} 0.5\n"
            "shoal_requests_total{op=\"PutItem\"} 3\n"
            "# HELP shoal_queue_depth Queued work\n"
            "# TYPE shoal_queue_depth gauge\n"
            "shoal_queue_depth{node=\"n1\"} 7.25\n"
            "# HELP shoal_latency_seconds Latency\n"
            "# TYPE shoal_latency_seconds histogram\n"
            "shoal_latency_seconds_bucket{op=\"x\",le=\"0.1\"} 2\n"
            "shoal_latency_seconds_bucket{op=\"x\",le=\"1\"} 3\n"
            "shoal_latency_seconds_bucket{op=\"x\",le=\"+Inf\"} 4\n"
            "shoal_latency_seconds_sum{op=\"x\"} 7.65\n"
            "shoal_latency_seconds_count{op=\"x\"} 4\n"
            "# HELP up Is up\n"
            "# TYPE up gauge\n"
            "up 1\n");
}

TEST(Metrics, LabelAndHelpEscaping) {
  Registry registry;
  auto& f = BuildGauge().Name("esc").Help("line1\nback\\slash \"q\"").Register(registry);
  f.Add({{"path", "C:\\dir\n\"x\""}}).Set(1);
  EXPECT_EQ(serialize(registry),
            "# HELP esc line1\\nback\\\\slash \"q\"\n"
            "# TYPE esc gauge\n"
            "esc{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n");
}

TEST(Metrics, ValueFormatting) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(2.5e-4), "0.00025");
  EXPECT_EQ(format_value(1e300), "1e+300");
  EXPECT_EQ(format_value(HUGE_VAL), "+Inf");
  EXPECT_EQ(format_value(-HUGE_VAL), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(format_value(123456789012.0), "123456789012");
}

TEST(Metrics, ConcurrentIncrementsSum) {
  Registry registry;
  auto& family = BuildCounter().Name("c_total").Help("h").Register(registry);
  auto& hist_family = BuildHistogram().Name("h").Help("h").Register(registry);
  auto& gauge_family = BuildGauge().Name("g").Help("h").Register(registry);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      // Add() from every thread: all must get the same series.
      auto& c = family.Add({{"k", "v"}});
      auto& h = hist_family.Add({}, ExponentialBuckets(1, 2, 4));
      auto& g = gauge_family.Add({});
      for (int i = 0; i < kPerThread; ++i) {
        c.Increment();
        h.Observe(i % 10);
        g.Increment();
        g.Decrement(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(family.Add({{"k", "v"}}).Value(), double(kThreads) * kPerThread);
  auto snap = hist_family.Add({}).Collect();
  EXPECT_EQ(snap.count, uint64_t(kThreads) * kPerThread);
  EXPECT_EQ(snap.sum, double(kThreads) * (kPerThread / 10) * 45);
  EXPECT_EQ(gauge_family.Add({}).Value(), double(kThreads) * kPerThread * 0.5);
}

TEST(Metrics, HistogramBuckets) {
  auto b = ExponentialBuckets(0.001, 10, 4);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_DOUBLE_EQ(b[3], 1.0);
  EXPECT_EQ(LinearBuckets(1, 2, 3), (Histogram::BucketBoundaries{1, 3, 5}));
  EXPECT_EQ(DefaultBuckets().size(), 11u);

  // Unsorted, duplicated and +Inf bounds are normalized.
  Histogram h({5, 1, 2, 2, HUGE_VAL});
  EXPECT_EQ(h.bounds(), (Histogram::BucketBoundaries{1, 2, 5}));
  for (double v : {0.0, 1.0, 1.5, 2.0, 3.0, 5.0, 5.1, 100.0, -1.0}) h.Observe(v);
  auto s = h.Collect();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{3, 5, 7, 9}));  // <=1, <=2, <=5, +Inf
  EXPECT_EQ(s.count, 9u);
  EXPECT_DOUBLE_EQ(s.sum, 116.6);
}

TEST(Metrics, CallbackSeries) {
  Registry registry;
  auto& items = BuildGauge().Name("items").Help("Items per partition").Register(registry);
  auto& writes = BuildCounter().Name("writes_total").Help("Writes").Register(registry);
  std::atomic<int> n{5};
  items.AddCallback({{"partition", "p1"}}, [&n] { return double(n.load()); });
  items.AddCallback({{"partition", "p0"}}, [] { return 2.0; });
  items.Add({{"partition", "p2"}}).Set(1);
  writes.AddCallback({{"partition", "p1"}}, [] { return 42.0; });
  n = 9;
  EXPECT_EQ(serialize(registry),
            "# HELP items Items per partition\n"
            "# TYPE items gauge\n"
            "items{partition=\"p0\"} 2\n"
            "items{partition=\"p1\"} 9\n"
            "items{partition=\"p2\"} 1\n"
            "# HELP writes_total Writes\n"
            "# TYPE writes_total counter\n"
            "writes_total{partition=\"p1\"} 42\n");
  EXPECT_TRUE(items.Has({{"partition", "p1"}}));
  EXPECT_TRUE(items.RemoveCallback({{"partition", "p1"}}));
  EXPECT_FALSE(items.RemoveCallback({{"partition", "p1"}}));
  EXPECT_FALSE(items.Has({{"partition", "p1"}}));
  // Replacing a callback is allowed; mixing a callback and a plain series is not.
  items.AddCallback({{"partition", "p0"}}, [] { return 3.0; });
  EXPECT_THROW(items.AddCallback({{"partition", "p2"}}, [] { return 0.0; }), std::invalid_argument);
  EXPECT_THROW(items.Add({{"partition", "p0"}}), std::invalid_argument);
  EXPECT_EQ(serialize(registry).find("items{partition=\"p0\"} 3\n") != std::string::npos, true);
}

TEST(Metrics, RegistrationRules) {
  Registry registry;
  auto& a = BuildCounter().Name("x_total").Help("h").Register(registry);
  auto& b = BuildCounter().Name("x_total").Help("other").Register(registry);
  EXPECT_EQ(&a, &b);
  EXPECT_THROW(BuildGauge().Name("x_total").Register(registry), std::invalid_argument);
  EXPECT_THROW(BuildGauge().Name("1bad").Register(registry), std::invalid_argument);
  EXPECT_THROW(BuildGauge().Name("ok").Labels({{"bad-name", "v"}}).Register(registry),
               std::invalid_argument);
  EXPECT_THROW(a.Add({{"__reserved", "v"}}), std::invalid_argument);
  auto& h = BuildHistogram().Name("hh").Register(registry);
  EXPECT_THROW(h.Add({{"le", "1"}}, DefaultBuckets()), std::invalid_argument);

  // Remove() drops a series; an empty family still announces itself.
  auto& c = a.Add({{"k", "1"}});
  a.Remove(&c);
  EXPECT_FALSE(a.Has({{"k", "1"}}));
  EXPECT_EQ(serialize(registry),
            "# HELP x_total h\n# TYPE x_total counter\n"
            "# HELP hh \n# TYPE hh histogram\n");
}

TEST(Metrics, ConstantLabelsMergeIntoHistogram) {
  Registry registry;
  auto& f = BuildHistogram().Name("d").Help("h").Labels({{"svc", "r"}}).Register(registry);
  f.Add({{"op", "a"}}, Histogram::BucketBoundaries{1}).Observe(0.5);
  EXPECT_EQ(serialize(registry),
            "# HELP d h\n# TYPE d histogram\n"
            "d_bucket{op=\"a\",svc=\"r\",le=\"1\"} 1\n"
            "d_bucket{op=\"a\",svc=\"r\",le=\"+Inf\"} 1\n"
            "d_sum{op=\"a\",svc=\"r\"} 0.5\n"
            "d_count{op=\"a\",svc=\"r\"} 1\n");
}

TEST(Metrics, ProcessMetrics) {
  Registry registry;
  const double before = std::chrono::duration<double>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  register_process_metrics(registry, "router", "1.2.3");
  const std::string text = serialize(registry);
  EXPECT_NE(text.find("# TYPE shoal_build_info gauge\n"
                      "shoal_build_info{service=\"router\",version=\"1.2.3\"} 1\n"),
            std::string::npos)
      << text;
  double start = 0;
  for (const auto& f : registry.Collect()) {
    if (f.name == "shoal_process_start_time_seconds") {
      ASSERT_EQ(f.metrics.size(), 1u);
      EXPECT_TRUE(f.metrics[0].labels.empty());
      start = f.metrics[0].value;
    }
  }
  EXPECT_GE(start, std::floor(before));
  EXPECT_LT(start, before + 60);
}

}  // namespace
}  // namespace shoal::metrics
