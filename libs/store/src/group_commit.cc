#include "shoal/store/group_commit.h"

#include <vector>

namespace shoal::store {

GroupCommitter::GroupCommitter(Store* store, bool sync, size_t max_group_bytes)
    : store_(store), sync_(sync), max_group_bytes_(max_group_bytes) {
  thread_ = std::thread([this] { run(); });
}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void GroupCommitter::submit(Batch batch, Done done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Pending{std::move(batch), std::move(done)});
  }
  cv_.notify_one();
}

void GroupCommitter::run() {
  std::vector<Pending> group;
  std::vector<Batch*> batches;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and drained
      size_t bytes = 0;
      // Take everything ready, up to a size cap so one group cannot grow without bound.
      while (!queue_.empty() && (group.empty() || bytes < max_group_bytes_)) {
        bytes += queue_.front().batch.size_bytes();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    batches.clear();
    for (auto& p : group) batches.push_back(&p.batch);
    Status s = store_->write_group(batches, sync_);
    groups_.fetch_add(1, std::memory_order_relaxed);
    batches_.fetch_add(group.size(), std::memory_order_relaxed);
    for (auto& p : group) p.done(s);
    group.clear();
  }
}

}  // namespace shoal::store
