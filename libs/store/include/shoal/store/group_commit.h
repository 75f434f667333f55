#pragma once
// GroupCommitter: node-level group commit.
//
// Many replicas submit batches; one committer thread takes everything queued, writes it as
// ONE RocksDB WriteBatch with a single WAL fsync, then runs each submission's callback in
// order. Under load the fsync cost is shared by all batches that arrived while the previous
// sync ran; when idle a lone batch is written at once (no timer, no added latency).
//
// This is where Shoal's disk waits happen, on purpose: CAF workers never block on fsync.
// Callbacks run on the committer thread and must be short (send a message, publish a reply).

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "shoal/store/store.h"

namespace shoal::store {

class GroupCommitter {
 public:
  using Done = std::function<void(const Status&)>;

  GroupCommitter(Store* store, bool sync, size_t max_group_bytes = 4 << 20);
  ~GroupCommitter();  // drains what is queued, then joins

  // Thread-safe. `done` is called exactly once, after the batch is durable (or failed).
  void submit(Batch batch, Done done);

  uint64_t groups_written() const { return groups_; }
  uint64_t batches_written() const { return batches_; }

 private:
  void run();
  struct Pending {
    Batch batch;
    Done done;
  };
  Store* store_;
  bool sync_;
  size_t max_group_bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stop_ = false;
  std::atomic<uint64_t> groups_{0};
  std::atomic<uint64_t> batches_{0};
  std::thread thread_;
};

}  // namespace shoal::store
