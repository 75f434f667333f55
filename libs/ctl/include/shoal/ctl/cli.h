#pragma once
// shoalctl's command line and commands. services/shoalctl/main.cc only wires these:
//
//   CLI::App app;  CliOptions o;  add_cli(app, o);  CLI11_PARSE(app, argc, argv);
//   return run(o, std::cout);
//
//   shoalctl [--nats URL] [--prefix P] COMMAND ...
//     tables [--json]                      name, id, status, partitions, items, size
//     partitions TABLE [--json]            one row per partition (ranges, replicas, leader,
//                                          items, size, split or replica change under way)
//     nodes [--json]                       id, zone, alive, draining, replicas, leaders
//     split TABLE PARTITION [--at HASH] [--wait]
//     move TABLE PARTITION --from NODE [--to NODE] [--pin DURATION] [--wait]
//     lead TABLE PARTITION --to NODE [--pin DURATION] [--wait]
//     pin TABLE PARTITION [--for DURATION] / unpin TABLE PARTITION
//                                          the autoscaler leaves a pinned partition's
//                                          replicas and leader where they are
//     drain NODE [--wait] [--timeout S]    progress bar until the node hosts no replica
//     undrain NODE
//
// PARTITION is a partition id or its number in the table ("1" for "<table_id>.1"); HASH is
// 0x<hex> or decimal; DURATION is 0 or <n>s/m/h/d (move and lead pin for 1h by default, so
// the autoscaler does not undo them). Exit status: 0 done, 1 failed (message on stderr), 2 usage.

#include <CLI/CLI.hpp>

#include <functional>
#include <iosfwd>
#include <string>

#include "shoal/common/status.h"

namespace shoal::ctl {

struct CliOptions {
  std::string nats_url = "nats://127.0.0.1:4222";  // --nats, SHOAL_NATS_URL
  std::string prefix = "shoal";                    // --prefix, SHOAL_PREFIX
  int connect_timeout_ms = 3000;
  int rpc_timeout_ms = 5000;

  std::string command;  // the subcommand given
  bool json = false;
  std::string table;
  std::string partition;
  std::string node;
  std::string from;
  std::string to;
  std::string at;  // --at, as typed (validate() parses it)
  std::string reason;
  std::string pin = "1h";  // --pin (move, lead) / --for (pin), as typed
  bool wait = false;
  int timeout_s = 600;       // --timeout: how long --wait waits
  int poll_ms = 500;         // --poll-ms: how often --wait looks
};

// Registers the global options and the subcommands on `app`; parsing fills `o`.
void add_cli(CLI::App& app, CliOptions& o);

// What CLI11 cannot check (a --at that is not a hash, a non-positive --timeout). OK or
// kInvalidArgument with the message for the user.
Status validate(const CliOptions& o);

// Connects to NATS and runs `o.command`, writing results and progress to `out` and errors to
// `err`. `tty`: rewrite the progress line in place ('\r') instead of one line per change.
int run(const CliOptions& o, std::ostream& out, std::ostream& err, bool tty);

// The line `drain --wait` shows (without '\r' or newline): bar, counts and elapsed time.
std::string drain_progress_line(const std::string& node, int start_replicas, int replicas_left,
                                int64_t elapsed_s);

}  // namespace shoal::ctl
