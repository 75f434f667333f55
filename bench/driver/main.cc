// shoal-bench: a YCSB-style load driver for the DynamoDB JSON 1.0 protocol (issue 6).
//
//   shoal-bench --endpoint http://127.0.0.1:8000 --create-table --workload load --records 100000
//   shoal-bench --endpoint http://127.0.0.1:8000 --workload a --records 100000 --duration 60
//
// Options, outputs and what is measured: bench/driver/README.md.

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <rapidjson/document.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <thread>

#include "client.h"
#include "shoal/http/client.h"
#include "workload.h"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop.store(true); }

using shoal::bench::RunOptions;

// One signed control-plane call (CreateTable, DescribeTable) on a fresh connection.
shoal::Result<shoal::http::Response> call(const RunOptions& o, std::string_view operation,
                                          std::string body) {
  auto req = shoal::bench::dynamodb_request(o.endpoint.host_header, operation, std::move(body));
  shoal::bench::sign_request(
      req, o.signing, std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
  shoal::http::Fields fields;
  for (size_t i = 0; i < req.headers.size(); ++i) {
    auto [n, v] = req.headers[i];
    fields.emplace_back(std::string(n), std::string(v));
  }
  return shoal::http::post(o.endpoint.host, o.endpoint.port, "/", fields, req.body);
}

// CreateTable (an existing table is fine), then wait up to 60 s for it to be ACTIVE.

// DescribeTable's Table.TableStatus is ACTIVE (whatever whitespace the server's JSON has).
bool table_active(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("Table")) return false;
  const auto& t = doc["Table"];
  return t.IsObject() && t.HasMember("TableStatus") && t["TableStatus"].IsString() &&
         std::string_view(t["TableStatus"].GetString()) == "ACTIVE";
}

bool create_table(const RunOptions& o) {
  auto r = call(o, "CreateTable", shoal::bench::create_table_body(o.table));
  if (!r.ok()) {
    std::cerr << "CreateTable: " << r.status().message() << "\n";
    return false;
  }
  const std::string err = shoal::bench::classify_error(r->status, r->body);
  if (!err.empty() && err != "ResourceInUseException") {
    std::cerr << "CreateTable: " << err << ": " << r->body << "\n";
    return false;
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until) {
    auto d = call(o, "DescribeTable", shoal::bench::describe_table_body(o.table));
    if (d.ok() && d->status == 200 && table_active(d->body)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::cerr << "table " << o.table << " did not become ACTIVE within 60 s\n";
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"shoal-bench: YCSB-style load for the DynamoDB JSON protocol"};
  RunOptions o;
  std::string endpoint = "http://127.0.0.1:8000";
  std::string workload = "a";
  std::string distribution = "zipfian";
  std::string json_file;
  double duration_s = 10, warmup_s = 0, timeout_s = 10;
  bool create = false, quiet = false;
  o.signing.credentials = {"shoal", "shoal-secret"};

  app.add_option("--endpoint", endpoint, "http://host:port of the router")->capture_default_str();
  app.add_option("--connections", o.connections, "keep-alive connections, one request in flight each")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--threads", o.threads, "I/O threads")->capture_default_str()->check(CLI::Range(1, 1024));
  app.add_option("--workload", workload, "load|a|b|c|f|put")
      ->capture_default_str()->check(CLI::IsMember({"load", "a", "b", "c", "f", "put"}));
  app.add_option("--records", o.records, "records in the table (ids 0..N-1)")
      ->capture_default_str()->check(CLI::Range(uint64_t{1}, UINT64_MAX / 2));
  auto* ops_opt = app.add_option("--operations", o.operations,
                                 "measured operations in total (instead of --duration)");
  app.add_option("--duration", duration_s, "seconds to run after the warmup")
      ->capture_default_str()->excludes(ops_opt)->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup_s, "seconds of unmeasured load first")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--distribution", distribution, "key choice: uniform|zipfian (YCSB scrambled, 0.99)")
      ->capture_default_str()->check(CLI::IsMember({"uniform", "zipfian"}));
  app.add_option("--item-size", o.shape.item_size, "bytes of attribute values per item")
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{400000}));
  app.add_option("--fields", o.shape.fields, "attributes per item (YCSB fieldcount)")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_flag("--consistent-read", o.consistent_read, "GetItem with ConsistentRead");
  app.add_option("--table", o.table, "table name")->capture_default_str();
  app.add_flag("--create-table", create, "CreateTable (PAY_PER_REQUEST, hash key pk S) first");
  app.add_option("--access-key", o.signing.credentials.access_key_id)->capture_default_str();
  app.add_option("--secret-key", o.signing.credentials.secret_access_key)->capture_default_str();
  app.add_option("--region", o.signing.region)->capture_default_str();
  app.add_option("--timeout", timeout_s, "seconds per request")->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--json", json_file, "also write the results as JSON to FILE");
  app.add_option("--seed", o.seed, "random seed (0: random)")->capture_default_str();
  app.add_option("--precision", o.significant_digits, "histogram significant digits")
      ->capture_default_str()->check(CLI::Range(1, 5));
  app.add_flag("--quiet", quiet, "no progress line");
  CLI11_PARSE(app, argc, argv);

  auto ep = shoal::bench::parse_endpoint(endpoint);
  if (!ep) {
    std::cerr << "--endpoint: expected http://host:port, got " << endpoint << "\n";
    return 2;
  }
  o.endpoint = *ep;
  o.workload = *shoal::bench::parse_workload(workload);
  o.distribution = distribution == "uniform" ? shoal::bench::Distribution::kUniform
                                             : shoal::bench::Distribution::kZipfian;
  auto ms = [](double s) { return std::chrono::milliseconds(static_cast<int64_t>(s * 1000)); };
  o.duration = ms(duration_s);
  o.warmup = ms(warmup_s);
  o.timeout = ms(timeout_s);
  o.progress = !quiet;

  if (create && !create_table(o)) return 1;

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  shoal::bench::Results results;
  try {
    results = shoal::bench::run(o, &g_stop);
  } catch (const std::exception& e) {
    std::cerr << "shoal-bench: " << e.what() << "\n";
    return 1;
  }
  shoal::bench::print_summary(std::cout, results);
  if (!json_file.empty()) {
    std::ofstream f(json_file);
    f << shoal::bench::results_json(results, o) << "\n";
    if (!f) {
      std::cerr << "cannot write " << json_file << "\n";
      return 1;
    }
  }
  return 0;
}
