#include "snapshot.h"

#include "membership.h"

#include <spdlog/spdlog.h>
#include <zlib.h>

#include <cinttypes>
#include <cstdio>
#include <random>

namespace shoal::storage {

using namespace std::chrono_literals;

namespace {

constexpr auto kChunkAckTimeout = 10s;
constexpr auto kIdleTransfer = 2min;
constexpr size_t kTransferIdHex = 16;

void set_status(common::v1::Status* out, const Status& s) {
  out->set_code(s.is_ok() ? common::v1::CODE_OK : static_cast<common::v1::Code>(s.code()));
  out->set_message(s.message());
}

Status status_from(const common::v1::Status& s) {
  if (s.code() == common::v1::CODE_OK) return Status::ok();
  return Status(static_cast<Code>(s.code()), s.message());
}

void put_le32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t crc_update(uint32_t crc, std::string_view b) {
  return static_cast<uint32_t>(
      crc32(crc, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(b.size())));
}

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string snapshot_subject(const subjects::Subjects& subjects, std::string_view node_id) {
  return subjects.node_snap(node_id);
}

std::string snapshot_meta_key(const std::string& partition_id) { return "snap/" + partition_id; }

std::string staging_family_name(const std::string& partition_id, uint64_t transfer_id) {
  char hex[kTransferIdHex + 1];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, transfer_id);
  return data_family_name(partition_id) + "#" + hex;
}

std::string family_partition(const std::string& family, bool* staging) {
  *staging = false;
  if (!family.starts_with("r/") || family.size() <= 2) return {};
  const size_t suffix = kTransferIdHex + 1;
  if (family.size() > 2 + suffix && family[family.size() - suffix] == '#' &&
      is_hex(std::string_view(family).substr(family.size() - kTransferIdHex))) {
    *staging = true;
    return family.substr(2, family.size() - 2 - suffix);
  }
  return family.substr(2);
}

void put_snapshot_meta(store::Batch* batch, const store::CfPtr& meta_cf,
                       const std::string& partition_id, const raft::SnapshotMeta& meta) {
  raft::v1::SnapshotMeta p;
  to_proto(meta, &p);
  batch->put(meta_cf, snapshot_meta_key(partition_id), p.SerializeAsString());
}

Status load_snapshot_meta(const store::Store& store, const store::CfPtr& meta_cf,
                          const std::string& partition_id, raft::SnapshotMeta* out) {
  *out = raft::SnapshotMeta{};
  std::string raw;
  Status s = store.get(meta_cf, snapshot_meta_key(partition_id), &raw);
  if (s.code() == Code::kNotFound) return Status::ok();
  SHOAL_RETURN_IF_ERROR(s);
  raft::v1::SnapshotMeta p;
  if (!p.ParseFromString(raw)) return internal_error("corrupt snapshot meta of " + partition_id);
  *out = from_proto(p);
  return Status::ok();
}

uint32_t snapshot_crc(uint32_t crc, std::string_view key, std::string_view value) {
  std::string len;
  put_le32(&len, static_cast<uint32_t>(key.size()));
  crc = crc_update(crc, len);
  crc = crc_update(crc, key);
  len.clear();
  put_le32(&len, static_cast<uint32_t>(value.size()));
  crc = crc_update(crc, len);
  return crc_update(crc, value);
}

// ---- SnapshotSender ------------------------------------------------------------------------

SnapshotSender::SnapshotSender(store::Store* store, std::shared_ptr<nats::Connection> nats,
                               subjects::Subjects subjects, std::string self_node,
                               size_t chunk_bytes, int threads)
    : store_(store), nats_(std::move(nats)), subjects_(std::move(subjects)),
      self_(std::move(self_node)), chunk_bytes_(std::max<size_t>(chunk_bytes, 1)),
      next_id_(std::random_device{}() ^
               static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {
  for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { run(); });
}

SnapshotSender::~SnapshotSender() {
  std::deque<SnapshotJob> abandoned;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    abandoned.swap(queue_);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  for (auto& job : abandoned) {
    if (job.done) job.done(false);
  }
}

void SnapshotSender::send(SnapshotJob job) {
  bool queued = false;
  {
    std::lock_guard lock(mu_);
    if (!stop_) {
      queue_.push_back(std::move(job));
      queued = true;
    }
  }
  if (queued) {
    cv_.notify_one();
  } else if (job.done) {
    job.done(false);  // stopping
  }
}

void SnapshotSender::run() {
  while (true) {
    SnapshotJob job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    const auto start = std::chrono::steady_clock::now();
    const uint64_t before = bytes_;
    Status s = transfer(job);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double mb = static_cast<double>(bytes_ - before) / (1 << 20);
    if (s.is_ok()) {
      spdlog::info("snapshot of {} at index {} sent to {}: {} items, {:.1f} MB in {:.2f} s "
                   "({:.1f} MB/s)",
                   job.partition_id, job.message.snapshot->meta.index, job.to_node,
                   job.item_count, mb, secs, secs > 0 ? mb / secs : 0.0);
    } else if (s.code() == Code::kNotFound || s.code() == Code::kUnavailable) {
      // The replica is not open there yet (a learner about to be opened) or the node is down:
      // Raft asks again later.
      spdlog::info("snapshot of {} to {} not delivered: {}", job.partition_id, job.to_node,
                   s.to_string());
    } else {
      spdlog::warn("snapshot of {} to {} failed after {:.1f} MB: {}", job.partition_id,
                   job.to_node, mb, s.to_string());
    }
    // The RocksDB snapshot and family go before the actor hears of it.
    auto done = std::move(job.done);
    job = SnapshotJob{};
    if (done) done(s.is_ok());
  }
}

Status SnapshotSender::send_chunk(const std::string& subject,
                                  const storage::v1::SnapshotChunk& chunk) {
  std::string data = chunk.SerializeAsString();
  auto reply = nats_->request_sync(subject, data, kChunkAckTimeout);
  if (!reply.ok()) return reply.status();
  storage::v1::SnapshotChunkAck ack;
  if (!ack.ParseFromString(*reply)) return internal_error("unparsable snapshot chunk ack");
  SHOAL_RETURN_IF_ERROR(status_from(ack.status()));
  bytes_ += data.size();
  return Status::ok();
}

Status SnapshotSender::transfer(const SnapshotJob& job) {
  const std::string subject = snapshot_subject(subjects_, job.to_node);
  storage::v1::SnapshotChunk chunk;
  chunk.set_partition_id(job.partition_id);
  chunk.set_transfer_id(next_id_.fetch_add(0x9E3779B97F4A7C15ULL));
  chunk.set_from_node(self_);
  uint32_t crc = 0;
  uint64_t items = 0;
  size_t bytes = 0;
  uint32_t seq = 0;
  auto flush = [&](bool last) {
    chunk.set_seq(seq++);
    chunk.set_crc(crc);
    chunk.set_items_so_far(items);
    chunk.set_last(last);
    Status s = send_chunk(subject, chunk);
    chunk.clear_items();
    bytes = 0;
    return s;
  };
  // Only the partition's own range: after a split its family holds its sibling's items too.
  const std::string begin = range_begin_key(job.hash_lo), end = range_end_key(job.hash_hi);
  auto it = store_->iterator(job.family, job.image);
  for (it->Seek(begin); it->Valid(); it->Next()) {
    if (stop_) return unavailable("node stopping");
    std::string_view k(it->key().data(), it->key().size());
    if (k.compare(end) >= 0) break;
    std::string_view v(it->value().data(), it->value().size());
    auto* item = chunk.add_items();
    item->set_key(k.data(), k.size());
    item->set_value(v.data(), v.size());
    crc = snapshot_crc(crc, k, v);
    ++items;
    bytes += k.size() + v.size();
    if (bytes >= chunk_bytes_) SHOAL_RETURN_IF_ERROR(flush(false));
  }
  if (!it->status().ok()) return internal_error("snapshot read: " + it->status().ToString());
  to_proto(job.message, chunk.mutable_message());
  chunk.mutable_peers()->Assign(job.peers.begin(), job.peers.end());
  chunk.set_item_count(job.item_count);
  chunk.set_data_bytes(job.data_bytes);
  chunk.set_has_range(true);
  chunk.set_hash_lo(job.hash_lo);
  chunk.set_hash_hi(job.hash_hi);
  return flush(true);
}

// ---- SnapshotReceiver ----------------------------------------------------------------------

SnapshotReceiver::SnapshotReceiver(store::Store* store, IsOpen is_open, Deliver deliver)
    : store_(store), is_open_(std::move(is_open)), deliver_(std::move(deliver)) {}

void SnapshotReceiver::drop_locked(std::map<std::string, Transfer>::iterator it) {
  if (it->second.family) {
    const std::string name = it->second.family->name();
    it->second.family.reset();
    if (Status s = store_->drop_family(name); !s.is_ok()) {
      spdlog::warn("snapshot staging {}: drop failed: {}", name, s.to_string());
    }
  }
  transfers_.erase(it);
}

void SnapshotReceiver::abort(const std::string& partition_id) {
  std::lock_guard lock(mu_);
  if (auto it = transfers_.find(partition_id); it != transfers_.end()) drop_locked(it);
}

void SnapshotReceiver::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  while (!transfers_.empty()) drop_locked(transfers_.begin());
}

Status SnapshotReceiver::start_locked(const storage::v1::SnapshotChunk& c) {
  const std::string& pid = c.partition_id();
  if (auto it = transfers_.find(pid); it != transfers_.end()) {
    spdlog::info("snapshot of {}: transfer {:x} replaces unfinished {:x}", pid, c.transfer_id(),
                 it->second.id);
    drop_locked(it);
  }
  const std::string name = staging_family_name(pid, c.transfer_id());
  SHOAL_RETURN_IF_ERROR(store_->drop_family(name));  // a repeated id: start clean
  auto cf = store_->create_family(name);
  if (!cf.ok()) return cf.status();
  Transfer t;
  t.id = c.transfer_id();
  t.family = *cf;
  transfers_[pid] = std::move(t);
  return Status::ok();
}

Status SnapshotReceiver::finish_locked(const storage::v1::SnapshotChunk& c) {
  const std::string& pid = c.partition_id();
  auto it = transfers_.find(pid);
  auto staged = std::make_shared<StagedSnapshot>();
  if (!from_proto(c.message(), &staged->message) ||
      staged->message.type != raft::MessageType::kSnapshot || !staged->message.snapshot) {
    drop_locked(it);
    return invalid_argument("snapshot of " + pid + " without a kSnapshot message");
  }
  staged->family = std::move(it->second.family);
  staged->peers.assign(c.peers().begin(), c.peers().end());
  staged->item_count = c.item_count();
  staged->data_bytes = c.data_bytes();
  staged->has_range = c.has_range();
  staged->hash_lo = c.hash_lo();
  staged->hash_hi = c.hash_hi();
  transfers_.erase(it);
  const std::string name = staged->family->name();
  if (!deliver_(pid, std::move(staged))) {
    (void)store_->drop_family(name);
    return not_found("replica " + pid + " is not open here");
  }
  return Status::ok();
}

Status SnapshotReceiver::on_chunk(const storage::v1::SnapshotChunk& c) {
  std::lock_guard lock(mu_);
  if (closed_) return unavailable("node stopping");
  const std::string& pid = c.partition_id();
  const auto now = std::chrono::steady_clock::now();
  for (auto it = transfers_.begin(); it != transfers_.end();) {
    auto next = std::next(it);
    if (now - it->second.last > kIdleTransfer) drop_locked(it);
    it = next;
  }
  if (!is_open_(pid)) {
    if (auto it = transfers_.find(pid); it != transfers_.end()) drop_locked(it);
    return not_found("replica " + pid + " is not open here");
  }
  if (c.seq() == 0) SHOAL_RETURN_IF_ERROR(start_locked(c));
  auto it = transfers_.find(pid);
  if (it == transfers_.end() || it->second.id != c.transfer_id() ||
      it->second.next_seq != c.seq()) {
    return failed_precondition("snapshot chunk " + std::to_string(c.seq()) + " of " + pid +
                               " out of sequence");
  }
  Transfer& t = it->second;
  store::Batch batch;
  uint32_t crc = t.crc;
  for (const auto& item : c.items()) {
    crc = snapshot_crc(crc, item.key(), item.value());
    batch.put(t.family, item.key(), item.value());
  }
  const uint64_t items = t.items + static_cast<uint64_t>(c.items_size());
  if (crc != c.crc() || items != c.items_so_far()) {
    drop_locked(it);
    return internal_error("snapshot of " + pid + ": checksum or count mismatch at chunk " +
                          std::to_string(c.seq()));
  }
  // Unsynced: the install batch that makes this family the data family is synced, and it
  // follows these writes in the WAL.
  if (!batch.empty()) {
    if (Status s = store_->write(batch, /*sync=*/false); !s.is_ok()) {
      drop_locked(it);
      return s;
    }
  }
  t.crc = crc;
  t.items = items;
  t.next_seq++;
  t.last = now;
  if (c.last()) return finish_locked(c);
  return Status::ok();
}

// ---- Replica actor -------------------------------------------------------------------------

void maybe_compact(ReplicaState& st) {
  auto& env = *st.env;
  auto& node = *st.raft;
  const uint64_t applied = node.applied_index();
  const uint64_t first = node.first_index();
  if (env.compact_threshold == 0 || applied < first || applied - first < env.compact_threshold ||
      applied <= env.compact_keep) {
    return;
  }
  uint64_t index = applied - env.compact_keep;
  // A leader keeps a split entry in its log until every member has it: a member that got the
  // parent's range by image instead would never create the split's child.
  if (st.leader && st.last_split_index > node.snapshot_index() && index >= st.last_split_index) {
    for (const auto& p : node.peer_progress()) {
      if (p.match < st.last_split_index) {
        index = st.last_split_index - 1;
        break;
      }
    }
  }
  if (index <= node.snapshot_index()) return;
  const raft::SnapshotMeta meta = node.snapshot_meta_at(index);
  store::Batch batch;
  put_snapshot_meta(&batch, env.meta_cf, st.partition_id, meta);
  batch.erase_range(env.log_cf, st.partition_id + "/", log_key(st.partition_id, index + 1));
  // Through the group commit (synced, in order with install batches; the actor goes on).
  env.committer->submit(std::move(batch), [pid = st.partition_id](const Status& s) {
    if (!s.is_ok()) {
      spdlog::critical("replica {}: compaction write failed: {}; stopping the node", pid,
                       s.to_string());
      std::abort();
    }
  });
  if (Status s = node.compact(index); !s.is_ok()) die(st, "compaction", s);
  spdlog::info("replica {}: log compacted to {} (applied {})", st.partition_id, index, applied);
  publish_status(st);
}

void send_image(ReplicaSelf self, const raft::Message& m) {
  auto& st = self->state;
  auto& env = *st.env;
  if (!env.snapshots || !m.snapshot || st.sending.count(m.to)) return;
  auto node = st.peer_nodes.find(m.to);
  if (node == st.peer_nodes.end()) return;
  // The data family holds exactly what is applied: the image is at the applied index.
  const uint64_t applied = st.raft->applied_index();
  raft::SnapshotMeta meta = st.raft->snapshot_meta_at(applied);
  if (meta.index == 0 || meta.index < m.snapshot->meta.index) return;
  SnapshotJob job;
  job.partition_id = st.partition_id;
  job.to_node = node->second;
  job.message = m;
  job.message.index = meta.index;
  job.message.log_term = meta.term;
  job.message.snapshot = raft::Snapshot{std::move(meta), {}};
  job.family = env.data_cf;
  job.image = env.store->snapshot();
  job.peers.assign(st.record.replica().peers().begin(), st.record.replica().peers().end());
  job.item_count = st.item_count;
  job.data_bytes = st.data_bytes;
  job.hash_lo = st.record.replica().hash_lo();
  job.hash_hi = st.record.replica().hash_hi();
  job.done = [actor = caf::actor_cast<caf::actor>(self), to = m.to](bool ok) {
    caf::anon_send(actor, snapshot_sent_atom_v, static_cast<uint64_t>(to), ok);
  };
  spdlog::info("replica {}: sending image at {} to raft id {} on {}", st.partition_id, applied,
               m.to, node->second);
  st.sending.insert(m.to);
  env.snapshots->send(std::move(job));
}

void image_sent(ReplicaState& st, raft::NodeId to, bool ok) {
  st.sending.erase(to);
  if (ok) st.env->counters->snapshots_sent.fetch_add(1, std::memory_order_relaxed);
}

namespace {
// Staging families are this replica's alone.
void drop_family(ReplicaState& st, const store::CfPtr& cf) {
  const std::string name = cf->name();
  if (Status s = st.env->store->drop_family(name); !s.is_ok()) {
    spdlog::warn("replica {}: dropping family {}: {}", st.partition_id, name, s.to_string());
  }
}
}  // namespace

void keep_staged(ReplicaState& st, StagedSnapshotPtr staged) {
  const uint64_t index = staged->message.snapshot->meta.index;
  if (auto it = st.staged.find(index); it != st.staged.end()) drop_family(st, it->second->family);
  st.staged[index] = std::move(staged);
}

void discard_staged(ReplicaState& st) {
  for (auto& [_, s] : st.staged) drop_family(st, s->family);
  st.staged.clear();
}

void prepare_install(ReplicaState& st, const raft::Snapshot& snapshot, store::Batch* batch) {
  auto& env = *st.env;
  auto it = st.staged.find(snapshot.meta.index);
  if (it == st.staged.end()) {
    die(st, "snapshot install", internal_error("no staged image at index " +
                                               std::to_string(snapshot.meta.index)));
  }
  st.installing = std::move(it->second);
  st.staged.erase(it);
  batch->erase_range(env.log_cf, st.partition_id + "/", log_prefix_end(st.partition_id));
  put_snapshot_meta(batch, env.meta_cf, st.partition_id, snapshot.meta);
  st.record.set_applied_index(snapshot.meta.index);
  st.record.set_item_count(st.installing->item_count);
  st.record.set_data_bytes(st.installing->data_bytes);
  st.record.set_data_family(st.installing->family->name());
  if (st.installing->has_range) {
    st.record.mutable_replica()->set_hash_lo(st.installing->hash_lo);
    st.record.mutable_replica()->set_hash_hi(st.installing->hash_hi);
  }
  env.families->add(st.installing->family->name(), st.partition_id);
  auto* peers = st.record.mutable_replica()->mutable_peers();
  peers->Assign(st.installing->peers.begin(), st.installing->peers.end());
  batch->put(env.meta_cf, meta_key(st.partition_id), st.record.SerializeAsString());
  st.log_last = snapshot.meta.index;
}

void finish_install(ReplicaState& st) {
  auto& env = *st.env;
  StagedSnapshotPtr s = std::move(st.installing);
  st.installing.reset();
  store::CfPtr old = std::move(env.data_cf);
  env.data_cf = s->family;
  st.item_count = s->item_count;
  st.data_bytes = s->data_bytes;
  load_directory(st);  // the image's (prepare_install put it in the record)
  st.group_dirty = true;
  const uint64_t index = s->message.snapshot->meta.index;
  // Writes this replica proposed as an earlier leader and that the image jumped over: their
  // outcome is unknown here (the router answers a 500, as for a timed-out write).
  for (auto w = st.waiters.begin(); w != st.waiters.end() && w->first <= index;) {
    storage::v1::DataResponse resp;
    set_status(resp.mutable_status(),
               internal_error("write outcome unknown: replica " + st.partition_id +
                              " installed a snapshot"));
    respond_data(env, w->second.reply, resp);
    w = st.waiters.erase(w);
  }
  env.counters->snapshots_installed.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("replica {}: installed image at {} ({} items, family {})", st.partition_id, index,
               s->item_count, s->family->name());
  // The old family goes once no replica uses it; a sibling from a split may still (then only
  // this replica's range is deleted from it).
  if (old && old->name() != s->family->name()) {
    release_family(*env.store, *env.families, old, st.partition_id, st.record.replica().hash_lo(),
                   st.record.replica().hash_hi());
  }
}

}  // namespace shoal::storage
