#include "shoal/raft/node.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

// Invariants that must hold whatever the build type: a Raft node that breaks one would risk
// acknowledged writes, so it stops the process (like a failed commit does).
#define RAFT_CHECK(cond, what)                                                        \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "raft invariant violated at %s:%d: %s\n", __FILE__, __LINE__, \
                   what);                                                             \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

namespace shoal::raft {

std::string_view message_type_name(MessageType t) {
  switch (t) {
    case MessageType::kPreVote: return "PreVote";
    case MessageType::kPreVoteResp: return "PreVoteResp";
    case MessageType::kVote: return "Vote";
    case MessageType::kVoteResp: return "VoteResp";
    case MessageType::kAppend: return "Append";
    case MessageType::kAppendResp: return "AppendResp";
    case MessageType::kHeartbeat: return "Heartbeat";
    case MessageType::kHeartbeatResp: return "HeartbeatResp";
    case MessageType::kTimeoutNow: return "TimeoutNow";
    case MessageType::kSnapshot: return "Snapshot";
  }
  return "?";
}

std::string_view role_name(Role r) {
  switch (r) {
    case Role::kFollower: return "follower";
    case Role::kPreCandidate: return "pre-candidate";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
  }
  return "?";
}

namespace {
constexpr int kContactCap = 1 << 30;

bool contains(const std::vector<NodeId>& v, NodeId id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

void insert_sorted(std::vector<NodeId>& v, NodeId id) {
  auto it = std::lower_bound(v.begin(), v.end(), id);
  if (it == v.end() || *it != id) v.insert(it, id);
}

void erase_id(std::vector<NodeId>& v, NodeId id) {
  v.erase(std::remove(v.begin(), v.end(), id), v.end());
}

// Sorted, without duplicates, no id 0, learners disjoint from voters.
ConfState normalized(ConfState c) {
  auto clean = [](std::vector<NodeId>& v) {
    erase_id(v, kNoNode);
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  clean(c.voters);
  clean(c.learners);
  for (NodeId v : c.voters) erase_id(c.learners, v);
  return c;
}

void put_u64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool get_u64(std::string_view& s, uint64_t* v) {
  if (s.size() < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r |= static_cast<uint64_t>(static_cast<uint8_t>(s[i])) << (8 * i);
  s.remove_prefix(8);
  *v = r;
  return true;
}

bool get_ids(std::string_view& s, std::vector<NodeId>* out) {
  uint64_t n = 0;
  if (!get_u64(s, &n) || n > s.size() / 8) return false;
  out->clear();
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    if (!get_u64(s, &id)) return false;
    out->push_back(id);
  }
  return true;
}

constexpr char kConfChangeMagic = 'C';
constexpr char kConfChangeVersion = 1;
}  // namespace

// Layout: 'C', version 1, type (1 byte), node (u64 LE), voter count (u64) + voters (u64 each),
// learner count (u64) + learners.
std::string encode_conf_change(const ConfChange& cc, const ConfState& result) {
  std::string s;
  s.push_back(kConfChangeMagic);
  s.push_back(kConfChangeVersion);
  s.push_back(static_cast<char>(cc.type));
  put_u64(s, cc.node);
  put_u64(s, result.voters.size());
  for (NodeId v : result.voters) put_u64(s, v);
  put_u64(s, result.learners.size());
  for (NodeId v : result.learners) put_u64(s, v);
  return s;
}

bool decode_conf_change(std::string_view d, ConfChange* cc, ConfState* result) {
  if (d.size() < 3 || d[0] != kConfChangeMagic || d[1] != kConfChangeVersion) return false;
  const auto type = static_cast<uint8_t>(d[2]);
  if (type > static_cast<uint8_t>(ConfChange::Type::kRemove)) return false;
  d.remove_prefix(3);
  ConfChange c;
  c.type = static_cast<ConfChange::Type>(type);
  ConfState r;
  if (!get_u64(d, &c.node) || !get_ids(d, &r.voters) || !get_ids(d, &r.learners) || !d.empty()) {
    return false;
  }
  if (cc) *cc = c;
  if (result) *result = normalized(std::move(r));
  return true;
}

Node::Node(Config config, HardState state, std::vector<Entry> log)
    : Node(std::move(config), state, SnapshotMeta{}, std::move(log)) {}

Node::Node(Config config, HardState state, SnapshotMeta snapshot,
           std::vector<Entry> log_after_snapshot)
    : cfg_(std::move(config)),
      rng_(cfg_.seed * 0x9E3779B97F4A7C15ULL + cfg_.id),
      term_(state.term),
      vote_(state.vote),
      commit_(state.commit),
      persisted_hs_(state) {
  RAFT_CHECK(cfg_.id != kNoNode, "the node has an id");
  RAFT_CHECK(cfg_.election_ticks > 1 && cfg_.heartbeat_ticks > 0, "tick settings are positive");
  if (cfg_.lease_ticks <= 0) cfg_.lease_ticks = cfg_.election_ticks / 2;
  if (cfg_.max_inflight == 0) cfg_.max_inflight = 1;
  if (cfg_.max_entries_per_msg == 0) cfg_.max_entries_per_msg = 1;
  snap_index_ = snapshot.index;
  snap_term_ = snapshot.term;
  RAFT_CHECK(snap_index_ > 0 || snap_term_ == 0, "an empty snapshot has term 0");
  base_conf_ = normalized(snap_index_ > 0 ? std::move(snapshot.conf)
                                          : ConfState{cfg_.voters, cfg_.learners});
  log_ = std::move(log_after_snapshot);
  uint64_t prev_term = snap_term_;
  for (size_t i = 0; i < log_.size(); ++i) {
    const Entry& e = log_[i];
    RAFT_CHECK(e.index == snap_index_ + 1 + i, "the restored log is contiguous from its base");
    RAFT_CHECK(e.term >= prev_term, "terms never decrease along the log");
    prev_term = e.term;
    if (e.type == EntryType::kConfChange) {
      ConfState next;
      RAFT_CHECK(decode_conf_change(e.data, nullptr, &next), "a conf change entry decodes");
      conf_log_[e.index] = std::move(next);
    }
  }
  commit_ = std::max(commit_, snap_index_);  // a snapshot only holds committed state
  RAFT_CHECK(commit_ <= last_index(), "the commit index is within the log");
  stable_ = last_index();
  applied_ = std::max(snap_index_, std::min(cfg_.applied, commit_));
  now_ = 1;  // context 0 means "no send time"
  become_follower(term_, kNoNode);
}

bool Node::is_voter(NodeId id) const { return contains(conf().voters, id); }

bool Node::is_learner(NodeId id) const { return contains(conf().learners, id); }

uint64_t Node::last_conf_change_index() const {
  return conf_log_.empty() ? 0 : conf_log_.rbegin()->first;
}

const ConfState& Node::conf_at(uint64_t index) const {
  auto it = conf_log_.upper_bound(index);
  if (it == conf_log_.begin()) return base_conf_;
  return std::prev(it)->second;
}

uint64_t Node::term_at(uint64_t index) const {
  if (index == snap_index_) return snap_term_;
  if (index < snap_index_ || index > last_index()) return 0;
  return at(index).term;
}

const Entry* Node::entry_at(uint64_t index) const {
  if (index <= snap_index_ || index > last_index()) return nullptr;
  return &at(index);
}

void Node::reset_election_timeout() {
  randomized_timeout_ =
      cfg_.election_ticks + static_cast<int>(rng_() % static_cast<uint64_t>(cfg_.election_ticks));
}

void Node::reset(uint64_t term) {
  if (term != term_) {
    term_ = term;
    vote_ = kNoNode;
  }
  leader_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_election_timeout();
  votes_.clear();
  transferee_ = kNoNode;
  transfer_elapsed_ = 0;
  timeout_now_sent_ = false;
  pending_bcast_ = false;
  progress_.clear();
}

void Node::become_follower(uint64_t term, NodeId leader) {
  reset(term);
  role_ = Role::kFollower;
  leader_ = leader;
}

void Node::become_pre_candidate() {
  // Pre-vote changes neither term nor vote: a partitioned node cannot inflate terms.
  role_ = Role::kPreCandidate;
  leader_ = kNoNode;
  votes_.clear();
  election_elapsed_ = 0;
  reset_election_timeout();
}

void Node::become_candidate() {
  reset(term_ + 1);
  vote_ = cfg_.id;
  role_ = Role::kCandidate;
  ++elections_started_;
}

std::vector<PeerProgress> Node::peer_progress() const {
  std::vector<PeerProgress> out;
  if (role_ != Role::kLeader) return out;
  out.reserve(progress_.size());
  for (const auto& [id, pr] : progress_) {
    if (id == cfg_.id) continue;
    out.push_back(PeerProgress{id, pr.match, is_learner(id)});
  }
  return out;
}

void Node::become_leader() {
  reset(term_);
  role_ = Role::kLeader;
  leader_ = cfg_.id;
  on_conf_changed();  // a progress entry per member (and one for ourselves)
  // A no-op of the new term lets the leader commit (and so learn) everything before it.
  append_local(Entry{term_, last_index() + 1, EntryType::kNoop, {}});
  broadcast_append(true);
}

void Node::on_conf_changed() {
  if (role_ != Role::kLeader) return;
  const ConfState& c = conf();
  for (auto it = progress_.begin(); it != progress_.end();) {
    if (it->first != cfg_.id && !contains(c.voters, it->first) &&
        !contains(c.learners, it->first)) {
      it = progress_.erase(it);
    } else {
      ++it;
    }
  }
  auto add = [&](NodeId id) {
    if (progress_.count(id)) return;
    Progress pr;
    pr.next = last_index() + 1;
    if (id == cfg_.id) pr.match = stable_;
    progress_[id] = pr;
  };
  add(cfg_.id);
  for (NodeId v : c.voters) add(v);
  for (NodeId v : c.learners) add(v);
  if (transferee_ != kNoNode && !contains(c.voters, transferee_)) {
    transferee_ = kNoNode;
    transfer_elapsed_ = 0;
  }
}

void Node::campaign(bool pre, bool transfer) {
  if (!is_voter(cfg_.id)) return;  // learners and removed nodes never campaign
  MessageType type;
  uint64_t campaign_term;
  if (pre) {
    become_pre_candidate();
    type = MessageType::kPreVote;
    campaign_term = term_ + 1;
  } else {
    become_candidate();
    type = MessageType::kVote;
    campaign_term = term_;
  }
  votes_[cfg_.id] = true;
  if (quorum() <= 1) {
    if (pre) {
      campaign(false, transfer);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId v : conf().voters) {
    if (v == cfg_.id) continue;
    Message m;
    m.type = type;
    m.to = v;
    m.term = campaign_term;
    m.index = last_index();
    m.log_term = last_term();
    m.transfer = transfer;
    send(std::move(m));
  }
}

void Node::send(Message m) {
  m.from = cfg_.id;
  msgs_.push_back(std::move(m));
}

void Node::tick() {
  ++now_;
  if (since_leader_contact_ < kContactCap) ++since_leader_contact_;
  if (role_ == Role::kLeader) {
    ++heartbeat_elapsed_;
    ++election_elapsed_;
    if (transferee_ != kNoNode && ++transfer_elapsed_ >= cfg_.election_ticks) {
      transferee_ = kNoNode;  // abandoned; keep leading
      transfer_elapsed_ = 0;
    }
    for (auto& [id, pr] : progress_) {
      if (pr.state == Progress::State::kSnapshot &&
          ++pr.snapshot_elapsed >= cfg_.election_ticks) {
        // No answer: the snapshot (or its answer) was lost. Probe again, which sends a new
        // snapshot if the follower still needs one.
        pr.state = Progress::State::kProbe;
        pr.paused = false;
        pr.snapshot_elapsed = 0;
        pr.pending_snapshot = 0;
      }
    }
    if (election_elapsed_ >= cfg_.election_ticks) {
      election_elapsed_ = 0;
      if (cfg_.check_quorum) {
        size_t active = 0;
        for (NodeId v : conf().voters) {
          auto it = progress_.find(v);
          if (v == cfg_.id || (it != progress_.end() && it->second.recent_active)) ++active;
        }
        for (auto& [id, pr] : progress_) pr.recent_active = false;
        if (active < quorum()) {
          become_follower(term_, kNoNode);
          since_leader_contact_ = 0;  // do not vote at once: our own lease may be running
          return;
        }
      }
    }
    if (heartbeat_elapsed_ >= cfg_.heartbeat_ticks) {
      heartbeat_elapsed_ = 0;
      for (auto& [id, pr] : progress_) {
        if (id != cfg_.id) send_heartbeat(id);
      }
    }
    return;
  }
  ++election_elapsed_;
  if (election_elapsed_ >= randomized_timeout_) {
    election_elapsed_ = 0;
    campaign(cfg_.pre_vote, false);
  }
}

void Node::step(const Message& m) {
  // Messages from nodes outside our configuration are handled too (Raft dissertation 4.1):
  // a new member must accept the log from a leader it does not know yet, and a voter may
  // learn of its own promotion later than the others.
  if (m.to != cfg_.id || m.from == kNoNode || m.from == cfg_.id) return;
  const bool vote_request = m.type == MessageType::kPreVote || m.type == MessageType::kVote;
  const bool from_leader = m.type == MessageType::kAppend ||
                           m.type == MessageType::kHeartbeat ||
                           m.type == MessageType::kSnapshot;
  // A leader may hold a lease we promised: do not help elect another. This holds at equal
  // terms too: a stray higher-term response can move us to the candidate's term first.
  if (vote_request && m.term >= term_ && !m.transfer && cfg_.check_quorum &&
      (role_ == Role::kLeader || since_leader_contact_ < cfg_.election_ticks)) {
    return;
  }
  if (m.term > term_) {
    if (m.type == MessageType::kPreVote) {
      // Answer without adopting the (not yet real) campaign term.
    } else if (m.type == MessageType::kPreVoteResp && !m.reject) {
      // A granted pre-vote carries the future campaign term.
    } else {
      become_follower(m.term, from_leader ? m.from : kNoNode);
    }
  } else if (m.term < term_) {
    if (from_leader) {
      // A stale leader: tell it our term so it steps down (it may be cut off by pre-vote).
      Message r;
      r.type = MessageType::kHeartbeatResp;
      r.to = m.from;
      r.term = term_;
      send(std::move(r));
    } else if (m.type == MessageType::kPreVote) {
      Message r;
      r.type = MessageType::kPreVoteResp;
      r.to = m.from;
      r.term = term_;
      r.reject = true;
      send(std::move(r));
    }
    return;
  }

  if (vote_request) {
    handle_vote_request(m);
    return;
  }
  switch (role_) {
    case Role::kLeader: step_leader(m); break;
    case Role::kPreCandidate:
    case Role::kCandidate: step_candidate(m); break;
    case Role::kFollower: step_follower(m); break;
  }
}

bool Node::log_up_to_date(uint64_t index, uint64_t term) const {
  return term > last_term() || (term == last_term() && index >= last_index());
}

void Node::handle_vote_request(const Message& m) {
  // Any node answers, member or not: only the candidate's configuration decides whose votes
  // count, and a grant only says "your log is at least as up to date as mine".
  const bool pre = m.type == MessageType::kPreVote;
  const bool can_vote = vote_ == m.from || (vote_ == kNoNode && leader_ == kNoNode) ||
                        (pre && m.term > term_);
  Message r;
  r.type = pre ? MessageType::kPreVoteResp : MessageType::kVoteResp;
  r.to = m.from;
  if (can_vote && log_up_to_date(m.index, m.log_term)) {
    r.term = m.term;
    if (!pre) {
      vote_ = m.from;
      election_elapsed_ = 0;
    }
  } else {
    r.term = term_;
    r.reject = true;
  }
  send(std::move(r));
}

void Node::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
      leader_ = m.from;
      election_elapsed_ = 0;
      since_leader_contact_ = 0;
      if (m.type == MessageType::kAppend) {
        handle_append(m);
      } else if (m.type == MessageType::kHeartbeat) {
        handle_heartbeat(m);
      } else {
        handle_snapshot(m);
      }
      break;
    case MessageType::kTimeoutNow:
      campaign(false, true);
      break;
    default:
      break;
  }
}

void Node::step_candidate(const Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
      become_follower(m.term, m.from);
      step_follower(m);
      return;
    case MessageType::kPreVoteResp:
    case MessageType::kVoteResp: {
      const bool pre = role_ == Role::kPreCandidate;
      if (pre != (m.type == MessageType::kPreVoteResp)) return;
      if (pre && !m.reject && m.term != term_ + 1) return;
      votes_.emplace(m.from, !m.reject);
      size_t granted = 0, rejected = 0;
      for (NodeId v : conf().voters) {  // only voters of our configuration count
        auto it = votes_.find(v);
        if (it != votes_.end()) (it->second ? granted : rejected)++;
      }
      if (granted >= quorum()) {
        if (pre) {
          campaign(false, false);
        } else {
          become_leader();
        }
      } else if (rejected >= quorum()) {
        become_follower(term_, kNoNode);
      }
      return;
    }
    default:
      return;
  }
}

void Node::truncate_from(uint64_t index) {
  RAFT_CHECK(index > commit_, "committed entries are never overwritten");
  RAFT_CHECK(index > snap_index_, "compacted entries are never overwritten");
  log_.resize(index - snap_index_ - 1);
  stable_ = std::min(stable_, index - 1);
  ready_stable_ = std::min(ready_stable_, index - 1);
  auto from = conf_log_.lower_bound(index);
  if (from != conf_log_.end()) {
    conf_log_.erase(from, conf_log_.end());  // back to the configuration before them
    on_conf_changed();
  }
}

void Node::append_local(Entry e) {
  RAFT_CHECK(e.index == last_index() + 1, "entries are appended contiguously");
  RAFT_CHECK(e.term >= last_term(), "terms never decrease along the log");
  const bool conf_change = e.type == EntryType::kConfChange;
  if (conf_change) {
    ConfState next;
    RAFT_CHECK(decode_conf_change(e.data, nullptr, &next), "a conf change entry decodes");
    conf_log_[e.index] = std::move(next);  // in force from now on (dissertation 4.1)
  }
  log_.push_back(std::move(e));
  if (conf_change) on_conf_changed();
}

uint64_t Node::find_conflict_by_term(uint64_t index, uint64_t term) const {
  index = std::min(index, last_index());
  while (index > snap_index_ && term_at(index) > term) --index;
  return index;
}

void Node::handle_append(const Message& m) {
  Message r;
  r.type = MessageType::kAppendResp;
  r.to = m.from;
  r.term = term_;
  r.context = m.context;
  if (m.index < commit_) {
    r.index = commit_;
    send(std::move(r));
    return;
  }
  // From here m.index >= commit_ >= snap_index_: every index involved is in the log or past it.
  if (m.index <= last_index() && term_at(m.index) == m.log_term) {
    for (const Entry& e : m.entries) {
      if (e.index <= last_index()) {
        if (term_at(e.index) == e.term) continue;
        truncate_from(e.index);
      }
      append_local(e);
    }
    const uint64_t last_new = m.index + m.entries.size();
    commit_ = std::max(commit_, std::min(m.commit, last_new));
    r.index = last_new;
  } else {
    const uint64_t hint = find_conflict_by_term(std::min(m.index, last_index()), m.log_term);
    r.reject = true;
    r.index = m.index;
    r.reject_hint = hint;
    r.log_term = term_at(hint);
  }
  send(std::move(r));
}

void Node::handle_heartbeat(const Message& m) {
  // The leader sends min(commit, our match), so everything up to it matches its log.
  commit_ = std::max(commit_, std::min(m.commit, last_index()));
  Message r;
  r.type = MessageType::kHeartbeatResp;
  r.to = m.from;
  r.term = term_;
  r.context = m.context;
  send(std::move(r));
}

void Node::handle_snapshot(const Message& m) {
  if (!m.snapshot) return;  // malformed
  const SnapshotMeta& meta = m.snapshot->meta;
  Message r;
  r.type = MessageType::kAppendResp;
  r.to = m.from;
  r.term = term_;
  r.context = m.context;
  if (meta.index <= commit_) {
    // Nothing new (duplicate, or we caught up meanwhile): tell the leader where we are.
    r.index = commit_;
    send(std::move(r));
    return;
  }
  if (meta.term == 0 || meta.term > term_) return;  // malformed: a leader's log has no such term
  // meta.index > commit_ >= snap_index_. Keep what follows the snapshot if our log agrees
  // with it at its index (log matching); otherwise the whole log goes.
  if (meta.index <= last_index() && term_at(meta.index) == meta.term) {
    log_.erase(log_.begin(), log_.begin() + static_cast<ptrdiff_t>(meta.index - snap_index_));
    conf_log_.erase(conf_log_.begin(), conf_log_.upper_bound(meta.index));
  } else {
    log_.clear();
    conf_log_.clear();
  }
  snap_index_ = meta.index;
  snap_term_ = meta.term;
  base_conf_ = normalized(meta.conf);
  commit_ = meta.index;
  applied_ = meta.index;
  // The embedding replaces its whole log with the next Ready's entries: hand out again the
  // ones we kept.
  stable_ = snap_index_;
  ready_stable_ = std::min(ready_stable_, snap_index_);
  pending_snapshot_ = *m.snapshot;
  on_conf_changed();
  r.index = meta.index;
  send(std::move(r));
}

void Node::step_leader(const Message& m) {
  if (m.type == MessageType::kAppendResp) {
    handle_append_resp(m);
  } else if (m.type == MessageType::kHeartbeatResp) {
    handle_heartbeat_resp(m);
  }
}

void Node::note_ack(Progress& pr, const Message& m) {
  pr.recent_active = true;
  if (m.context == 0 || m.context > now_) return;
  if (!pr.lease_acked || m.context > pr.lease_ack_tick) {
    pr.lease_acked = true;
    pr.lease_ack_tick = m.context;
  }
}

void Node::handle_append_resp(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  note_ack(pr, m);
  if (m.reject) {
    if (pr.state == Progress::State::kSnapshot) return;  // an answer to an older append
    if (pr.state == Progress::State::kReplicate ? m.index <= pr.match
                                                : m.index != pr.next - 1) {
      return;  // stale (duplicated or reordered) rejection
    }
    uint64_t probe = m.reject_hint;
    if (m.log_term > 0) probe = find_conflict_by_term(m.reject_hint, m.log_term);
    pr.state = Progress::State::kProbe;
    pr.inflight.clear();
    pr.paused = false;
    pr.next = std::max(pr.match + 1, std::min(m.index, probe + 1));
    send_append(m.from, true);
    return;
  }
  const uint64_t acked = std::min(m.index, last_index());
  bool updated = false;
  if (acked > pr.match) {
    pr.match = acked;
    updated = true;
  }
  pr.next = std::max(pr.next, pr.match + 1);
  auto become_replicate = [&] {
    pr.state = Progress::State::kReplicate;
    pr.paused = false;
    pr.next = pr.match + 1;
    pr.inflight.clear();
    pr.pending_snapshot = 0;
    pr.snapshot_elapsed = 0;
  };
  if (pr.state == Progress::State::kSnapshot) {
    if (pr.match >= pr.pending_snapshot) become_replicate();  // installed
  } else if (pr.state == Progress::State::kProbe) {
    if (acked == pr.match) become_replicate();
  } else {
    while (!pr.inflight.empty() && pr.inflight.front() <= pr.match) pr.inflight.pop_front();
  }
  if (updated && maybe_commit()) {
    broadcast_append(true);
    if (maybe_step_down_removed()) return;
  } else {
    while (send_append(m.from, false)) {
    }
  }
  if (m.from == transferee_ && pr.match == last_index() && !timeout_now_sent_) {
    Message t;
    t.type = MessageType::kTimeoutNow;
    t.to = m.from;
    t.term = term_;
    send(std::move(t));
    timeout_now_sent_ = true;
  }
}

void Node::handle_heartbeat_resp(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  note_ack(pr, m);
  if (pr.state == Progress::State::kSnapshot) return;  // wait for the snapshot's answer
  pr.paused = false;
  if (pr.state == Progress::State::kReplicate && pr.inflight.size() >= cfg_.max_inflight) {
    pr.inflight.pop_front();  // an append may be lost; let one more through
  }
  if (pr.match < last_index()) send_append(m.from, true);
}

bool Node::send_append(NodeId to, bool allow_empty) {
  auto it = progress_.find(to);
  if (it == progress_.end() || to == cfg_.id) return false;
  Progress& pr = it->second;
  if (pr.state == Progress::State::kSnapshot) return false;
  if (pr.state == Progress::State::kProbe && pr.paused) return false;
  if (pr.state == Progress::State::kReplicate && pr.inflight.size() >= cfg_.max_inflight) {
    return false;
  }
  const uint64_t last = last_index();
  if (pr.next > last + 1) pr.next = last + 1;
  if (pr.next <= snap_index_) {
    send_snapshot(to, pr);  // what the follower needs next was compacted
    return true;
  }
  if (pr.next > last && !allow_empty) return false;
  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.term = term_;
  m.index = pr.next - 1;
  m.log_term = term_at(m.index);
  m.commit = commit_;
  m.context = now_;
  const uint64_t end = std::min<uint64_t>(last, pr.next - 1 + cfg_.max_entries_per_msg);
  for (uint64_t i = pr.next; i <= end; ++i) m.entries.push_back(at(i));
  if (pr.state == Progress::State::kReplicate) {
    if (!m.entries.empty()) {
      pr.next = end + 1;
      pr.inflight.push_back(end);
    }
  } else {
    pr.paused = true;
  }
  send(std::move(m));
  return true;
}

void Node::send_snapshot(NodeId to, Progress& pr) {
  Message m;
  m.type = MessageType::kSnapshot;
  m.to = to;
  m.term = term_;
  m.index = snap_index_;
  m.log_term = snap_term_;
  m.commit = commit_;
  m.context = now_;
  // Meta only: the embedding puts its state machine image in (SNAPSHOT CONTRACT, types.h).
  m.snapshot = Snapshot{SnapshotMeta{snap_index_, snap_term_, base_conf_}, {}};
  pr.state = Progress::State::kSnapshot;
  pr.pending_snapshot = snap_index_;
  pr.snapshot_elapsed = 0;
  pr.paused = false;
  pr.inflight.clear();
  send(std::move(m));
}

void Node::send_heartbeat(NodeId to) {
  auto it = progress_.find(to);
  if (it == progress_.end()) return;
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = to;
  m.term = term_;
  m.commit = std::min(commit_, it->second.match);
  m.context = now_;
  send(std::move(m));
}

void Node::broadcast_append(bool allow_empty) {
  for (auto& [id, pr] : progress_) {
    if (id == cfg_.id) continue;
    if (allow_empty) {
      send_append(id, true);
    }
    while (send_append(id, false)) {
    }
  }
}

bool Node::maybe_commit() {
  const ConfState& c = conf();
  if (c.voters.empty()) return false;
  std::vector<uint64_t> matches;
  matches.reserve(c.voters.size());
  for (NodeId v : c.voters) {
    auto it = progress_.find(v);
    matches.push_back(it == progress_.end() ? 0 : it->second.match);
  }
  std::sort(matches.begin(), matches.end(), std::greater<>());
  const uint64_t candidate = matches[quorum() - 1];
  // Raft 5.4.2: only entries of the current term are committed by counting replicas.
  if (candidate > commit_ && term_at(candidate) == term_) {
    commit_ = candidate;
    return true;
  }
  return false;
}

bool Node::maybe_step_down_removed() {
  if (role_ != Role::kLeader || is_voter(cfg_.id)) return false;
  if (last_conf_change_index() > commit_) return false;  // our removal is not committed yet
  // Hand over to the most up-to-date voter at once rather than waiting for timeouts.
  NodeId best = kNoNode;
  uint64_t best_match = 0;
  for (NodeId v : conf().voters) {
    auto it = progress_.find(v);
    if (it != progress_.end() && it->second.match > best_match) {
      best = v;
      best_match = it->second.match;
    }
  }
  const uint64_t last = last_index();
  become_follower(term_, kNoNode);
  if (best != kNoNode && best_match == last) {
    Message t;
    t.type = MessageType::kTimeoutNow;
    t.to = best;
    t.term = term_;
    send(std::move(t));
  }
  return true;
}

Result<EntryId> Node::propose(std::string data) {
  if (role_ != Role::kLeader) {
    return stale_route("not leader; leader=" + std::to_string(leader_));
  }
  if (transferee_ != kNoNode) {
    return stale_route("leadership transfer in progress; leader=" + std::to_string(cfg_.id));
  }
  if (!is_voter(cfg_.id)) {
    return stale_route("leader is leaving the group; leader=0");
  }
  Entry e{term_, last_index() + 1, EntryType::kNormal, std::move(data)};
  EntryId id{e.index, e.term};
  append_local(std::move(e));
  pending_bcast_ = true;  // sent at ready(): proposals between two readies share messages
  return id;
}

Result<EntryId> Node::propose_conf_change(ConfChange cc) {
  if (role_ != Role::kLeader) {
    return stale_route("not leader; leader=" + std::to_string(leader_));
  }
  if (transferee_ != kNoNode) {
    return stale_route("leadership transfer in progress; leader=" + std::to_string(cfg_.id));
  }
  if (!is_voter(cfg_.id)) {
    return stale_route("leader is leaving the group; leader=0");
  }
  if (cc.node == kNoNode) return invalid_argument("conf change without a node");
  // Single-server changes are only safe one at a time, and only once this leader committed
  // an entry of its term (otherwise an older leader's uncommitted change could still win).
  if (term_at(commit_) != term_) {
    return failed_precondition("leader has not committed an entry of its term yet; retry");
  }
  if (last_conf_change_index() > commit_) {
    return failed_precondition("another membership change is not committed yet; retry");
  }
  ConfState next = conf();
  const bool voter = contains(next.voters, cc.node);
  const bool learner = contains(next.learners, cc.node);
  switch (cc.type) {
    case ConfChange::Type::kAddLearner:
      if (voter || learner) return failed_precondition("node is already a member");
      insert_sorted(next.learners, cc.node);
      break;
    case ConfChange::Type::kPromote:
      if (!learner) return failed_precondition("node is not a learner");
      erase_id(next.learners, cc.node);
      insert_sorted(next.voters, cc.node);
      break;
    case ConfChange::Type::kRemove:
      if (voter) {
        if (next.voters.size() == 1) return failed_precondition("cannot remove the last voter");
        erase_id(next.voters, cc.node);
      } else if (learner) {
        erase_id(next.learners, cc.node);
      } else {
        return failed_precondition("node is not a member");
      }
      break;
    default:
      return invalid_argument("unknown conf change type");
  }
  Entry e{term_, last_index() + 1, EntryType::kConfChange, encode_conf_change(cc, next)};
  EntryId id{e.index, e.term};
  append_local(std::move(e));  // takes effect now
  pending_bcast_ = true;
  return id;
}

Status Node::transfer_leadership(NodeId to) {
  if (role_ != Role::kLeader) {
    return stale_route("not leader; leader=" + std::to_string(leader_));
  }
  if (!is_voter(to)) return invalid_argument("transfer target is not a voter");
  if (to == cfg_.id) return Status::ok();
  transferee_ = to;
  transfer_elapsed_ = 0;
  Progress& pr = progress_[to];
  if (pr.match == last_index()) {
    Message t;
    t.type = MessageType::kTimeoutNow;
    t.to = to;
    t.term = term_;
    send(std::move(t));
    timeout_now_sent_ = true;
  } else {
    pr.paused = false;
    send_append(to, true);
  }
  return Status::ok();
}

Status Node::campaign() {
  if (role_ == Role::kLeader) return Status::ok();
  if (!is_voter(cfg_.id)) return failed_precondition("not a voter of the group");
  // Same path as a received TimeoutNow.
  campaign(false, true);
  return Status::ok();
}

Status Node::compact(uint64_t index) {
  if (index <= snap_index_) return Status::ok();
  if (index > applied_) {
    return invalid_argument("compact(" + std::to_string(index) + ") beyond the applied index " +
                            std::to_string(applied_));
  }
  RAFT_CHECK(index <= commit_ && index <= stable_, "only applied, persisted entries compact");
  const uint64_t term = term_at(index);
  ConfState c = conf_at(index);
  conf_log_.erase(conf_log_.begin(), conf_log_.upper_bound(index));
  log_.erase(log_.begin(), log_.begin() + static_cast<ptrdiff_t>(index - snap_index_));
  snap_index_ = index;
  snap_term_ = term;
  base_conf_ = std::move(c);
  return Status::ok();
}

SnapshotMeta Node::snapshot_meta_at(uint64_t applied_index) const {
  if (applied_index < snap_index_ || applied_index > last_index()) return SnapshotMeta{};
  return SnapshotMeta{applied_index, term_at(applied_index), conf_at(applied_index)};
}

bool Node::has_lease() const {
  // After a TimeoutNow, the target may be elected at any time, even if the message is late.
  if (role_ != Role::kLeader || transferee_ != kNoNode || timeout_now_sent_) return false;
  if (term_at(commit_) != term_) return false;
  size_t n = 0;
  for (NodeId v : conf().voters) {
    if (v == cfg_.id) {
      ++n;
      continue;
    }
    auto it = progress_.find(v);
    if (it != progress_.end() && it->second.lease_acked &&
        now_ - it->second.lease_ack_tick < static_cast<uint64_t>(cfg_.lease_ticks)) {
      ++n;
    }
  }
  return n >= quorum();
}

bool Node::has_ready() const {
  return pending_bcast_ || hard_state() != persisted_hs_ || stable_ < last_index() ||
         !msgs_.empty() || applied_ < commit_ || pending_snapshot_.has_value();
}

Ready Node::ready() {
  if (pending_bcast_) {
    pending_bcast_ = false;
    if (role_ == Role::kLeader) broadcast_append(false);
  }
  Ready rd;
  const HardState hs = hard_state();
  if (hs != persisted_hs_) {
    rd.hard_state = hs;
    persisted_hs_ = hs;
  }
  if (pending_snapshot_) {
    rd.snapshot = std::move(*pending_snapshot_);
    pending_snapshot_.reset();
  }
  RAFT_CHECK(stable_ >= snap_index_ && applied_ >= snap_index_,
             "compacted entries are persisted and applied");
  rd.entries.assign(log_.begin() + static_cast<ptrdiff_t>(stable_ - snap_index_), log_.end());
  ready_stable_ = last_index();
  rd.messages = std::move(msgs_);
  msgs_.clear();
  if (commit_ > applied_) {
    rd.committed.assign(log_.begin() + static_cast<ptrdiff_t>(applied_ - snap_index_),
                        log_.begin() + static_cast<ptrdiff_t>(commit_ - snap_index_));
  }
  ready_applied_ = commit_;
  ready_pending_ = true;
  return rd;
}

void Node::advance() {
  if (!ready_pending_) return;
  ready_pending_ = false;
  stable_ = std::max(stable_, std::min(ready_stable_, last_index()));
  applied_ = std::max(applied_, ready_applied_);
  if (role_ == Role::kLeader) {
    progress_[cfg_.id].match = stable_;
    if (maybe_commit()) {
      broadcast_append(true);
      maybe_step_down_removed();
    }
  }
}

}  // namespace shoal::raft
