#include "shoal/raftwire/raftwire.h"

namespace shoal::raftwire {

void to_proto(const raft::Entry& e, raft::v1::Entry* out) {
  out->set_term(e.term);
  out->set_index(e.index);
  out->set_type(static_cast<uint32_t>(e.type));
  out->set_data(e.data);
}

bool from_proto(const raft::v1::Entry& e, raft::Entry* out) {
  if (e.type() > static_cast<uint32_t>(raft::EntryType::kConfChange)) return false;
  out->term = e.term();
  out->index = e.index();
  out->type = static_cast<raft::EntryType>(e.type());
  out->data = e.data();
  return true;
}

void to_proto(const raft::SnapshotMeta& m, raft::v1::SnapshotMeta* out) {
  out->set_index(m.index);
  out->set_term(m.term);
  out->mutable_voters()->Assign(m.conf.voters.begin(), m.conf.voters.end());
  out->mutable_learners()->Assign(m.conf.learners.begin(), m.conf.learners.end());
}

raft::SnapshotMeta from_proto(const raft::v1::SnapshotMeta& m) {
  raft::SnapshotMeta out;
  out.index = m.index();
  out.term = m.term();
  out.conf.voters.assign(m.voters().begin(), m.voters().end());
  out.conf.learners.assign(m.learners().begin(), m.learners().end());
  return out;
}

void to_proto(const raft::HardState& h, raft::v1::HardState* out) {
  out->set_term(h.term);
  out->set_vote(h.vote);
  out->set_commit(h.commit);
}

raft::HardState from_proto(const raft::v1::HardState& h) {
  return raft::HardState{.term = h.term(), .vote = h.vote(), .commit = h.commit()};
}

void to_proto(const raft::Message& m, raft::v1::Message* out, SnapshotData data) {
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
  if (m.snapshot) {
    to_proto(m.snapshot->meta, out->mutable_snapshot());
    if (data == SnapshotData::kInline) out->set_snapshot_data(m.snapshot->data);
  }
}

bool from_proto(const raft::v1::Message& m, raft::Message* out) {
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
    out->snapshot = raft::Snapshot{from_proto(m.snapshot()), m.snapshot_data()};
  }
  return true;
}

}  // namespace shoal::raftwire
