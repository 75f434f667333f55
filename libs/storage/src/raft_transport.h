#pragma once
// Raft between storage nodes: the outbox that batches the messages of every replica on this
// node by destination node.
//
// Replica actors call RaftOutbox::send() (thread-safe, never blocks on the network). One
// flusher thread takes whatever accumulated per destination and publishes it as one RaftBatch
// on shoal.node.<dest>.raft: under load, the messages of many partitions share a NATS
// message; when idle, a lone message goes out at once (no timer).

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "shoal/nats/connection.h"
#include "shoal/raft/types.h"
#include "shoal/raftwire/raftwire.h"
#include "shoal/storage/v1/storage.pb.h"
#include "shoal/subjects/subjects.h"

namespace shoal::storage {

// libs/raftwire converts Raft types to and from their Protobuf forms.
using raftwire::from_proto;
using raftwire::to_proto;
// A kSnapshot message converts with its meta only: partition images are streamed in chunks
// (snapshot.h), never inside a Raft message.
inline void to_proto(const raft::Message& m, raft::v1::Message* out) {
  raftwire::to_proto(m, out, raftwire::SnapshotData::kSeparate);
}

class RaftOutbox {
 public:
  // Batches are cut at about `max_batch_bytes` so they stay well under NATS max_payload.
  RaftOutbox(std::shared_ptr<nats::Connection> nats, subjects::Subjects subjects,
             std::string self_node, size_t max_batch_bytes = 512 << 10);
  ~RaftOutbox();  // sends what is queued, then joins

  void send(const std::string& to_node, const std::string& partition_id, const raft::Message& m);

  uint64_t batches_sent() const { return batches_; }
  uint64_t messages_sent() const { return messages_; }

 private:
  void run();

  std::shared_ptr<nats::Connection> nats_;
  subjects::Subjects subjects_;
  std::string self_;
  size_t max_batch_bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, storage::v1::RaftBatch> queued_;  // by destination node
  bool stop_ = false;
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> messages_{0};
  std::thread thread_;
};

}  // namespace shoal::storage
