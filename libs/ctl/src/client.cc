#include "shoal/ctl/client.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace shoal::ctl {

Status status_from_proto(const common::v1::Status& s) {
  if (s.code() == common::v1::CODE_OK || s.code() == common::v1::CODE_UNSPECIFIED) {
    return Status::ok();
  }
  return Status(static_cast<Code>(s.code()), s.message());
}

Client::Client(std::shared_ptr<nats::Connection> nats, subjects::Subjects subjects,
               ClientOptions options)
    : nats_(std::move(nats)), subjects_(std::move(subjects)), options_(options) {}

template <class Resp>
Result<Resp> Client::rpc(std::string_view op, const google::protobuf::Message& req) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + options_.rpc_timeout;
  const std::string subject = subjects_.meta_rpc(op);
  const std::string data = req.SerializeAsString();
  Status last;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    auto reply = nats_->request_sync(subject, data, left);
    if (!reply.ok()) {
      last = reply.status();
      if (last.code() == Code::kDeadlineExceeded) {
        return Status(Code::kDeadlineExceeded,
                      "metadata did not answer " + std::string(op) + " within " +
                          std::to_string(options_.rpc_timeout.count()) + " ms");
      }
    } else {
      Resp resp;
      if (!resp.ParseFromString(*reply)) {
        return internal_error("unparsable " + std::string(op) + " answer");
      }
      Status s = status_from_proto(resp.status());
      if (s.is_ok()) return resp;
      if (s.code() != Code::kUnavailable) return s;
      last = s;
    }
    // No metadata service subscribed yet, or no leader: try again shortly.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return last.is_ok() ? Status(Code::kDeadlineExceeded, std::string(op) + " timed out") : last;
}

Result<std::vector<std::string>> Client::list_tables() {
  std::vector<std::string> names;
  meta::v1::ListTablesRequest req;
  for (;;) {
    SHOAL_ASSIGN_OR_RETURN(auto resp, rpc<meta::v1::ListTablesResponse>(
                                          subjects::Subjects::kListTables, req));
    names.insert(names.end(), resp.table_names().begin(), resp.table_names().end());
    if (resp.last_evaluated_table_name().empty()) break;
    req.set_exclusive_start_table_name(resp.last_evaluated_table_name());
  }
  return names;
}

Result<meta::v1::Table> Client::describe_table(const std::string& name) {
  meta::v1::DescribeTableRequest req;
  req.set_name(name);
  SHOAL_ASSIGN_OR_RETURN(auto resp, rpc<meta::v1::DescribeTableResponse>(
                                        subjects::Subjects::kDescribeTable, req));
  return std::move(*resp.mutable_table());
}

Result<std::vector<meta::v1::Node>> Client::list_nodes() {
  meta::v1::ListNodesRequest req;
  SHOAL_ASSIGN_OR_RETURN(auto resp, rpc<meta::v1::ListNodesResponse>(
                                        subjects::Subjects::kListNodes, req));
  std::vector<meta::v1::Node> nodes(resp.nodes().begin(), resp.nodes().end());
  std::sort(nodes.begin(), nodes.end(),
            [](const auto& a, const auto& b) { return a.node_id() < b.node_id(); });
  return nodes;
}

std::vector<std::string> Client::replica_nodes(const std::vector<meta::v1::Table>& tables) {
  std::set<std::string> nodes;
  for (const auto& t : tables) {
    for (const auto& p : t.partitions()) {
      nodes.insert(p.replica_node_ids().begin(), p.replica_node_ids().end());
    }
  }
  return {nodes.begin(), nodes.end()};
}

StatsIndex Client::gather_stats(const std::vector<std::string>& node_ids) {
  struct Gather {
    std::mutex mu;
    std::condition_variable cv;
    size_t pending = 0;
    StatsIndex index;
    std::set<std::string> silent;  // nodes whose admin subject did not answer
  };
  auto g = std::make_shared<Gather>();
  g->pending = node_ids.size();
  storage::v1::AdminRequest req;
  req.set_op(storage::v1::ADMIN_OP_STATS);
  const std::string data = req.SerializeAsString();
  for (const auto& node : node_ids) {
    nats_->request(subjects_.node_admin(node), data, options_.stats_timeout,
                   [g, node](Result<std::string> reply) {
                     storage::v1::AdminResponse resp;
                     bool good = reply.ok() && resp.ParseFromString(*reply) &&
                                 status_from_proto(resp.status()).is_ok();
                     std::lock_guard lock(g->mu);
                     if (good) g->index.add(node, resp);
                     else g->silent.insert(node);
                     if (--g->pending == 0) g->cv.notify_all();
                   });
  }
  std::unique_lock lock(g->mu);
  g->cv.wait(lock, [&] { return g->pending == 0; });
  if (g->silent.empty()) return std::move(g->index);

  // Fall back to the periodic NodeStats of the nodes that did not answer.
  std::set<std::string> missing = g->silent;
  lock.unlock();
  std::vector<nats::Subscription> subs;
  for (const auto& node : missing) {
    auto sub = nats_->subscribe(subjects_.stats(node), "", [g](nats::MessagePtr msg) {
      meta::v1::NodeStats stats;
      if (!stats.ParseFromString(msg->data)) return;
      std::lock_guard lock(g->mu);
      if (!g->silent.erase(stats.node_id())) return;
      g->index.add(stats);
      if (g->silent.empty()) g->cv.notify_all();
    });
    if (sub.ok()) subs.push_back(std::move(*sub));
  }
  lock.lock();
  g->cv.wait_for(lock, options_.node_stats_wait, [&] { return g->silent.empty(); });
  StatsIndex out = g->index;
  lock.unlock();
  subs.clear();  // unsubscribe before `g` may be touched by a late message (it is shared)
  return out;
}

Result<Client::TableWithStats> Client::table_with_stats(const std::string& name) {
  SHOAL_ASSIGN_OR_RETURN(auto table, describe_table(name));
  TableWithStats out;
  out.stats = gather_stats(replica_nodes({table}));
  out.table = std::move(table);
  return out;
}

Result<meta::v1::SplitPartitionResponse> Client::split_partition(
    const meta::v1::SplitPartitionRequest& r) {
  return rpc<meta::v1::SplitPartitionResponse>(subjects::Subjects::kSplitPartition, r);
}

Result<meta::v1::TransferLeaderResponse> Client::transfer_leader(
    const meta::v1::TransferLeaderRequest& r) {
  return rpc<meta::v1::TransferLeaderResponse>(subjects::Subjects::kTransferLeader, r);
}

Result<meta::v1::PinPartitionResponse> Client::pin_partition(
    const meta::v1::PinPartitionRequest& r) {
  return rpc<meta::v1::PinPartitionResponse>(subjects::Subjects::kPinPartition, r);
}

Result<meta::v1::MoveReplicaResponse> Client::move_replica(const meta::v1::MoveReplicaRequest& r) {
  return rpc<meta::v1::MoveReplicaResponse>(subjects::Subjects::kMoveReplica, r);
}

Result<meta::v1::DrainNodeResponse> Client::drain_node(const meta::v1::DrainNodeRequest& r) {
  return rpc<meta::v1::DrainNodeResponse>(subjects::Subjects::kDrainNode, r);
}

}  // namespace shoal::ctl
