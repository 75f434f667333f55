#include "raft_transport.h"

#include <spdlog/spdlog.h>

#include <vector>

namespace shoal::storage {

RaftOutbox::RaftOutbox(std::shared_ptr<nats::Connection> nats, subjects::Subjects subjects,
                       std::string self_node, size_t max_batch_bytes)
    : nats_(std::move(nats)), subjects_(std::move(subjects)), self_(std::move(self_node)),
      max_batch_bytes_(max_batch_bytes), thread_([this] { run(); }) {}

RaftOutbox::~RaftOutbox() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void RaftOutbox::send(const std::string& to_node, const std::string& partition_id,
                      const raft::Message& m) {
  storage::v1::RaftEnvelope env;
  env.set_partition_id(partition_id);
  to_proto(m, env.mutable_message());
  bool wake;
  {
    std::lock_guard lock(mu_);
    wake = queued_.empty();
    auto& batch = queued_[to_node];
    *batch.add_messages() = std::move(env);
  }
  if (wake) cv_.notify_one();
}

void RaftOutbox::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queued_.empty(); });
    if (queued_.empty() && stop_) return;
    auto work = std::move(queued_);
    queued_.clear();
    lock.unlock();
    for (auto& [to, batch] : work) {
      // Cut into NATS messages of about max_batch_bytes (a single large message still goes
      // alone; the server's max_payload bounds it).
      storage::v1::RaftBatch out;
      out.set_from_node(self_);
      size_t bytes = 0;
      auto flush = [&] {
        if (out.messages_size() == 0) return;
        messages_ += static_cast<uint64_t>(out.messages_size());
        ++batches_;
        Status s = nats_->publish(subjects_.node_raft(to), out.SerializeAsString());
        if (!s.is_ok()) spdlog::debug("raft outbox: to {}: {}", to, s.to_string());
        out.clear_messages();
        bytes = 0;
      };
      for (auto& env : *batch.mutable_messages()) {
        size_t n = env.ByteSizeLong();
        if (bytes > 0 && bytes + n > max_batch_bytes_) flush();
        bytes += n;
        *out.add_messages() = std::move(env);
      }
      flush();
    }
    lock.lock();
  }
}

}  // namespace shoal::storage
