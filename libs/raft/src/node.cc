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
}  // namespace

Node::Node(Config config, HardState state, std::vector<Entry> log)
    : cfg_(std::move(config)),
      rng_(cfg_.seed * 0x9E3779B97F4A7C15ULL + cfg_.id),
      term_(state.term),
      vote_(state.vote),
      commit_(state.commit),
      log_(std::move(log)),
      persisted_hs_(state) {
  RAFT_CHECK(cfg_.id != kNoNode && is_voter(cfg_.id), "the node is one of the voters");
  RAFT_CHECK(cfg_.election_ticks > 1 && cfg_.heartbeat_ticks > 0, "tick settings are positive");
  if (cfg_.lease_ticks <= 0) cfg_.lease_ticks = cfg_.election_ticks / 2;
  if (cfg_.max_inflight == 0) cfg_.max_inflight = 1;
  if (cfg_.max_entries_per_msg == 0) cfg_.max_entries_per_msg = 1;
  for (size_t i = 0; i < log_.size(); ++i) {
    RAFT_CHECK(log_[i].index == i + 1, "the restored log is contiguous from index 1");
  }
  RAFT_CHECK(commit_ <= log_.size(), "the commit index is within the log");
  stable_ = log_.size();
  applied_ = std::min(cfg_.applied, commit_);
  now_ = 1;  // context 0 means "no send time"
  become_follower(term_, kNoNode);
}

bool Node::is_voter(NodeId id) const {
  return std::find(cfg_.voters.begin(), cfg_.voters.end(), id) != cfg_.voters.end();
}

uint64_t Node::term_at(uint64_t index) const {
  if (index == 0 || index > log_.size()) return 0;
  return log_[index - 1].term;
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
}

void Node::become_leader() {
  reset(term_);
  role_ = Role::kLeader;
  leader_ = cfg_.id;
  for (NodeId v : cfg_.voters) {
    Progress pr;
    pr.next = last_index() + 1;
    if (v == cfg_.id) pr.match = stable_;
    progress_[v] = pr;
  }
  // A no-op of the new term lets the leader commit (and so learn) everything before it.
  append_local(Entry{term_, last_index() + 1, EntryType::kNoop, {}});
  broadcast_append(true);
}

void Node::campaign(bool pre, bool transfer) {
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
  for (NodeId v : cfg_.voters) {
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
    if (election_elapsed_ >= cfg_.election_ticks) {
      election_elapsed_ = 0;
      if (cfg_.check_quorum) {
        size_t active = 0;
        for (auto& [id, pr] : progress_) {
          if (id == cfg_.id || pr.recent_active) ++active;
          pr.recent_active = false;
        }
        if (active < quorum()) {
          become_follower(term_, kNoNode);
          since_leader_contact_ = 0;  // do not vote at once: our own lease may be running
          return;
        }
      }
    }
    if (heartbeat_elapsed_ >= cfg_.heartbeat_ticks) {
      heartbeat_elapsed_ = 0;
      for (NodeId v : cfg_.voters) {
        if (v != cfg_.id) send_heartbeat(v);
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
  if (m.to != cfg_.id || !is_voter(m.from) || m.from == cfg_.id) return;
  const bool vote_request = m.type == MessageType::kPreVote || m.type == MessageType::kVote;
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
      const bool from_leader =
          m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat;
      become_follower(m.term, from_leader ? m.from : kNoNode);
    }
  } else if (m.term < term_) {
    if (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat) {
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
      leader_ = m.from;
      election_elapsed_ = 0;
      since_leader_contact_ = 0;
      if (m.type == MessageType::kAppend) {
        handle_append(m);
      } else {
        handle_heartbeat(m);
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
      for (auto& [id, g] : votes_) (g ? granted : rejected)++;
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
  log_.resize(index - 1);
  stable_ = std::min(stable_, index - 1);
  ready_stable_ = std::min(ready_stable_, index - 1);
}

void Node::append_local(Entry e) {
  RAFT_CHECK(e.index == last_index() + 1, "entries are appended contiguously");
  log_.push_back(std::move(e));
}

uint64_t Node::find_conflict_by_term(uint64_t index, uint64_t term) const {
  index = std::min(index, last_index());
  while (index > 0 && term_at(index) > term) --index;
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
  if (pr.state == Progress::State::kProbe) {
    if (acked == pr.match) {
      pr.state = Progress::State::kReplicate;
      pr.paused = false;
      pr.next = pr.match + 1;
      pr.inflight.clear();
    }
  } else {
    while (!pr.inflight.empty() && pr.inflight.front() <= pr.match) pr.inflight.pop_front();
  }
  if (updated && maybe_commit()) {
    broadcast_append(true);
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
  pr.paused = false;
  if (pr.state == Progress::State::kReplicate && pr.inflight.size() >= cfg_.max_inflight) {
    pr.inflight.pop_front();  // an append may be lost; let one more through
  }
  if (pr.match < last_index()) send_append(m.from, true);
}

bool Node::send_append(NodeId to, bool allow_empty) {
  Progress& pr = progress_[to];
  if (pr.state == Progress::State::kProbe && pr.paused) return false;
  if (pr.state == Progress::State::kReplicate && pr.inflight.size() >= cfg_.max_inflight) {
    return false;
  }
  const uint64_t last = last_index();
  if (pr.next > last + 1) pr.next = last + 1;
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
  for (uint64_t i = pr.next; i <= end; ++i) m.entries.push_back(log_[i - 1]);
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

void Node::send_heartbeat(NodeId to) {
  const Progress& pr = progress_[to];
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = to;
  m.term = term_;
  m.commit = std::min(commit_, pr.match);
  m.context = now_;
  send(std::move(m));
}

void Node::broadcast_append(bool allow_empty) {
  for (NodeId v : cfg_.voters) {
    if (v == cfg_.id) continue;
    if (allow_empty) {
      send_append(v, true);
    }
    while (send_append(v, false)) {
    }
  }
}

bool Node::maybe_commit() {
  std::vector<uint64_t> matches;
  matches.reserve(cfg_.voters.size());
  for (NodeId v : cfg_.voters) matches.push_back(progress_[v].match);
  std::sort(matches.begin(), matches.end(), std::greater<>());
  const uint64_t candidate = matches[quorum() - 1];
  // Raft 5.4.2: only entries of the current term are committed by counting replicas.
  if (candidate > commit_ && term_at(candidate) == term_) {
    commit_ = candidate;
    return true;
  }
  return false;
}

Result<EntryId> Node::propose(std::string data) {
  if (role_ != Role::kLeader) {
    return stale_route("not leader; leader=" + std::to_string(leader_));
  }
  if (transferee_ != kNoNode) {
    return stale_route("leadership transfer in progress; leader=" + std::to_string(cfg_.id));
  }
  Entry e{term_, last_index() + 1, EntryType::kNormal, std::move(data)};
  EntryId id{e.index, e.term};
  append_local(std::move(e));
  pending_bcast_ = true;  // sent at ready(): proposals between two readies share messages
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

bool Node::has_lease() const {
  // After a TimeoutNow, the target may be elected at any time, even if the message is late.
  if (role_ != Role::kLeader || transferee_ != kNoNode || timeout_now_sent_) return false;
  if (term_at(commit_) != term_) return false;
  size_t n = 0;
  for (NodeId v : cfg_.voters) {
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
         !msgs_.empty() || applied_ < commit_;
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
  rd.entries.assign(log_.begin() + static_cast<ptrdiff_t>(stable_), log_.end());
  ready_stable_ = last_index();
  rd.messages = std::move(msgs_);
  msgs_.clear();
  if (commit_ > applied_) {
    rd.committed.assign(log_.begin() + static_cast<ptrdiff_t>(applied_),
                        log_.begin() + static_cast<ptrdiff_t>(commit_));
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
    if (maybe_commit()) broadcast_append(true);
  }
}

}  // namespace shoal::raft
