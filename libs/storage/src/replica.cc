#include "replica.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>

#include "membership.h"
#include "reads.h"
#include "snapshot.h"
#include "shoal/expr/eval.h"
#include "shoal/item/item.h"
#include "shoal/item/key.h"

namespace shoal::storage {

namespace {

void put_be64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void set_status(common::v1::Status* out, const Status& s) {
  out->set_code(s.is_ok() ? common::v1::CODE_OK : static_cast<common::v1::Code>(s.code()));
  out->set_message(s.message());
}

void respond(const ReplicaEnv& env, const DataReply& to, const storage::v1::DataResponse& resp) {
  respond_data(env, to, resp);
}

void respond_error(const ReplicaEnv& env, const DataReply& to, const Status& st) {
  storage::v1::DataResponse resp;
  set_status(resp.mutable_status(), st);
  respond(env, to, resp);
}

// What a write does, decided from the request and the current image before anything is
// logged: the resulting image (nullopt = the item is gone) or a failed condition.
struct WriteOutcome {
  bool condition_failed = false;
  std::optional<std::string> image;
};

// The paths an update touches, as a projection: UPDATED_OLD / UPDATED_NEW return exactly
// those paths (nested ones too) of the old or the new image.
expr::v1::Projection updated_paths(const expr::v1::Update& u) {
  expr::v1::Projection p;
  for (const auto& a : u.set_actions()) *p.add_paths() = a.path();
  for (const auto& path : u.remove_paths()) *p.add_paths() = path;
  for (const auto& a : u.add_actions()) *p.add_paths() = a.path();
  for (const auto& a : u.delete_actions()) *p.add_paths() = a.path();
  return p;
}

Status decide_write(const storage::v1::DataRequest& req, const std::optional<std::string>& previous,
                    WriteOutcome* out, storage::v1::DataResponse* resp) {
  bool is_update = req.op() == storage::v1::DATA_OP_UPDATE;
  std::optional<item::Item> old;
  if (previous && (req.has_condition() || is_update || req.want_old_size())) {
    old.emplace();
    if (!item::decode_item(*previous, &*old)) return internal_error("undecodable stored item");
    resp->set_old_item_size(item::item_size(*old));
  }
  if (req.has_condition()) {
    auto holds = expr::evaluate(req.condition(), old ? &*old : nullptr);
    if (!holds.ok()) return holds.status();
    if (!*holds) {
      out->condition_failed = true;
      resp->set_condition_failed(true);
      if (req.return_old_on_condition_failure() && previous) {
        resp->set_found(true);
        resp->set_item(*previous);
      }
      return Status::ok();
    }
  }
  if (req.op() == storage::v1::DATA_OP_PUT) {
    out->image = req.item();
  } else if (is_update) {
    item::Item next;
    if (old) {
      next = *old;
    } else if (!item::decode_item(req.item(), &next)) {
      return invalid_argument("undecodable key item");
    }
    SHOAL_RETURN_IF_ERROR(expr::apply_update(req.update(), &next));
    uint64_t size = item::item_size(next);
    if (size > item::kMaxItemSize) {
      return invalid_argument("Item size to update has exceeded the maximum allowed size");
    }
    resp->set_new_item_size(size);
    out->image = item::encode_item(next);
    switch (req.return_values()) {
      case storage::v1::RETURN_VALUES_ALL_OLD:
        if (previous) {
          resp->set_found(true);
          resp->set_item(*previous);
        }
        break;
      case storage::v1::RETURN_VALUES_ALL_NEW:
        resp->set_found(true);
        resp->set_item(*out->image);
        break;
      case storage::v1::RETURN_VALUES_UPDATED_OLD:
        if (old) {
          item::Item part = expr::project(*old, updated_paths(req.update()));
          if (!part.empty()) {
            resp->set_found(true);
            resp->set_item(item::encode_item(part));
          }
        }
        break;
      case storage::v1::RETURN_VALUES_UPDATED_NEW: {
        item::Item part = expr::project(next, updated_paths(req.update()));
        if (!part.empty()) {
          resp->set_found(true);
          resp->set_item(item::encode_item(part));
        }
        break;
      }
      default:
        break;
    }
    return Status::ok();
  }
  // PUT / DELETE ReturnValues ALL_OLD.
  if (req.return_old() && previous) {
    resp->set_found(true);
    resp->set_item(*previous);
  }
  return Status::ok();
}

}  // namespace

void ReplicaCounters::sample_key(uint64_t hash) {
  std::lock_guard lock(sample_mu);
  ++sampled;
  if (sample.size() < kSampleSize) {
    sample.push_back(hash);
    return;
  }
  // Reservoir sampling: each request seen so far has the same chance to be in the sample.
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  const uint64_t slot = rng % sampled;
  if (slot < kSampleSize) sample[slot] = hash;
}

std::vector<uint64_t> ReplicaCounters::take_sample() {
  std::lock_guard lock(sample_mu);
  sampled = 0;
  return std::exchange(sample, {});
}

void FamilyRefs::add(const std::string& family, const std::string& partition_id) {
  std::lock_guard lock(mu_);
  users_[family].insert(partition_id);
}

bool FamilyRefs::release(const std::string& family, const std::string& partition_id) {
  std::lock_guard lock(mu_);
  auto it = users_.find(family);
  if (it == users_.end()) return true;
  it->second.erase(partition_id);
  if (!it->second.empty()) return false;
  users_.erase(it);
  return true;
}

bool FamilyRefs::used(const std::string& family) const {
  std::lock_guard lock(mu_);
  auto it = users_.find(family);
  return it != users_.end() && !it->second.empty();
}

uint64_t key_hash(std::string_view storage_key) {
  uint64_t h = 0;
  for (size_t i = 0; i < 8 && i < storage_key.size(); ++i) {
    h = (h << 8) | static_cast<uint8_t>(storage_key[i]);
  }
  return h;
}

std::string range_begin_key(uint64_t lo) {
  std::string k;
  put_be64(&k, lo);
  return k;
}

std::string range_end_key(uint64_t hi) {
  // Past hash 2^64-1: every storage key (8-byte hash, then a 4-byte length below 2^24)
  // sorts before nine 0xff bytes.
  if (hi == ~0ull) return std::string(9, '\xff');
  return range_begin_key(hi + 1);
}

void release_family(store::Store& store, FamilyRefs& refs, const store::CfPtr& cf,
                    const std::string& partition_id, uint64_t lo, uint64_t hi) {
  const std::string name = cf->name();
  if (refs.release(name, partition_id)) {
    if (Status s = store.drop_family(name); !s.is_ok()) {
      spdlog::warn("replica {}: dropping family {}: {}", partition_id, name, s.to_string());
    }
    return;
  }
  store::Batch b;
  b.erase_range(cf, range_begin_key(lo), range_end_key(hi));
  if (Status s = store.write(b, /*sync=*/false); !s.is_ok()) {
    // Left behind, the items are invisible (every read is bounded by a replica's range).
    spdlog::warn("replica {}: deleting its range from shared family {}: {}", partition_id, name,
                 s.to_string());
  }
}

std::string log_key(const std::string& partition_id, uint64_t index) {
  std::string k = partition_id;
  k.push_back('/');
  put_be64(&k, index);
  return k;
}
std::string log_prefix_end(const std::string& partition_id) { return partition_id + "0"; }  // '/'+1
std::string meta_key(const std::string& partition_id) { return "replica/" + partition_id; }
std::string raft_state_key(const std::string& partition_id) { return "raft/" + partition_id; }
std::string data_family_name(const std::string& partition_id) { return "r/" + partition_id; }

std::string record_family(const storage::v1::ReplicaRecord& record) {
  return record.data_family().empty() ? data_family_name(record.replica().partition_id())
                                      : record.data_family();
}

uint64_t record_raft_id(const storage::v1::ReplicaRecord& record, const std::string& self_node) {
  if (record.raft_id() != 0) return record.raft_id();
  for (const auto& p : group_peers(record.replica(), self_node)) {
    if (p.node_id() == self_node) return p.raft_id();
  }
  return 0;
}

std::vector<storage::v1::Peer> group_peers(const storage::v1::ReplicaDescriptor& d,
                                           const std::string& self_node) {
  std::vector<storage::v1::Peer> peers(d.peers().begin(), d.peers().end());
  if (peers.empty()) {
    storage::v1::Peer p;
    p.set_raft_id(1);
    p.set_node_id(self_node);
    peers.push_back(std::move(p));
  }
  return peers;
}

void respond_data(const ReplicaEnv& env, const DataReply& to,
                  const storage::v1::DataResponse& resp) {
  // Observed first: whoever got the reply finds the request counted.
  observe_reply(env.request_durations, to);
  if (!to.subject.empty()) {
    auto s = env.nats->publish(to.subject, resp.SerializeAsString());
    if (!s.is_ok()) {
      spdlog::warn("replica {}: reply failed: {}", env.record.replica().partition_id(),
                   s.to_string());
    }
  }
}

void observe_reply(const RequestDurations* durations, const DataReply& to) {
  if (!durations || to.op < 0 || static_cast<size_t>(to.op) >= durations->size()) return;
  if (metrics::Histogram* h = (*durations)[to.op]) {
    h->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - to.received)
                   .count());
  }
}

void die(const ReplicaState& st, const char* what, const Status& s) {
  // In-memory Raft state already counts what failed to reach disk: continuing could
  // acknowledge what is not durable. A storage node that cannot write stops; restart recovers.
  spdlog::critical("replica {}: {} failed: {}; stopping the node", st.partition_id, what,
                   s.to_string());
  std::abort();
}

std::string leader_node(const ReplicaState& st) {
  auto it = st.peer_nodes.find(st.raft->leader());
  return it == st.peer_nodes.end() ? std::string() : it->second;
}

void publish_status(ReplicaState& st) {
  auto& c = *st.env->counters;
  c.leader.store(st.leader, std::memory_order_relaxed);
  c.term.store(st.raft->term(), std::memory_order_relaxed);
  c.commit_index.store(st.raft->commit_index(), std::memory_order_relaxed);
  c.applied_index.store(st.raft->applied_index(), std::memory_order_relaxed);
  c.items.store(st.item_count, std::memory_order_relaxed);
  c.size_bytes.store(st.data_bytes, std::memory_order_relaxed);
  c.snapshot_index.store(st.raft->snapshot_index(), std::memory_order_relaxed);
  c.elections_started.store(st.raft->elections_started(), std::memory_order_relaxed);
  raft::ConfState conf = st.raft->conf_state();
  if (st.group_dirty || conf != st.published_conf) {
    c.set_group({st.record.replica(), group_members(st)});
    st.published_conf = std::move(conf);
    st.group_dirty = false;
  }
}

namespace {

using Self = ReplicaSelf;

// A group's first leader campaigns again this often, this many times, while no leader is
// known (see campaign_retry_atom in actors.h).
constexpr auto kFirstCampaignRetry = std::chrono::milliseconds(25);
constexpr int kFirstCampaignRetries = 20;

// The request was not proposed here (or its entry was overwritten): safe to retry elsewhere.
void respond_not_leader(const ReplicaState& st, const DataReply& to,
                        std::string_view why = "not the leader") {
  storage::v1::DataResponse resp;
  std::string leader = leader_node(st);
  set_status(resp.mutable_status(),
             stale_route(std::string(why) + " of " + st.partition_id +
                         (leader.empty() ? "; election in progress" : "; leader=" + leader)));
  resp.set_leader_node_id(leader);
  respond(*st.env, to, resp);
}

// Tenths of read units for `bytes` read (4 KB units, at least one; half if eventually
// consistent).
uint64_t read_units_x10(uint64_t bytes, bool consistent) {
  const uint64_t units = std::max<uint64_t>(1, (bytes + 4095) / 4096);
  return units * (consistent ? 10 : 5);
}

void serve_read(ReplicaState& st, const DataCall& call) {
  auto& env = *st.env;
  const auto& req = call.request;
  env.counters->reads.fetch_add(1, std::memory_order_relaxed);
  env.counters->sample_key(req.hash());
  storage::v1::DataResponse resp;
  if (req.op() == storage::v1::DATA_OP_QUERY || req.op() == storage::v1::DATA_OP_SCAN) {
    Status s = read_range(env, st.record.replica(), req, &resp);
    set_status(resp.mutable_status(), s);
    env.counters->read_units_x10.fetch_add(read_units_x10(resp.scanned_bytes(), req.consistent_read()),
                                           std::memory_order_relaxed);
    return respond(env, call.reply, resp);
  }
  std::string value;
  Status s = env.store->get(env.data_cf, item::storage_key(req.hash(), req.pk(), req.sk()), &value);
  env.counters->read_units_x10.fetch_add(read_units_x10(value.size(), req.consistent_read()),
                                         std::memory_order_relaxed);
  if (s.is_ok()) {
    resp.set_found(true);
    resp.set_item(std::move(value));
  } else if (s.code() != Code::kNotFound) {
    return respond_error(env, call.reply, s);
  }
  set_status(resp.mutable_status(), Status::ok());
  respond(env, call.reply, resp);
}

// Leader: one lag series per other member (its match index behind the leader's last
// index); every series goes once this replica does not lead. Runs on ticks and leadership
// changes, not per message.
void publish_lag(ReplicaState& st) {
  auto& env = *st.env;
  if (!env.lag_family) return;
  const std::vector<raft::PeerProgress> peers =
      st.leader ? st.raft->peer_progress() : std::vector<raft::PeerProgress>{};
  for (auto it = env.lag_series.begin(); it != env.lag_series.end();) {
    const bool member = std::any_of(peers.begin(), peers.end(),
                                    [&](const raft::PeerProgress& p) { return p.id == it->first; });
    if (member) {
      ++it;
      continue;
    }
    env.lag_family->Remove(it->second.gauge);
    it = env.lag_series.erase(it);
  }
  const uint64_t last = st.raft->last_index();
  for (const auto& p : peers) {
    // A new leader knows no match index (0) until the member answers its first append:
    // that would read as the whole log behind. Such a member shows up once it answers, or
    // after an election timeout without an answer.
    if (p.match == 0 && st.leader_ticks < env.election_ticks && !env.lag_series.count(p.id)) {
      continue;
    }
    auto& series = env.lag_series[p.id];
    if (!series.gauge || !series.peer_known) {
      auto node = st.peer_nodes.find(p.id);
      const bool known = node != st.peer_nodes.end();
      std::string peer = known ? node->second : "raft-" + std::to_string(p.id);
      for (const auto& [id, other] : env.lag_series) {
        // Two members on one node (never expected): one series each all the same.
        if (id != p.id && other.gauge && other.peer == peer) {
          peer += "#" + std::to_string(p.id);
          break;
        }
      }
      if (!series.gauge || peer != series.peer) {
        if (series.gauge) env.lag_family->Remove(series.gauge);
        metrics::Labels labels = env.labels;
        labels["peer"] = peer;
        series.gauge = &env.lag_family->Add(labels);
        series.peer = std::move(peer);
      }
      series.peer_known = known;
    }
    series.gauge->Set(static_cast<double>(last > p.match ? last - p.match : 0));
  }
}

// After every input to the Raft node: notice leadership changes.
void check_role(ReplicaState& st) {
  bool now_leader = st.raft->role() == raft::Role::kLeader;
  if (now_leader && (!st.leader || st.leader_term != st.raft->term())) {
    st.leader = true;
    st.leader_term = st.raft->term();
    // The new leader's no-op is its last entry. Until it is applied, earlier terms' entries
    // may still be unapplied here, so writes (decided against applied state) wait for it.
    st.leader_ready_index = st.raft->last_index();
    st.pending.clear();
    st.env->counters->elections_won.fetch_add(1, std::memory_order_relaxed);
    st.leader_ticks = 0;
    spdlog::info("replica {}: leader in term {}", st.partition_id, st.leader_term);
  } else if (!now_leader && st.leader) {
    st.leader = false;
    st.pending.clear();
    for (const auto& call : st.blocked_writes) respond_not_leader(st, call->reply);
    st.blocked_writes.clear();
    for (const auto& r : st.reads) respond_not_leader(st, r.call->reply);
    st.reads.clear();
    publish_lag(st);
    spdlog::info("replica {}: no longer leader (term {}, leader {})", st.partition_id,
                 st.raft->term(), leader_node(st));
  }
  check_membership(st);
  publish_status(st);
}

void propose_write(Self self, const DataCallPtr& call);
void drive(Self self);

// A split of this leader is proposed and not applied yet, and `hash` goes to the new partition.
bool splitting_off(const ReplicaState& st, uint64_t hash) {
  return st.membership && st.membership->request.op() == storage::v1::ADMIN_OP_SPLIT &&
         st.membership->index != 0 && hash >= st.membership->request.split_hash();
}

// Applies a SplitEntry at `index` (every replica, same result): P [lo, hi] keeps [lo, m-1];
// a replica of the new partition [m, hi] is created on this node with the same members, on
// P's data family, its Raft state starting at kSplitInitIndex; its actor is started.
void apply_split(ReplicaState& st, uint64_t index, const storage::v1::SplitEntry& split) {
  auto& env = *st.env;
  auto* d = st.record.mutable_replica();
  const uint64_t m = split.split_hash();
  const std::string& child_id = split.new_partition_id();
  if (m <= d->hash_lo() || m > d->hash_hi() || child_id.empty() || child_id == st.partition_id) {
    // The leader checked this; an entry that does not fit is skipped alike everywhere.
    spdlog::error("replica {}: split at {:016x} into {} does not fit [{:016x}, {:016x}]; skipped",
                  st.partition_id, m, child_id, d->hash_lo(), d->hash_hi());
    return;
  }
  // The child's items: counted here (keys only), not copied.
  const std::string begin = range_begin_key(m), end = range_end_key(d->hash_hi());
  uint64_t child_items = 0, child_bytes = 0;
  {
    auto it = env.store->iterator(env.data_cf);
    for (it->Seek(begin); it->Valid() && it->key().compare(end) < 0; it->Next()) {
      ++child_items;
      child_bytes += it->key().size() + it->value().size();
    }
    if (!it->status().ok()) die(st, "counting a split's items", internal_error(it->status().ToString()));
  }
  const raft::ConfState conf = st.raft->conf_state();

  // The child may be open here already: metadata re-created it because this node had not
  // applied the split (far behind, or its parent came from an image past it), and it took the
  // child's data from the child's leader into its own family. Then the parent only gives up
  // the range, and its copy of the child's items goes (unless the child shares this family:
  // then this split was applied before and nothing is left to do but the range).
  std::string existing;
  const bool child_open = env.store->get(env.meta_cf, meta_key(child_id), &existing).is_ok();
  const uint64_t hi = d->hash_hi();

  // The parent keeps [lo, m-1].
  d->set_hash_hi(m - 1);
  st.item_count = st.item_count >= child_items ? st.item_count - child_items : 0;
  st.data_bytes = st.data_bytes >= child_bytes ? st.data_bytes - child_bytes : 0;
  st.record.set_applied_index(index);
  st.record.set_item_count(st.item_count);
  st.record.set_data_bytes(st.data_bytes);
  store::Batch b;
  b.put(env.meta_cf, meta_key(st.partition_id), st.record.SerializeAsString());

  if (child_open) {
    storage::v1::ReplicaRecord other;
    const bool shared =
        other.ParseFromString(existing) && record_family(other) == env.data_cf->name();
    if (!shared) b.erase_range(env.data_cf, begin, end);
    if (Status s = env.store->write(b, /*sync=*/false); !s.is_ok()) die(st, "split", s);
    st.group_dirty = true;
    st.last_split_index = index;
    spdlog::info("replica {}: split at {:016x} (index {}): keeps [{:016x}, {:016x}]; {} was "
                 "already open here{}", st.partition_id, m, index, d->hash_lo(), d->hash_hi(),
                 child_id, shared ? "" : " (this copy of its " + std::to_string(child_items) +
                                             " items deleted)");
    return;
  }

  storage::v1::ReplicaRecord child;
  auto* cd = child.mutable_replica();
  cd->set_table_id(d->table_id());
  cd->set_partition_id(child_id);
  cd->set_hash_lo(m);
  cd->set_hash_hi(hi);
  for (const auto& p : group_members(st)) *cd->add_peers() = p;
  child.set_applied_index(kSplitInitIndex);
  child.set_item_count(child_items);
  child.set_data_bytes(child_bytes);
  child.set_data_family(env.data_cf->name());
  child.set_raft_id(st.record.raft_id());
  for (auto v : conf.voters) child.mutable_initial_conf()->add_voters(v);

  b.put(env.meta_cf, meta_key(child_id), child.SerializeAsString());
  raft::v1::HardState hs;
  hs.set_term(kSplitInitTerm);
  hs.set_commit(kSplitInitIndex);
  b.put(env.meta_cf, raft_state_key(child_id), hs.SerializeAsString());
  put_snapshot_meta(&b, env.meta_cf, child_id, raft::SnapshotMeta{kSplitInitIndex, kSplitInitTerm, conf});
  // Unsynced: the split entry is durable in P's log; losing this batch re-applies it at
  // restart. The child's own synced writes (votes, entries) follow it in the WAL.
  if (Status s = env.store->write(b, /*sync=*/false); !s.is_ok()) die(st, "split", s);
  env.families->add(env.data_cf->name(), child_id);
  st.group_dirty = true;
  st.last_split_index = index;
  spdlog::info("replica {}: split at {:016x} (index {}): keeps [{:016x}, {:016x}] with {} items, "
               "{} takes [{:016x}, {:016x}] with {} items",
               st.partition_id, m, index, d->hash_lo(), d->hash_hi(), st.item_count, child_id, m,
               hi, child_items);
  if (env.open_child) env.open_child(child_id, st.leader);
}

void catch_up_ticks(ReplicaState& st) {
  const auto now = std::chrono::steady_clock::now();
  const auto interval = st.env->tick_interval;
  int due = 0;
  while (st.next_tick <= now) {
    st.next_tick += interval;
    ++due;
  }
  // After a long pause, twice the election timeout is as good as any more.
  due = std::min(due, 4 * st.env->election_ticks);
  for (int i = 0; i < due; ++i) st.raft->tick();
  for (auto& r : st.reads) r.ticks_left -= due;
  membership_ticks(st, due);
  if (st.leader) st.leader_ticks += due;
  if (due > 0) {
    check_role(st);
    publish_lag(st);
  }
}

// Strongly consistent reads: served by a leader holding its lease once everything committed
// when the read was admitted (its read index) is applied.
void process_reads(ReplicaState& st) {
  std::deque<ReplicaState::DeferredRead> keep;
  for (auto& r : st.reads) {
    if (!r.have_index && st.raft->has_lease()) {
      r.have_index = true;
      r.read_index = st.raft->commit_index();
    }
    if (r.have_index && st.raft->applied_index() >= r.read_index) {
      serve_read(st, *r.call);
    } else if (r.ticks_left <= 0) {
      respond_error(*st.env, r.call->reply,
                    unavailable("leader of " + st.partition_id + " holds no read lease yet"));
    } else {
      keep.push_back(std::move(r));
    }
  }
  st.reads = std::move(keep);
}

void unblock_writes(Self self) {
  auto& st = self->state;
  while (st.leader && st.raft->applied_index() >= st.leader_ready_index &&
         !st.blocked_writes.empty()) {
    DataCallPtr call = std::move(st.blocked_writes.front());
    st.blocked_writes.pop_front();
    propose_write(self, call);
  }
}

// Second half of a Raft turn, once its hard state and entries are durable: send, apply,
// acknowledge, advance.
void finish_turn(Self self, raft::Ready& rd) {
  auto& st = self->state;
  auto& env = *st.env;
  if (rd.snapshot) finish_install(st);
  std::vector<const raft::Message*> images;  // kSnapshot: sent once this turn is applied
  for (const auto& m : rd.messages) {
    if (m.type == raft::MessageType::kSnapshot) {
      images.push_back(&m);
      continue;
    }
    auto it = st.peer_nodes.find(m.to);
    if (it != st.peer_nodes.end()) env.outbox->send(it->second, st.partition_id, m);
  }
  if (!rd.committed.empty()) {
    store::Batch batch;
    uint64_t writes = 0;
    std::set<uint64_t> refused;  // writes to keys a split took away before they applied
    for (const auto& e : rd.committed) {
      if (e.type == raft::EntryType::kConfChange) apply_conf_change(st, e);
      if (e.type != raft::EntryType::kNormal) continue;
      storage::v1::LogEntry le;
      if (!le.ParseFromString(e.data)) die(st, "decoding committed entry", internal_error("bad entry"));
      if (le.has_peer()) {
        apply_directory_entry(st, le.peer());
        continue;
      }
      if (le.has_split()) {
        // What precedes the split is applied first (the split counts what the family holds).
        st.record.set_applied_index(e.index - 1);
        st.record.set_item_count(st.item_count);
        st.record.set_data_bytes(st.data_bytes);
        batch.put(env.meta_cf, meta_key(st.partition_id), st.record.SerializeAsString());
        if (Status s = env.store->write(batch, /*sync=*/false); !s.is_ok()) die(st, "apply", s);
        batch = store::Batch();
        apply_split(st, e.index, le.split());
        continue;
      }
      const auto& range = st.record.replica();
      if (const uint64_t h = key_hash(le.key()); h < range.hash_lo() || h > range.hash_hi()) {
        // Deterministic on every replica: the range at this point of the log is the same.
        refused.insert(e.index);
        if (auto it = st.pending.find(le.key()); it != st.pending.end() && it->second.index == e.index) {
          st.pending.erase(it);
        }
        continue;
      }
      if (le.op() == storage::v1::DATA_OP_PUT) batch.put(env.data_cf, le.key(), le.item());
      else batch.erase(env.data_cf, le.key());
      st.item_count = static_cast<uint64_t>(static_cast<int64_t>(st.item_count) + le.item_delta());
      st.data_bytes = static_cast<uint64_t>(static_cast<int64_t>(st.data_bytes) + le.bytes_delta());
      ++writes;
      if (auto it = st.pending.find(le.key()); it != st.pending.end() && it->second.index == e.index) {
        st.pending.erase(it);
      }
    }
    st.record.set_applied_index(rd.committed.back().index);
    st.record.set_item_count(st.item_count);
    st.record.set_data_bytes(st.data_bytes);
    batch.put(env.meta_cf, meta_key(st.partition_id), st.record.SerializeAsString());
    // Not synced: the entries are durable in the log, and a replica that loses this write
    // re-applies them from its recorded applied index at restart.
    if (Status s = env.store->write(batch, /*sync=*/false); !s.is_ok()) die(st, "apply", s);
    env.counters->writes.fetch_add(writes, std::memory_order_relaxed);
    for (const auto& e : rd.committed) {
      auto [lo, hi] = st.waiters.equal_range(e.index);
      const bool moved = refused.count(e.index) > 0;
      for (auto it = lo; it != hi; ++it) {
        if (moved) {
          // Not applied: the key now belongs to the split's new partition; the router
          // refreshes its map and retries there.
          respond_error(env, it->second.reply,
                        stale_route("key range not owned by replica " + st.partition_id +
                                    " (split)"));
        } else if (it->second.term == e.term) {
          respond(env, it->second.reply, *it->second.resp);
        } else {
          respond_not_leader(st, it->second.reply, "write superseded by a new leader");
        }
      }
      st.waiters.erase(lo, hi);
    }
  }
  st.raft->advance();
  for (const raft::Message* m : images) send_image(self, *m);
  maybe_compact(st);
  check_role(st);
  unblock_writes(self);
  if (!st.reads.empty()) process_reads(st);
}

// First half of a Raft turn: take the Ready, persist what must be durable before anything
// produced with it leaves this node (via the node's group commit), then finish_turn.
void drive(Self self) {
  auto& st = self->state;
  auto& env = *st.env;
  while (!st.turn && st.raft->has_ready()) {
    raft::Ready rd = st.raft->ready();
    bool sync = !rd.entries.empty();
    store::Batch batch;
    bool write = false;
    if (rd.snapshot) {
      // Replaces the whole log (one range delete, rare), the record and the data family.
      prepare_install(st, *rd.snapshot, &batch);
      write = sync = true;
    }
    if (!rd.entries.empty()) {
      write = true;
      const uint64_t first = rd.entries.front().index, last = rd.entries.back().index;
      // A conflicting suffix beyond the new entries goes away (point deletes: no range
      // tombstones in the log family).
      for (uint64_t i = std::max(first, last + 1); !rd.snapshot && i <= st.log_last; ++i) {
        batch.erase(env.log_cf, log_key(st.partition_id, i));
      }
      raft::v1::Entry pe;
      for (const auto& e : rd.entries) {
        to_proto(e, &pe);
        batch.put(env.log_cf, log_key(st.partition_id, e.index), pe.SerializeAsString());
      }
      st.log_last = last;
    }
    if (rd.hard_state) {
      write = true;
      // Term and vote must be durable before any message of this turn; a commit index alone
      // can be re-learned, so commit-only changes skip the fsync.
      if (rd.hard_state->term != st.persisted.term || rd.hard_state->vote != st.persisted.vote) {
        sync = true;
      }
      st.persisted = *rd.hard_state;
      raft::v1::HardState hs;
      hs.set_term(rd.hard_state->term);
      hs.set_vote(rd.hard_state->vote);
      hs.set_commit(rd.hard_state->commit);
      batch.put(env.meta_cf, raft_state_key(st.partition_id), hs.SerializeAsString());
    }
    if (sync) {
      uint64_t seq = ++st.turn_seq;
      st.turn = std::move(rd);
      env.committer->submit(std::move(batch),
                            [actor = caf::actor_cast<caf::actor>(self), seq](const Status& s) {
                              if (!s.is_ok()) {
                                spdlog::critical("raft log write failed: {}; stopping the node",
                                                 s.to_string());
                                std::abort();
                              }
                              caf::anon_send(actor, persisted_atom_v, seq);
                            });
      return;
    }
    if (write) {
      if (Status s = env.store->write(batch, /*sync=*/false); !s.is_ok()) die(st, "raft state", s);
    }
    finish_turn(self, rd);
  }
  // No turn in flight and nothing ready: Raft holds no accepted snapshot that could use them.
  if (!st.turn && !st.staged.empty()) discard_staged(st);
}

void propose_write(Self self, const DataCallPtr& call) {
  auto& st = self->state;
  auto& env = *st.env;
  const auto& req = call->request;
  std::string skey = item::storage_key(req.hash(), req.pk(), req.sk());

  // The previous image: a proposed, not yet applied write wins over what is stored.
  std::optional<std::string> previous;
  const ReplicaState::Pending* seen = nullptr;
  if (auto it = st.pending.find(skey); it != st.pending.end()) {
    previous = it->second.image;
    seen = &it->second;
  } else {
    std::string value;
    Status s = env.store->get(env.data_cf, skey, &value);
    if (s.is_ok()) previous = std::move(value);
    else if (s.code() != Code::kNotFound) return respond_error(env, call->reply, s);
  }

  auto resp = std::make_shared<storage::v1::DataResponse>();
  set_status(resp->mutable_status(), Status::ok());
  WriteOutcome out;
  Status decided = decide_write(req, previous, &out, resp.get());
  if (!decided.is_ok() || out.condition_failed) {
    if (!decided.is_ok()) {
      resp = std::make_shared<storage::v1::DataResponse>();
      set_status(resp->mutable_status(), decided);
    }
    if (!seen) return respond(env, call->reply, *resp);
    // Decided against a write that is not committed yet: answer once it is.
    st.waiters.emplace(seen->index, ReplicaState::Waiter{seen->term, call->reply, std::move(resp)});
    return;
  }
  bool is_put = out.image.has_value();
  {
    // Load for the autoscaler: 1 KB write units of the larger image.
    const uint64_t bytes = std::max<uint64_t>(previous ? previous->size() : 0,
                                              is_put ? out.image->size() : 0);
    env.counters->write_units_x10.fetch_add(std::max<uint64_t>(1, (bytes + 1023) / 1024) * 10,
                                            std::memory_order_relaxed);
    env.counters->sample_key(req.hash());
  }

  // The entry holds the resulting image, so applying it is deterministic on every replica.
  storage::v1::LogEntry entry;
  entry.set_op(is_put ? storage::v1::DATA_OP_PUT : storage::v1::DATA_OP_DELETE);
  entry.set_key(skey);
  if (is_put) entry.set_item(*out.image);
  entry.set_item_delta(is_put && !previous ? 1 : (!is_put && previous ? -1 : 0));
  entry.set_bytes_delta(static_cast<int64_t>(is_put ? skey.size() + out.image->size() : 0) -
                        static_cast<int64_t>(previous ? skey.size() + previous->size() : 0));
  auto id = st.raft->propose(entry.SerializeAsString());
  if (!id.ok()) return respond_not_leader(st, call->reply);

  resp->set_applied_index(id->index);
  st.pending[skey] = ReplicaState::Pending{id->index, id->term, std::move(out.image)};
  {
    // Entries of an older term at this index were overwritten: never applied.
    auto [lo, hi] = st.waiters.equal_range(id->index);
    for (auto it = lo; it != hi; ++it) {
      respond_not_leader(st, it->second.reply, "write superseded by a new leader");
    }
    st.waiters.erase(lo, hi);
  }
  st.waiters.emplace(id->index, ReplicaState::Waiter{id->term, call->reply, std::move(resp)});
  drive(self);
}

void handle_data(Self self, const DataCallPtr& call) {
  auto& st = self->state;
  auto& env = *st.env;
  const auto& req = call->request;
  const auto& d = st.record.replica();
  if (req.table_id() != d.table_id() || req.hash() < d.hash_lo() || req.hash() > d.hash_hi()) {
    return respond_error(env, call->reply,
                         stale_route("key range not owned by replica " + d.partition_id()));
  }
  switch (req.op()) {
    case storage::v1::DATA_OP_GET:
    case storage::v1::DATA_OP_QUERY:
    case storage::v1::DATA_OP_SCAN:
      if (!req.consistent_read() && (st.leader || req.any_replica())) return serve_read(st, *call);
      if (!st.leader) return respond_not_leader(st, call->reply);
      st.reads.push_back({call, false, 0, env.read_wait_ticks});
      return process_reads(st);
    case storage::v1::DATA_OP_PUT:
    case storage::v1::DATA_OP_DELETE:
    case storage::v1::DATA_OP_UPDATE:
      if (!st.leader) return respond_not_leader(st, call->reply);
      if (splitting_off(st, req.hash())) {
        // Its entry would follow the split's in the log, where the key is no longer ours.
        return respond_error(env, call->reply,
                             stale_route("key range not owned by replica " + d.partition_id() +
                                         " (being split)"));
      }
      if (st.raft->applied_index() < st.leader_ready_index) {
        st.blocked_writes.push_back(call);
        return;
      }
      return propose_write(self, call);
    default:
      return respond_error(env, call->reply, invalid_argument("unknown data op"));
  }
}

// Rebuilds the Raft node from what earlier turns persisted: the hard state, the saved
// snapshot meta (compaction point or installed image) and the log after it.
Status restore(ReplicaState& st) {
  auto& env = *st.env;
  st.record = env.record;
  const uint64_t self_id = record_raft_id(st.record, env.self_node);
  if (self_id == raft::kNoNode) return internal_error("node is not a member of " + st.partition_id);
  st.record.set_raft_id(self_id);
  load_directory(st);
  if (!st.record.has_data_bytes()) {
    // A record from before data bytes were kept: the family holds exactly what is applied.
    const auto& d = st.record.replica();
    const std::string end = range_end_key(d.hash_hi());
    uint64_t bytes = 0;
    auto it = env.store->iterator(env.data_cf);
    for (it->Seek(range_begin_key(d.hash_lo())); it->Valid() && it->key().compare(end) < 0;
         it->Next()) {
      bytes += it->key().size() + it->value().size();
    }
    st.data_bytes = bytes;
    st.record.set_data_bytes(bytes);
  }
  raft::Config cfg;
  cfg.id = self_id;
  // The initial configuration (used only while neither the log nor a snapshot says otherwise).
  // A joining replica has none: it stays passive (a node that is not a voter never campaigns)
  // and learns its membership from the log or the image the leader sends.
  if (st.record.has_initial_conf()) {
    cfg.voters.assign(st.record.initial_conf().voters().begin(),
                      st.record.initial_conf().voters().end());
  } else {
    for (const auto& p : group_peers(st.record.replica(), env.self_node)) {
      if (!p.learner()) cfg.voters.push_back(p.raft_id());
    }
  }
  cfg.election_ticks = env.election_ticks;
  cfg.heartbeat_ticks = 1;
  cfg.max_entries_per_msg = 16;
  cfg.seed = std::hash<std::string>{}(st.partition_id + "@" + env.self_node);
  cfg.applied = st.record.applied_index();

  raft::HardState hs;
  std::string raw;
  if (env.store->get(env.meta_cf, raft_state_key(st.partition_id), &raw).is_ok()) {
    raft::v1::HardState p;
    if (!p.ParseFromString(raw)) return internal_error("corrupt raft state of " + st.partition_id);
    hs = {p.term(), p.vote(), p.commit()};
  }
  raft::SnapshotMeta snap;
  SHOAL_RETURN_IF_ERROR(load_snapshot_meta(*env.store, env.meta_cf, st.partition_id, &snap));
  std::vector<raft::Entry> log;
  auto it = env.store->iterator(env.log_cf);
  const std::string begin = st.partition_id + "/", end = log_prefix_end(st.partition_id);
  for (it->Seek(begin); it->Valid() && it->key().compare(end) < 0; it->Next()) {
    raft::v1::Entry pe;
    raft::Entry e;
    if (!pe.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) ||
        !from_proto(pe, &e)) {
      return internal_error("corrupt raft log of " + st.partition_id);
    }
    if (e.index <= snap.index) continue;  // compacted
    if (e.index != snap.index + log.size() + 1) {
      return internal_error("raft log of " + st.partition_id + " has a gap at " +
                            std::to_string(snap.index + log.size() + 1));
    }
    log.push_back(std::move(e));
  }
  const uint64_t last = snap.index + log.size();
  st.log_last = last;
  hs.commit = std::min<uint64_t>(hs.commit, last);
  if (cfg.applied > hs.commit) hs.commit = std::min<uint64_t>(cfg.applied, last);
  hs.commit = std::max(hs.commit, snap.index);
  st.persisted = hs;
  st.raft = std::make_unique<raft::Node>(std::move(cfg), hs, std::move(snap), std::move(log));
  return Status::ok();
}

}  // namespace

caf::behavior replica_actor(caf::stateful_actor<ReplicaState>* self,
                            std::shared_ptr<ReplicaEnv> env) {
  auto& st = self->state;
  st.env = env;
  st.partition_id = env->record.replica().partition_id();
  st.item_count = env->record.item_count();
  st.data_bytes = env->record.data_bytes();
  if (Status s = restore(st); !s.is_ok()) {
    spdlog::critical("replica {}: {}", st.partition_id, s.to_string());
    self->quit(caf::exit_reason::user_shutdown);
    return {};
  }
  publish_status(st);
  st.next_tick = std::chrono::steady_clock::now() + env->tick_interval;

  return {
      [self](const DataCallPtr& call) {
        catch_up_ticks(self->state);
        handle_data(self, call);
      },
      [self](const RaftMessagePtr& m) {
        auto& st = self->state;
        catch_up_ticks(st);
        st.raft->step(*m);
        check_role(st);
        drive(self);
      },
      [self](tick_atom) {
        auto& st = self->state;
        catch_up_ticks(st);
        if (!st.reads.empty()) process_reads(st);
        drive(self);
      },
      [self](campaign_atom) {
        auto& st = self->state;
        catch_up_ticks(st);
        if (Status s = st.raft->campaign(); !s.is_ok()) {
          spdlog::warn("replica {}: campaign: {}", st.partition_id, s.to_string());
        }
        check_role(st);
        drive(self);
        st.campaign_retries = kFirstCampaignRetries;
        self->delayed_send(self, kFirstCampaignRetry, campaign_retry_atom_v);
      },
      [self](campaign_retry_atom) {
        auto& st = self->state;
        catch_up_ticks(st);
        if (st.leader || st.raft->leader() != raft::kNoNode || st.campaign_retries <= 0 ||
            !st.raft->is_voter(st.raft->id())) {
          st.campaign_retries = 0;
          return;
        }
        --st.campaign_retries;
        if (Status s = st.raft->campaign(); !s.is_ok()) {
          spdlog::warn("replica {}: campaign: {}", st.partition_id, s.to_string());
        }
        check_role(st);
        drive(self);
        self->delayed_send(self, kFirstCampaignRetry, campaign_retry_atom_v);
      },
      [self](const MembershipCallPtr& call) {
        auto& st = self->state;
        catch_up_ticks(st);
        handle_membership(st, call);
        drive(self);
      },
      [self](const StagedSnapshotPtr& staged) {
        auto& st = self->state;
        catch_up_ticks(st);
        keep_staged(st, staged);
        st.raft->step(staged->message);
        check_role(st);
        drive(self);
      },
      [self](snapshot_sent_atom, uint64_t to, bool ok) { image_sent(self->state, to, ok); },
      [self](persisted_atom, uint64_t seq) {
        auto& st = self->state;
        if (!st.turn || seq != st.turn_seq) return;
        raft::Ready rd = std::move(*st.turn);
        st.turn.reset();
        finish_turn(self, rd);
        drive(self);
      },
  };
}

}  // namespace shoal::storage
