#include "shoal/ctl/cli.h"

#include <algorithm>
#include <chrono>
#include <ostream>
#include <thread>

#include "shoal/ctl/client.h"
#include "shoal/ctl/format.h"
#include "shoal/ctl/view.h"

namespace shoal::ctl {

namespace {

using Clock = std::chrono::steady_clock;

// One status line that --wait keeps up to date: rewritten in place on a terminal, a new line
// per change otherwise (logs, pipes).
class ProgressLine {
 public:
  ProgressLine(std::ostream& out, bool tty) : out_(out), tty_(tty) {}
  ~ProgressLine() { finish(); }
  void update(const std::string& line) {
    if (tty_) {
      out_ << '\r' << line << "\x1b[K" << std::flush;
      open_ = true;
    } else if (line != last_) {
      out_ << line << '\n' << std::flush;
    }
    last_ = line;
  }
  void finish() {
    if (open_) out_ << '\n' << std::flush;
    open_ = false;
  }

 private:
  std::ostream& out_;
  bool tty_;
  bool open_ = false;
  std::string last_;
};

int64_t seconds_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count();
}

std::string describe_error(const Status& s, const std::string& what) {
  if (s.code() == Code::kNotFound) return what + " not found";
  return s.to_string();
}

int fail(std::ostream& err, const std::string& message) {
  err << "shoalctl: " << message << '\n';
  return 1;
}

struct Ctx {
  const CliOptions& o;
  Client& client;
  std::ostream& out;
  std::ostream& err;
  bool tty;
};

int cmd_tables(Ctx& c) {
  auto names = c.client.list_tables();
  if (!names.ok()) return fail(c.err, names.status().to_string());
  std::vector<meta::v1::Table> tables;
  for (const auto& n : *names) {
    auto t = c.client.describe_table(n);
    if (t.ok()) tables.push_back(std::move(*t));
    else if (t.status().code() != Code::kNotFound) return fail(c.err, t.status().to_string());
  }
  StatsIndex stats = c.client.gather_stats(Client::replica_nodes(tables));
  c.out << (c.o.json ? tables_json(tables, stats) : tables_text(tables, stats));
  return 0;
}

int cmd_partitions(Ctx& c) {
  auto r = c.client.table_with_stats(c.o.table);
  if (!r.ok()) return fail(c.err, describe_error(r.status(), "table " + c.o.table));
  c.out << (c.o.json ? partitions_json(r->table, r->stats) : partitions_text(r->table, r->stats));
  return 0;
}

int cmd_nodes(Ctx& c) {
  auto nodes = c.client.list_nodes();
  if (!nodes.ok()) return fail(c.err, nodes.status().to_string());
  c.out << (c.o.json ? nodes_json(*nodes) : nodes_text(*nodes));
  return 0;
}

// The table and the partition the command line names.
Result<std::pair<meta::v1::Table, meta::v1::Partition>> resolve(Ctx& c) {
  auto t = c.client.describe_table(c.o.table);
  if (!t.ok()) return Status(t.status().code(), describe_error(t.status(), "table " + c.o.table));
  const auto* p = find_partition(*t, c.o.partition);
  if (!p) return not_found("table " + c.o.table + " has no partition " + c.o.partition);
  meta::v1::Partition copy = *p;
  return std::make_pair(std::move(*t), std::move(copy));
}

// Polls DescribeTable until `done` says so (true) or --timeout passes (false); `show` gets
// each table seen and returns the progress line. Transient errors are shown and retried.
bool wait_table(Ctx& c, const std::function<bool(const meta::v1::Table&)>& done,
                const std::function<std::string(const meta::v1::Table&, int64_t)>& show) {
  ProgressLine line(c.out, c.tty);
  auto start = Clock::now();
  for (;;) {
    auto t = c.client.describe_table(c.o.table);
    if (t.ok()) {
      line.update(show(*t, seconds_since(start)));
      if (done(*t)) return true;
    } else {
      line.update("(metadata: " + t.status().to_string() + ")");
    }
    if (seconds_since(start) >= c.o.timeout_s) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(c.o.poll_ms));
  }
}

const meta::v1::Partition* by_id(const meta::v1::Table& t, const std::string& id) {
  for (const auto& p : t.partitions()) {
    if (p.partition_id() == id) return &p;
  }
  return nullptr;
}

int cmd_split(Ctx& c) {
  auto r = resolve(c);
  if (!r.ok()) return fail(c.err, r.status().message());
  const auto& [table, part] = *r;
  meta::v1::SplitPartitionRequest req;
  req.set_table_name(table.name());
  req.set_partition_id(part.partition_id());
  if (!c.o.at.empty()) req.set_split_hash(*parse_hash(c.o.at));
  req.set_reason(c.o.reason.empty() ? "shoalctl split" : c.o.reason);
  auto resp = c.client.split_partition(req);
  if (!resp.ok()) return fail(c.err, "SplitPartition: " + resp.status().to_string());
  const std::string child = resp->new_partition_id();
  c.out << "splitting " << part.partition_id() << " at " << hex_hash(resp->split_hash()) << " -> "
        << child << '\n';
  if (!c.o.wait) return 0;
  const std::string parent = part.partition_id();
  auto finished = [&](const meta::v1::Table& t) {
    const auto* p = by_id(t, parent);
    return by_id(t, child) != nullptr && (!p || p->split().new_partition_id().empty());
  };
  bool ok = wait_table(c, finished, [&](const meta::v1::Table& t, int64_t s) {
    bool done = finished(t);
    return progress_bar(done ? 1 : 0, 1, 20) + "  split " + parent + " -> " + child + ": " +
           (done ? "done" : "in progress") + "  " + short_duration(s);
  });
  if (!ok) return fail(c.err, "split not finished after " + std::to_string(c.o.timeout_s) + " s");
  auto t = c.client.table_with_stats(c.o.table);
  if (t.ok()) c.out << partitions_text(t->table, t->stats);
  return 0;
}

int stage_index(meta::v1::ReplicaChange::Stage s) {
  return s == meta::v1::ReplicaChange::STAGE_NONE ? 0 : static_cast<int>(s);
}

int cmd_move(Ctx& c) {
  auto r = resolve(c);
  if (!r.ok()) return fail(c.err, r.status().message());
  const auto& [table, part] = *r;
  meta::v1::MoveReplicaRequest req;
  req.set_table_name(table.name());
  req.set_partition_id(part.partition_id());
  req.set_from_node_id(c.o.from);
  req.set_to_node_id(c.o.to);
  req.set_reason(c.o.reason.empty() ? "move" : c.o.reason);
  req.set_pin_ms(*parse_duration_ms(c.o.pin));
  auto resp = c.client.move_replica(req);
  if (!resp.ok()) return fail(c.err, "MoveReplica: " + resp.status().to_string());
  const std::string to = resp->to_node_id().empty() ? c.o.to : resp->to_node_id();
  c.out << "moving the replica of " << part.partition_id() << " from " << c.o.from << " to "
        << (to.empty() ? "(chosen by metadata)" : to) << '\n';
  if (!c.o.wait) return 0;
  const std::string pid = part.partition_id();
  auto finished = [&](const meta::v1::Table& t) {
    const auto* p = by_id(t, pid);
    if (!p) return false;
    bool from_gone = std::find(p->replica_node_ids().begin(), p->replica_node_ids().end(),
                               c.o.from) == p->replica_node_ids().end();
    bool to_in = to.empty() || std::find(p->replica_node_ids().begin(),
                                         p->replica_node_ids().end(),
                                         to) != p->replica_node_ids().end();
    bool idle = !p->has_change() || p->change().stage() == meta::v1::ReplicaChange::STAGE_NONE;
    return from_gone && to_in && idle;
  };
  constexpr int kStages = meta::v1::ReplicaChange::STAGE_REMOVE;  // add-learner .. remove
  bool ok = wait_table(c, finished, [&](const meta::v1::Table& t, int64_t s) {
    if (finished(t)) return progress_bar(kStages, kStages, 20) + "  done  " + short_duration(s);
    const auto* p = by_id(t, pid);
    auto stage = p && p->has_change() ? p->change().stage() : meta::v1::ReplicaChange::STAGE_NONE;
    int done = std::max(0, stage_index(stage) - 1);
    return progress_bar(uint64_t(done), kStages, 20) + "  " +
           (stage == meta::v1::ReplicaChange::STAGE_NONE ? std::string("waiting")
                                                         : stage_name(stage)) +
           "  " + short_duration(s);
  });
  if (!ok) return fail(c.err, "move not finished after " + std::to_string(c.o.timeout_s) + " s");
  auto t = c.client.describe_table(c.o.table);
  if (t.ok()) {
    if (const auto* p = by_id(*t, pid)) c.out << pid << ": " << replicas_text(*p) << '\n';
  }
  return 0;
}

int cmd_lead(Ctx& c) {
  auto r = resolve(c);
  if (!r.ok()) return fail(c.err, r.status().message());
  const auto& [table, part] = *r;
  meta::v1::TransferLeaderRequest req;
  req.set_table_name(table.name());
  req.set_partition_id(part.partition_id());
  req.set_to_node_id(c.o.to);
  req.set_reason(c.o.reason.empty() ? "shoalctl lead" : c.o.reason);
  req.set_pin_ms(*parse_duration_ms(c.o.pin));
  auto resp = c.client.transfer_leader(req);
  if (!resp.ok()) return fail(c.err, "TransferLeader: " + resp.status().to_string());
  c.out << "moving the leadership of " << part.partition_id() << " from "
        << (part.leader_node_id().empty() ? std::string("?") : part.leader_node_id()) << " to "
        << c.o.to << '\n';
  if (!c.o.wait) return 0;
  const std::string pid = part.partition_id();
  auto finished = [&](const meta::v1::Table& t) {
    const auto* p = by_id(t, pid);
    return p && p->leader_node_id() == c.o.to;
  };
  bool ok = wait_table(c, finished, [&](const meta::v1::Table& t, int64_t s) {
    bool done = finished(t);
    const auto* p = by_id(t, pid);
    return progress_bar(done ? 1 : 0, 1, 20) + "  leader of " + pid + ": " +
           (p && !p->leader_node_id().empty() ? p->leader_node_id() : std::string("?")) + "  " +
           short_duration(s);
  });
  if (!ok) {
    return fail(c.err, "the leadership of " + pid + " is not on " + c.o.to + " after " +
                           std::to_string(c.o.timeout_s) + " s (a lagging target abandons the "
                           "transfer: ask again)");
  }
  return 0;
}

int cmd_pin(Ctx& c, bool unpin) {
  auto r = resolve(c);
  if (!r.ok()) return fail(c.err, r.status().message());
  const auto& [table, part] = *r;
  meta::v1::PinPartitionRequest req;
  req.set_table_name(table.name());
  req.set_partition_id(part.partition_id());
  req.set_pin_ms(unpin ? 0 : *parse_duration_ms(c.o.pin));
  auto resp = c.client.pin_partition(req);
  if (!resp.ok()) return fail(c.err, "PinPartition: " + resp.status().to_string());
  if (resp->pinned_until_epoch_ms() == 0) {
    c.out << part.partition_id() << " unpinned: the autoscaler may move it again\n";
  } else {
    meta::v1::Partition shown = part;
    shown.set_pinned_until_epoch_ms(resp->pinned_until_epoch_ms());
    c.out << part.partition_id() << ": " << operation_text(shown) << '\n';
  }
  return 0;
}

Result<meta::v1::Node> find_node(Client& client, const std::string& id) {
  SHOAL_ASSIGN_OR_RETURN(auto nodes, client.list_nodes());
  for (auto& n : nodes) {
    if (n.node_id() == id) return std::move(n);
  }
  return not_found("node " + id + " not found");
}

int cmd_drain(Ctx& c, bool undrain) {
  meta::v1::DrainNodeRequest req;
  req.set_node_id(c.o.node);
  req.set_undrain(undrain);
  auto resp = c.client.drain_node(req);
  if (!resp.ok()) {
    return fail(c.err, "DrainNode: " + describe_error(resp.status(), "node " + c.o.node));
  }
  if (undrain) {
    c.out << "node " << c.o.node << ": no longer draining\n";
    return 0;
  }
  auto before = find_node(c.client, c.o.node);
  int start = before.ok() ? before->replica_count() : resp->node().replica_count();
  c.out << "node " << c.o.node << " draining: " << start << " replica" << (start == 1 ? "" : "s")
        << " to move\n";
  if (!c.o.wait) return 0;
  ProgressLine line(c.out, c.tty);
  auto t0 = Clock::now();
  for (;;) {
    auto n = find_node(c.client, c.o.node);
    if (n.ok()) {
      int left = n->replica_count();
      start = std::max(start, left);  // a replica placed just before the drain took effect
      line.update(drain_progress_line(c.o.node, start, left, seconds_since(t0)));
      if (left == 0) break;
    } else {
      line.update("(metadata: " + n.status().to_string() + ")");
    }
    if (seconds_since(t0) >= c.o.timeout_s) {
      line.finish();
      return fail(c.err, "node " + c.o.node + " still hosts replicas after " +
                             std::to_string(c.o.timeout_s) + " s (it stays draining; "
                             "`shoalctl undrain " + c.o.node + "` stops that)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(c.o.poll_ms));
  }
  line.finish();
  c.out << "node " << c.o.node << " drained: it hosts no replicas\n";
  return 0;
}

}  // namespace

std::string drain_progress_line(const std::string& node, int start_replicas, int replicas_left,
                                int64_t elapsed_s) {
  int total = std::max(start_replicas, replicas_left);
  int moved = total - std::max(replicas_left, 0);
  return "drain " + node + " " + progress_bar(uint64_t(moved), uint64_t(total)) +
         " replicas moved, " + std::to_string(std::max(replicas_left, 0)) + " left  " +
         short_duration(elapsed_s);
}

void add_cli(CLI::App& app, CliOptions& o) {
  app.require_subcommand(1);
  app.add_option("--nats", o.nats_url, "NATS server URL(s), comma separated")
      ->envname("SHOAL_NATS_URL");
  app.add_option("--prefix", o.prefix, "NATS subject prefix of the fleet")->envname("SHOAL_PREFIX");
  app.add_option("--connect-timeout-ms", o.connect_timeout_ms, "give up reaching NATS after this")
      ->check(CLI::Range(0, 600000));
  app.add_option("--rpc-timeout-ms", o.rpc_timeout_ms, "deadline of one metadata request")
      ->check(CLI::Range(1, 600000));

  auto sub = [&](const char* name, const char* help) {
    CLI::App* s = app.add_subcommand(name, help);
    s->fallthrough();
    s->callback([&o, name] { o.command = name; });
    return s;
  };
  auto json = [&](CLI::App* s) {
    s->add_flag("--json", o.json, "machine-readable JSON instead of a table");
  };
  auto wait = [&](CLI::App* s, const char* what) {
    s->add_flag("--wait", o.wait, what);
    s->add_option("--timeout", o.timeout_s, "seconds --wait waits before giving up")
        ->check(CLI::PositiveNumber);
    s->add_option("--poll-ms", o.poll_ms, "how often --wait asks metadata")
        ->check(CLI::Range(10, 60000));
  };

  json(sub("tables", "tables: id, status, partitions, items, size"));
  auto* parts = sub("partitions", "partitions of a table: ranges, replicas, leader, items, size, "
                                  "operation under way");
  parts->add_option("TABLE", o.table, "table name")->required();
  json(parts);
  json(sub("nodes", "storage nodes: zone, alive, draining, replicas, leaders"));

  auto* split = sub("split", "split a partition (SplitPartition)");
  split->add_option("TABLE", o.table, "table name")->required();
  split->add_option("PARTITION", o.partition, "partition id, or its number in the table")
      ->required();
  split->add_option("--at", o.at, "split hash (0x<hex> or decimal; default: where the data bytes are halved)");
  split->add_option("--reason", o.reason, "recorded with the split");
  wait(split, "wait until the partition map shows the split done");

  auto* move = sub("move", "move a replica to another node of its zone (MoveReplica)");
  move->add_option("TABLE", o.table, "table name")->required();
  move->add_option("PARTITION", o.partition, "partition id, or its number in the table")
      ->required();
  move->add_option("--from", o.from, "node the replica leaves")->required();
  move->add_option("--to", o.to, "node it goes to (default: metadata chooses)");
  move->add_option("--reason", o.reason, "recorded with the move");
  move->add_option("--pin", o.pin, "keep the autoscaler off the partition this long (0: not at all)")
      ->capture_default_str();
  wait(move, "wait until the move is done, showing its stage");

  auto* lead = sub("lead", "hand a partition's leadership to another member (TransferLeader)");
  lead->add_option("TABLE", o.table, "table name")->required();
  lead->add_option("PARTITION", o.partition, "partition id, or its number in the table")
      ->required();
  lead->add_option("--to", o.to, "member node that takes the leadership")->required();
  lead->add_option("--reason", o.reason, "recorded in metadata's log");
  lead->add_option("--pin", o.pin, "keep the autoscaler off the partition this long (0: not at all)")
      ->capture_default_str();
  wait(lead, "wait until the partition map shows the new leader");

  auto* pin = sub("pin", "keep the autoscaler off a partition's replicas and leader (PinPartition)");
  pin->add_option("TABLE", o.table, "table name")->required();
  pin->add_option("PARTITION", o.partition, "partition id, or its number in the table")->required();
  pin->add_option("--for", o.pin, "how long")->capture_default_str();
  auto* unpin = sub("unpin", "let the autoscaler move a pinned partition again");
  unpin->add_option("TABLE", o.table, "table name")->required();
  unpin->add_option("PARTITION", o.partition, "partition id, or its number in the table")
      ->required();

  auto* drain = sub("drain", "move every replica off a node (DrainNode)");
  drain->add_option("NODE", o.node, "node id")->required();
  wait(drain, "show a progress bar until the node hosts no replicas");

  auto* undrain = sub("undrain", "let placement use a drained node again");
  undrain->add_option("NODE", o.node, "node id")->required();
}

Status validate(const CliOptions& o) {
  if (!o.at.empty() && !parse_hash(o.at)) {
    return invalid_argument("--at: '" + o.at + "' is not a hash (0x<hex> or decimal)");
  }
  if (o.timeout_s <= 0) return invalid_argument("--timeout must be positive");
  if (!parse_duration_ms(o.pin)) {
    return invalid_argument("--pin/--for: '" + o.pin + "' is not a duration (0, or <n>s/m/h/d)");
  }
  if (o.command == "move" && !o.to.empty() && o.to == o.from) {
    return invalid_argument("--to is the same node as --from");
  }
  return Status::ok();
}

int run(const CliOptions& o, std::ostream& out, std::ostream& err, bool tty) {
  if (auto s = validate(o); !s.is_ok()) {
    err << "shoalctl: " << s.message() << '\n';
    return 2;
  }
  auto nats = nats::Connection::connect(
      {.url = o.nats_url, .name = "shoalctl",
       .connect_timeout = std::chrono::milliseconds(o.connect_timeout_ms)});
  if (!nats.ok()) {
    return fail(err, "cannot reach NATS at " + o.nats_url + ": " + nats.status().to_string());
  }
  ClientOptions co;
  co.rpc_timeout = std::chrono::milliseconds(o.rpc_timeout_ms);
  Client client(*nats, subjects::Subjects(o.prefix), co);
  Ctx c{o, client, out, err, tty};
  int rc;
  if (o.command == "tables") rc = cmd_tables(c);
  else if (o.command == "partitions") rc = cmd_partitions(c);
  else if (o.command == "nodes") rc = cmd_nodes(c);
  else if (o.command == "split") rc = cmd_split(c);
  else if (o.command == "move") rc = cmd_move(c);
  else if (o.command == "lead") rc = cmd_lead(c);
  else if (o.command == "pin") rc = cmd_pin(c, false);
  else if (o.command == "unpin") rc = cmd_pin(c, true);
  else if (o.command == "drain") rc = cmd_drain(c, false);
  else if (o.command == "undrain") rc = cmd_drain(c, true);
  else rc = fail(err, "unknown command '" + o.command + "'");
  (*nats)->close();
  return rc;
}

}  // namespace shoal::ctl
