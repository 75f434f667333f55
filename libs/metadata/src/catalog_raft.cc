#include "catalog_raft.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "shoal/raftwire/raftwire.h"

namespace shoal::metadata {

using raftwire::from_proto;
using raftwire::to_proto;

namespace {

constexpr std::string_view kTablePrefix = "table/";
constexpr std::string_view kTableEnd = "table0";  // '0' follows '/'
constexpr std::string_view kSeqKey = "seq/table";
constexpr std::string_view kDrainPrefix = "drain/";
constexpr std::string_view kDrainEnd = "drain0";
constexpr std::string_view kAppliedKey = "raft/applied";
constexpr std::string_view kHardStateKey = "hs";
constexpr std::string_view kSnapKey = "snap";
constexpr std::string_view kLogPrefix = "log/";
constexpr std::string_view kLogEnd = "log0";

std::string log_key(uint64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "log/%020" PRIu64, index);
  return buf;
}

std::string table_key(const std::string& name) { return std::string(kTablePrefix) + name; }
std::string drain_key(const std::string& node) { return std::string(kDrainPrefix) + node; }

}  // namespace

CatalogRaft::CatalogRaft(std::shared_ptr<nats::Connection> nats, subjects::Subjects subjects,
                         store::Store* store, CatalogRaftOptions options)
    : nats_(std::move(nats)), subjects_(std::move(subjects)), store_(store),
      options_(std::move(options)) {
  names_ = options_.peers;
  if (std::find(names_.begin(), names_.end(), options_.id) == names_.end()) {
    names_.push_back(options_.id);
  }
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
  self_ = static_cast<raft::NodeId>(
      std::find(names_.begin(), names_.end(), options_.id) - names_.begin() + 1);
}

CatalogRaft::~CatalogRaft() { stop(); }

void CatalogRaft::fatal(const std::string& what, const Status& s) {
  spdlog::critical("metadata {}: {} failed: {}; stopping", options_.id, what, s.to_string());
  std::abort();
}

Status CatalogRaft::load() {
  auto cf = store_->create_family("catalog");
  if (!cf.ok()) return cf.status();
  catalog_ = *cf;
  cf = store_->create_family("raft");
  if (!cf.ok()) return cf.status();
  raft_cf_ = *cf;

  // The state machine: the catalog family as of raft/applied.
  auto it = store_->iterator(catalog_);
  for (it->Seek(std::string(kTablePrefix));
       it->Valid() && it->key().starts_with(std::string(kTablePrefix)); it->Next()) {
    meta::v1::Table t;
    if (!t.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return internal_error("corrupt catalog entry " + it->key().ToString());
    }
    tables_[t.name()] = std::move(t);
  }
  const std::string drain_prefix(kDrainPrefix);
  auto di = store_->iterator(catalog_);
  for (di->Seek(drain_prefix); di->Valid() && di->key().starts_with(drain_prefix); di->Next()) {
    draining_.insert(di->key().ToString().substr(drain_prefix.size()));
  }
  std::string v;
  if (store_->get(catalog_, kSeqKey, &v).is_ok()) seq_ = std::stoull(v);
  if (store_->get(catalog_, kAppliedKey, &v).is_ok()) applied_ = std::stoull(v);

  // The raft state.
  raft::HardState hs;
  if (store_->get(raft_cf_, kHardStateKey, &v).is_ok()) {
    raft::v1::HardState p;
    if (!p.ParseFromString(v)) return internal_error("corrupt raft hard state");
    hs = from_proto(p);
  }
  raft::SnapshotMeta snap;
  if (store_->get(raft_cf_, kSnapKey, &v).is_ok()) {
    raft::v1::SnapshotMeta p;
    if (!p.ParseFromString(v)) return internal_error("corrupt raft snapshot meta");
    snap = from_proto(p);
  }
  std::vector<raft::Entry> log;
  auto li = store_->iterator(raft_cf_);
  const std::string log_prefix(kLogPrefix);
  for (li->Seek(log_prefix); li->Valid() && li->key().starts_with(log_prefix); li->Next()) {
    raft::v1::Entry p;
    raft::Entry e;
    if (!p.ParseFromArray(li->value().data(), static_cast<int>(li->value().size())) ||
        !from_proto(p, &e)) {
      return internal_error("corrupt raft log entry " + li->key().ToString());
    }
    if (e.index <= snap.index) continue;
    if (e.index != snap.index + log.size() + 1) {
      return internal_error("raft log has a gap at " + std::to_string(e.index));
    }
    log.push_back(std::move(e));
  }
  if (applied_ < snap.index) return internal_error("catalog older than the raft snapshot");

  raft::Config cfg;
  cfg.id = self_;
  for (size_t i = 0; i < names_.size(); ++i) cfg.voters.push_back(i + 1);
  cfg.election_ticks = options_.election_ticks;
  cfg.heartbeat_ticks = 1;
  cfg.seed = std::random_device{}() ^ (self_ << 32);
  cfg.applied = applied_;
  if (snap.index > 0) {
    node_ = std::make_unique<raft::Node>(cfg, hs, snap, std::move(log));
  } else {
    node_ = std::make_unique<raft::Node>(cfg, hs, std::move(log));
  }
  first_index_ = node_->first_index();
  spdlog::info("metadata {}: raft id {} of {}, term {}, log [{}, {}], applied {}, {} tables",
               options_.id, self_, names_.size(), hs.term, node_->first_index(),
               node_->last_index(), applied_, tables_.size());
  return Status::ok();
}

Status CatalogRaft::start() {
  SHOAL_RETURN_IF_ERROR(load());
  auto sub = nats_->subscribe(subjects_.meta_raft(options_.id), "",
                              [this](nats::MessagePtr m) { on_message(std::move(m)); });
  if (!sub.ok()) return sub.status();
  sub_.emplace(std::move(sub).value());
  // A group of one elects itself now (its first election timeout would do it too).
  if (names_.size() == 1) (void)node_->campaign();
  next_tick_ = std::chrono::steady_clock::now() + options_.tick;
  {
    std::lock_guard lock(in_mu_);
    wake_ = true;
    started_ = true;
  }
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void CatalogRaft::stop() {
  sub_.reset();
  {
    std::lock_guard lock(in_mu_);
    if (!started_ || stop_) return;
    stop_ = true;
  }
  in_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CatalogRaft::on_message(nats::MessagePtr m) {
  raft::v1::Message p;
  raft::Message msg;
  if (!p.ParseFromString(m->data) || !from_proto(p, &msg) || msg.to != self_) {
    spdlog::warn("metadata {}: dropping an unreadable raft message", options_.id);
    return;
  }
  if (msg.snapshot) {
    meta::v1::CatalogSnapshot img;
    if (!img.ParseFromString(msg.snapshot->data)) {
      spdlog::warn("metadata {}: dropping a snapshot with an unreadable image", options_.id);
      return;
    }
  }
  {
    std::lock_guard lock(in_mu_);
    if (stop_) return;
    inbox_.push_back(std::move(msg));
    wake_ = true;
  }
  in_cv_.notify_one();
}

Status CatalogRaft::propose(const meta::v1::CatalogWrite& w, std::chrono::milliseconds timeout) {
  auto p = std::make_shared<Proposal>();
  p->data = w.SerializeAsString();
  auto done = p->done.get_future();
  {
    std::lock_guard lock(in_mu_);
    if (stop_ || !started_) return unavailable("metadata replica stopping");
    proposals_.push_back(p);
    wake_ = true;
  }
  in_cv_.notify_one();
  if (done.wait_for(timeout) != std::future_status::ready) {
    return Status(Code::kDeadlineExceeded, "catalog change not applied in time");
  }
  return done.get();
}

RaftStatus CatalogRaft::status() const {
  std::lock_guard lock(sm_mu_);
  return status_;
}

RaftStatus CatalogRaft::wait_status(const std::function<bool(const RaftStatus&)>& pred,
                                    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(sm_mu_);
  status_cv_.wait_for(lock, timeout, [&] { return pred(status_); });
  return status_;
}

void CatalogRaft::copy_catalog(std::map<std::string, meta::v1::Table>* tables,
                               uint64_t* seq, std::set<std::string>* draining) const {
  std::lock_guard lock(sm_mu_);
  *tables = tables_;
  *seq = seq_;
  if (draining) *draining = draining_;
}

uint64_t CatalogRaft::log_first_index() const {
  std::lock_guard lock(sm_mu_);
  return first_index_;
}

void CatalogRaft::run() {
  std::unique_lock lock(in_mu_);
  while (true) {
    in_cv_.wait_until(lock, next_tick_, [this] { return wake_ || stop_; });
    if (stop_) break;
    wake_ = false;
    std::vector<raft::Message> msgs;
    std::vector<ProposalPtr> props;
    msgs.swap(inbox_);
    props.swap(proposals_);
    lock.unlock();

    // The raft clock follows the steady clock: ticks that are due catch up on every turn.
    const auto now = std::chrono::steady_clock::now();
    int due = 0;
    while (next_tick_ <= now) {
      next_tick_ += options_.tick;
      ++due;
    }
    due = std::min(due, 4 * options_.election_ticks);  // after a long pause, enough is enough
    for (int i = 0; i < due; ++i) node_->tick();
    for (const auto& m : msgs) node_->step(m);
    for (auto& p : props) {
      auto r = node_->propose(std::move(p->data));
      if (!r.ok()) {
        p->done.set_value(unavailable("not the metadata leader: " + r.status().message()));
        continue;
      }
      pending_[r->index] = {r->term, p};
    }
    handle_ready();
    if (node_->role() != raft::Role::kLeader && !pending_.empty()) {
      fail_pending(unavailable("metadata leadership lost"));
    }
    publish_status();
    lock.lock();
  }
  lock.unlock();
  fail_pending(unavailable("metadata replica stopping"));
  std::vector<ProposalPtr> props;
  {
    std::lock_guard l(in_mu_);
    props.swap(proposals_);
  }
  for (auto& p : props) p->done.set_value(unavailable("metadata replica stopping"));
  std::lock_guard l(sm_mu_);
  status_ = RaftStatus{};
  status_cv_.notify_all();
}

void CatalogRaft::fail_pending(const Status& s) {
  for (auto& [_, p] : pending_) p.second->done.set_value(s);
  pending_.clear();
}

void CatalogRaft::publish_status() {
  RaftStatus s;
  s.leader = node_->role() == raft::Role::kLeader;
  s.term = node_->term();
  if (node_->leader() != raft::kNoNode && node_->leader() <= names_.size()) {
    s.leader_id = names_[node_->leader() - 1];
  }
  std::lock_guard lock(sm_mu_);
  s.applied = applied_;
  s.serving = s.leader && node_->commit_index() == node_->last_index() &&
              applied_ == node_->last_index() && node_->term_at(applied_) == node_->term();
  first_index_ = node_->first_index();
  s.lease = node_->has_lease();
  if (s.term != status_.term || s.leader_id != status_.leader_id || s.leader != status_.leader) {
    spdlog::info("metadata {}: term {}, leader {}", options_.id, s.term,
                 s.leader_id.empty() ? "unknown" : s.leader_id);
  }
  status_ = s;
  status_cv_.notify_all();
}

void CatalogRaft::handle_ready() {
  while (node_->has_ready()) {
    raft::Ready rd = node_->ready();
    // 1. Persist, durably, before any message of this batch leaves.
    store::Batch b;
    std::optional<meta::v1::CatalogSnapshot> image;
    if (rd.snapshot) {
      image.emplace();
      if (!image->ParseFromString(rd.snapshot->data)) {
        fatal("installing a snapshot", internal_error("unreadable image"));
      }
      b.erase_range(catalog_, kTablePrefix, kTableEnd);
      for (const auto& t : image->tables()) {
        b.put(catalog_, table_key(t.name()), t.SerializeAsString());
      }
      b.put(catalog_, kSeqKey, std::to_string(image->table_seq()));
      b.erase_range(catalog_, kDrainPrefix, kDrainEnd);
      for (const auto& n : image->draining()) b.put(catalog_, drain_key(n), "");
      b.put(catalog_, kAppliedKey, std::to_string(rd.snapshot->meta.index));
      raft::v1::SnapshotMeta sm;
      to_proto(rd.snapshot->meta, &sm);
      b.put(raft_cf_, kSnapKey, sm.SerializeAsString());
      b.erase_range(raft_cf_, kLogPrefix, kLogEnd);
    }
    if (!rd.entries.empty()) {
      b.erase_range(raft_cf_, log_key(rd.entries.front().index), kLogEnd);
      for (const auto& e : rd.entries) {
        raft::v1::Entry p;
        to_proto(e, &p);
        b.put(raft_cf_, log_key(e.index), p.SerializeAsString());
      }
    }
    if (rd.hard_state) {
      raft::v1::HardState p;
      to_proto(*rd.hard_state, &p);
      b.put(raft_cf_, kHardStateKey, p.SerializeAsString());
    }
    if (!b.empty()) {
      if (auto s = store_->write(b, /*sync=*/true); !s.is_ok()) fatal("raft log write", s);
    }
    if (image) {
      std::lock_guard lock(sm_mu_);
      tables_.clear();
      for (const auto& t : image->tables()) tables_[t.name()] = t;
      seq_ = image->table_seq();
      draining_ = {image->draining().begin(), image->draining().end()};
      applied_ = rd.snapshot->meta.index;
      spdlog::info("metadata {}: installed a snapshot at {} ({} tables)", options_.id, applied_,
                   tables_.size());
    }
    // 2. Send.
    for (auto& m : rd.messages) send(std::move(m));
    // 3. Apply.
    apply(rd.committed);
    // 4.
    node_->advance();
    maybe_compact();
  }
}

void CatalogRaft::send(raft::Message m) {
  if (m.to == raft::kNoNode || m.to > names_.size()) return;
  if (m.type == raft::MessageType::kSnapshot) {
    // The image: the applied catalog (committed state) at our applied index, which is at or
    // after the compaction point the node put in the message.
    meta::v1::CatalogSnapshot img;
    uint64_t at;
    {
      std::lock_guard lock(sm_mu_);
      for (const auto& [_, t] : tables_) *img.add_tables() = t;
      img.set_table_seq(seq_);
      for (const auto& n : draining_) img.add_draining(n);
      at = applied_;
    }
    m.snapshot = raft::Snapshot{node_->snapshot_meta_at(at), img.SerializeAsString()};
    spdlog::info("metadata {}: sending a snapshot at {} to {}", options_.id, at,
                 names_[m.to - 1]);
  }
  raft::v1::Message p;
  to_proto(m, &p, raftwire::SnapshotData::kInline);
  auto s = nats_->publish(subjects_.meta_raft(names_[m.to - 1]), p.SerializeAsString());
  if (!s.is_ok()) spdlog::debug("metadata {}: raft send failed: {}", options_.id, s.to_string());
}

void CatalogRaft::apply(const std::vector<raft::Entry>& committed) {
  if (committed.empty()) return;
  store::Batch b;
  std::vector<meta::v1::CatalogWrite> writes;
  uint64_t seq;
  {
    std::lock_guard lock(sm_mu_);
    seq = seq_;
  }
  for (const auto& e : committed) {
    if (e.type != raft::EntryType::kNormal || e.data.empty()) continue;
    meta::v1::CatalogWrite w;
    if (!w.ParseFromString(e.data)) {
      fatal("applying entry " + std::to_string(e.index), internal_error("unreadable command"));
    }
    for (const auto& t : w.put()) b.put(catalog_, table_key(t.name()), t.SerializeAsString());
    for (const auto& name : w.erase()) b.erase(catalog_, table_key(name));
    for (const auto& n : w.drain()) b.put(catalog_, drain_key(n), "");
    for (const auto& n : w.undrain()) b.erase(catalog_, drain_key(n));
    seq = std::max(seq, w.table_seq());
    writes.push_back(std::move(w));
  }
  const uint64_t last = committed.back().index;
  b.put(catalog_, kSeqKey, std::to_string(seq));
  b.put(catalog_, kAppliedKey, std::to_string(last));
  // Not synced: the log holds the entries durably, and a later synced write (compaction, the
  // next Ready) makes this one durable too (RocksDB's WAL is sequential).
  if (auto s = store_->write(b, /*sync=*/false); !s.is_ok()) fatal("catalog write", s);
  {
    std::lock_guard lock(sm_mu_);
    for (auto& w : writes) {
      for (auto& t : *w.mutable_put()) tables_[t.name()] = std::move(t);
      for (const auto& name : w.erase()) tables_.erase(name);
      for (const auto& n : w.drain()) draining_.insert(n);
      for (const auto& n : w.undrain()) draining_.erase(n);
    }
    seq_ = seq;
    applied_ = last;
  }
  for (const auto& e : committed) {
    auto it = pending_.find(e.index);
    if (it == pending_.end()) continue;
    it->second.second->done.set_value(
        it->second.first == e.term ? Status::ok()
                                   : unavailable("catalog change lost to a leader change"));
    pending_.erase(it);
  }
}

void CatalogRaft::maybe_compact() {
  uint64_t applied;
  {
    std::lock_guard lock(sm_mu_);
    applied = applied_;
  }
  const uint64_t first = node_->first_index();
  if (options_.compact_after == 0 || applied < first ||
      applied - first + 1 <= options_.compact_after) {
    return;
  }
  raft::SnapshotMeta meta = node_->snapshot_meta_at(applied);
  if (meta.index != applied) return;
  raft::v1::SnapshotMeta p;
  to_proto(meta, &p);
  store::Batch b;
  b.put(raft_cf_, kSnapKey, p.SerializeAsString());
  b.erase_range(raft_cf_, log_key(0), log_key(applied + 1));
  // Synced: also makes the catalog writes up to `applied` durable before the log goes.
  if (auto s = store_->write(b, /*sync=*/true); !s.is_ok()) fatal("raft log compaction", s);
  if (auto s = node_->compact(applied); !s.is_ok()) fatal("raft compaction", s);
  spdlog::info("metadata {}: compacted the raft log up to {}", options_.id, applied);
}

}  // namespace shoal::metadata
