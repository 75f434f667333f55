#include "raft_transport.h"

#include <spdlog/spdlog.h>

#include <vector>

namespace shoal::storage {

void to_proto(const raft::Entry& e, storage::v1::RaftEntry* out) {
  out->set_term(e.term);
  out->set_index(e.index);
  out->set_type(static_cast<uint32_t>(e.type));
  out->set_data(e.data);
}

bool from_proto(const storage::v1::RaftEntry& e, raft::Entry* out) {
  if (e.type() > static_cast<uint32_t>(raft::EntryType::kConfChange)) return false;
  out->term = e.term();
  out->index = e.index();
  out->type = static_cast<raft::EntryType>(e.type());
  out->data = e.data();
  return true;
}

void to_proto(const raft::SnapshotMeta& m, storage::v1::RaftSnapshotMeta* out) {
  out->set_index(m.index);
  out->set_term(m.term);
  out->mutable_voters()->Assign(m.conf.voters.begin(), m.conf.voters.end());
  out->mutable_learners()->Assign(m.conf.learners.begin(), m.conf.learners.end());
}

raft::SnapshotMeta from_proto(const storage::v1::RaftSnapshotMeta& m) {
  raft::SnapshotMeta out;
  out.index = m.index();
  out.term = m.term();
  out.conf.voters.assign(m.voters().begin(), m.voters().end());
  out.conf.learners.assign(m.learners().begin(), m.learners().end());
  return out;
}

void to_proto(const raft::Message& m, storage::v1::RaftMessage* out) {
  out->set_type(static_cast<uint32_t>(m.type));
  out->set_from(m.from);
  out->set_to(m.to);
  out->set_term(m.term);
  out->set_log_term(m.log_term);
  out->set_index(m.index);
  for (const auto& e : m.entries) to_proto(e, out->add_entries());
  out->set_commit(m.commit);
  out->set_reject(m.reject);
  out->set_reject_hint(m.reject_hint);
  out->set_context(m.context);
  out->set_transfer(m.transfer);
  // The image's data never travels here (see snapshot.h): only its meta.
  if (m.snapshot) to_proto(m.snapshot->meta, out->mutable_snapshot());
}

bool from_proto(const storage::v1::RaftMessage& m, raft::Message* out) {
  if (m.type() > static_cast<uint32_t>(raft::MessageType::kSnapshot)) return false;
  out->type = static_cast<raft::MessageType>(m.type());
  out->from = m.from();
  out->to = m.to();
  out->term = m.term();
  out->log_term = m.log_term();
  out->index = m.index();
  out->entries.resize(static_cast<size_t>(m.entries_size()));
  for (int i = 0; i < m.entries_size(); ++i) {
    if (!from_proto(m.entries(i), &out->entries[static_cast<size_t>(i)])) return false;
  }
  out->commit = m.commit();
  out->reject = m.reject();
  out->reject_hint = m.reject_hint();
  out->context = m.context();
  out->transfer = m.transfer();
  if (out->type == raft::MessageType::kSnapshot) {
    if (!m.has_snapshot()) return false;
    out->snapshot = raft::Snapshot{from_proto(m.snapshot()), {}};
  }
  return true;
}

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
