#include "shoal/ctl/cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include "shoal/nats/testing.h"

namespace shoal::ctl {
namespace {

// Parses `args` (without the program name) as shoalctl would.
CliOptions parse(std::vector<std::string> args) {
  CLI::App app;
  CliOptions o;
  add_cli(app, o);
  std::reverse(args.begin(), args.end());  // CLI11 takes the vector form reversed
  app.parse(args);
  return o;
}

TEST(Cli, ReadCommands) {
  auto o = parse({"tables"});
  EXPECT_EQ(o.command, "tables");
  EXPECT_FALSE(o.json);
  o = parse({"partitions", "orders", "--json"});
  EXPECT_EQ(o.command, "partitions");
  EXPECT_EQ(o.table, "orders");
  EXPECT_TRUE(o.json);
  o = parse({"--nats", "nats://h:1", "nodes", "--json", "--prefix", "p2"});  // global after too
  EXPECT_EQ(o.command, "nodes");
  EXPECT_EQ(o.nats_url, "nats://h:1");
  EXPECT_EQ(o.prefix, "p2");
  EXPECT_TRUE(o.json);
}

TEST(Cli, WriteCommands) {
  auto o = parse({"split", "orders", "1", "--at", "0xc0", "--wait", "--timeout", "30"});
  EXPECT_EQ(o.command, "split");
  EXPECT_EQ(o.table, "orders");
  EXPECT_EQ(o.partition, "1");
  EXPECT_EQ(o.at, "0xc0");
  EXPECT_TRUE(o.wait);
  EXPECT_EQ(o.timeout_s, 30);
  EXPECT_TRUE(validate(o).is_ok());

  o = parse({"move", "orders", "t1.0", "--from", "n1", "--to", "n4"});
  EXPECT_EQ(o.command, "move");
  EXPECT_EQ(o.from, "n1");
  EXPECT_EQ(o.to, "n4");
  EXPECT_FALSE(o.wait);
  EXPECT_EQ(o.pin, "1h");  // a manual move is pinned by default

  o = parse({"lead", "orders", "2", "--to", "n2", "--pin", "0", "--wait"});
  EXPECT_EQ(o.command, "lead");
  EXPECT_EQ(o.to, "n2");
  EXPECT_EQ(o.pin, "0");
  EXPECT_TRUE(validate(o).is_ok());
  o = parse({"pin", "orders", "2", "--for", "30m"});
  EXPECT_EQ(o.command, "pin");
  EXPECT_EQ(o.pin, "30m");
  o = parse({"unpin", "orders", "2"});
  EXPECT_EQ(o.command, "unpin");
  EXPECT_EQ(o.partition, "2");

  o = parse({"drain", "n3", "--wait"});
  EXPECT_EQ(o.command, "drain");
  EXPECT_EQ(o.node, "n3");
  EXPECT_TRUE(o.wait);
  o = parse({"undrain", "n3"});
  EXPECT_EQ(o.command, "undrain");
}

TEST(Cli, UsageErrors) {
  EXPECT_THROW(parse({}), CLI::ParseError);                         // no command
  EXPECT_THROW(parse({"partitions"}), CLI::ParseError);             // TABLE missing
  EXPECT_THROW(parse({"move", "t", "p"}), CLI::ParseError);         // --from missing
  EXPECT_THROW(parse({"frobnicate"}), CLI::ParseError);
  EXPECT_THROW(parse({"drain", "n1", "--timeout", "0"}), CLI::ParseError);
  EXPECT_THROW(parse({"nodes", "--wait"}), CLI::ParseError);        // not a nodes option

  auto o = parse({"split", "t", "0", "--at", "0xzz"});
  EXPECT_EQ(validate(o).code(), Code::kInvalidArgument);
  std::ostringstream out, err;
  EXPECT_EQ(run(o, out, err, false), 2);
  EXPECT_NE(err.str().find("--at"), std::string::npos);
  o = parse({"move", "t", "0", "--from", "n1", "--to", "n1"});
  EXPECT_FALSE(validate(o).is_ok());
  EXPECT_THROW(parse({"lead", "t", "0"}), CLI::ParseError);        // --to missing
  o = parse({"pin", "t", "0", "--for", "soon"});
  EXPECT_EQ(validate(o).code(), Code::kInvalidArgument);
  EXPECT_NE(validate(o).message().find("not a duration"), std::string::npos);
}

TEST(Cli, DrainProgressLine) {
  EXPECT_EQ(drain_progress_line("n1", 4, 4, 0),
            "drain n1 [..............................] 0/4   0% replicas moved, 4 left  0s");
  EXPECT_EQ(drain_progress_line("n1", 4, 1, 75),
            "drain n1 [######################........] 3/4  75% replicas moved, 1 left  1m15s");
  EXPECT_EQ(drain_progress_line("n1", 4, 0, 90),
            "drain n1 [##############################] 4/4 100% replicas moved, 0 left  1m30s");
  // More replicas than at the start (one placed as the drain began): the total grows.
  EXPECT_EQ(drain_progress_line("n1", 2, 3, 1),
            "drain n1 [..............................] 0/3   0% replicas moved, 3 left  1s");
}

TEST(Cli, UnreachableNatsFails) {
  auto o = parse({"--nats", "nats://127.0.0.1:1", "--connect-timeout-ms", "0", "nodes"});
  std::ostringstream out, err;
  EXPECT_EQ(run(o, out, err, false), 1);
  EXPECT_TRUE(out.str().empty());
  EXPECT_NE(err.str().find("cannot reach NATS"), std::string::npos) << err.str();
}

TEST(Cli, NoMetadataServiceTimesOut) {
  nats::testing::NatsServerProcess server;
  auto o = parse({"--nats", server.url(), "--rpc-timeout-ms", "300", "partitions", "t"});
  std::ostringstream out, err;
  EXPECT_EQ(run(o, out, err, false), 1);
  EXPECT_TRUE(out.str().empty());
  EXPECT_NE(err.str().find("shoalctl: "), std::string::npos) << err.str();
}

}  // namespace
}  // namespace shoal::ctl
