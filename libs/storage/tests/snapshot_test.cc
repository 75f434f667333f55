// Unit tests of the pieces under the replication tests: Raft message/entry conversion for
// snapshots and conf changes, the snapshot receiver's checks and staging, family names.
#include "snapshot.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "raft_transport.h"

namespace shoal::storage {
namespace {

TEST(RaftTransport, SnapshotMessageKeepsItsMeta) {
  raft::Message m;
  m.type = raft::MessageType::kSnapshot;
  m.from = 1;
  m.to = 4;
  m.term = 7;
  m.commit = 120;
  m.context = 99;
  m.snapshot = raft::Snapshot{raft::SnapshotMeta{100, 6, raft::ConfState{{1, 2, 3}, {4}}}, "x"};
  raft::v1::Message p;
  to_proto(m, &p);
  raft::Message back;
  ASSERT_TRUE(from_proto(p, &back));
  EXPECT_EQ(back.type, raft::MessageType::kSnapshot);
  ASSERT_TRUE(back.snapshot);
  EXPECT_EQ(back.snapshot->meta, m.snapshot->meta);
  EXPECT_TRUE(back.snapshot->data.empty());  // the image travels separately
  EXPECT_EQ(back.commit, 120u);
  EXPECT_EQ(back.context, 99u);

  p.clear_snapshot();
  EXPECT_FALSE(from_proto(p, &back));  // a kSnapshot without meta is malformed
  p.set_type(77);
  EXPECT_FALSE(from_proto(p, &back));
}

TEST(RaftTransport, ConfChangeEntriesRoundTrip) {
  raft::Entry e{3, 42, raft::EntryType::kConfChange,
                raft::encode_conf_change({raft::ConfChange::Type::kPromote, 4},
                                         raft::ConfState{{1, 2, 3, 4}, {}})};
  raft::v1::Entry p;
  to_proto(e, &p);
  raft::Entry back;
  ASSERT_TRUE(from_proto(p, &back));
  EXPECT_EQ(back, e);
  p.set_type(9);
  EXPECT_FALSE(from_proto(p, &back));
}

TEST(SnapshotNames, FamiliesMapBackToTheirPartition) {
  bool staging = true;
  EXPECT_EQ(family_partition("r/t1.0", &staging), "t1.0");
  EXPECT_FALSE(staging);
  const std::string s = staging_family_name("t1.0", 0xabcdef);
  EXPECT_EQ(s, "r/t1.0#0000000000abcdef");
  EXPECT_EQ(family_partition(s, &staging), "t1.0");
  EXPECT_TRUE(staging);
  EXPECT_EQ(family_partition("raft-log", &staging), "");
  EXPECT_EQ(family_partition("node-meta", &staging), "");
  EXPECT_EQ(family_partition("r/a#b", &staging), "a#b");  // not a staging suffix
  EXPECT_FALSE(staging);
}

class Receiver : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("shoal-snaprecv-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = std::move(store::Store::open(store::StoreOptions{.path = dir_.string()})).value();
    receiver_ = std::make_unique<SnapshotReceiver>(
        store_.get(), [this](const std::string& pid) { return pid == "p1"; },
        [this](const std::string&, StagedSnapshotPtr s) {
          delivered_.push_back(std::move(s));
          return true;
        });
  }
  void TearDown() override {
    receiver_->close();
    receiver_.reset();
    delivered_.clear();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The chunks of an image of `n` items, `per` items per chunk.
  static std::vector<storage::v1::SnapshotChunk> chunks(int n, int per, uint64_t id = 7) {
    std::vector<storage::v1::SnapshotChunk> out;
    uint32_t crc = 0;
    uint64_t count = 0;
    storage::v1::SnapshotChunk c;
    auto flush = [&](bool last) {
      c.set_partition_id("p1");
      c.set_transfer_id(id);
      c.set_seq(static_cast<uint32_t>(out.size()));
      c.set_crc(crc);
      c.set_items_so_far(count);
      c.set_last(last);
      if (last) {
        raft::Message m;
        m.type = raft::MessageType::kSnapshot;
        m.from = 1;
        m.to = 2;
        m.term = 3;
        m.snapshot = raft::Snapshot{raft::SnapshotMeta{50, 3, raft::ConfState{{1, 2, 3}, {}}}, {}};
        to_proto(m, c.mutable_message());
        c.set_item_count(static_cast<uint64_t>(n));
      }
      out.push_back(c);
      c.Clear();
    };
    for (int i = 0; i < n; ++i) {
      auto* it = c.add_items();
      it->set_key("k" + std::to_string(1000 + i));
      it->set_value("v" + std::to_string(i));
      crc = snapshot_crc(crc, it->key(), it->value());
      ++count;
      if (c.items_size() == per && i + 1 < n) flush(false);
    }
    flush(true);
    return out;
  }

  size_t staging_families() const {
    size_t n = 0;
    for (const auto& f : store_->family_names()) {
      bool staging = false;
      if (family_partition(f, &staging) == "p1" && staging) ++n;
    }
    return n;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<SnapshotReceiver> receiver_;
  std::vector<StagedSnapshotPtr> delivered_;
};

TEST_F(Receiver, StagesChunksAndDeliversTheImage) {
  for (const auto& c : chunks(25, 10)) ASSERT_TRUE(receiver_->on_chunk(c).is_ok());
  ASSERT_EQ(delivered_.size(), 1u);
  const auto& s = *delivered_[0];
  EXPECT_EQ(s.message.snapshot->meta.index, 50u);
  EXPECT_EQ(s.item_count, 25u);
  size_t n = 0;
  auto it = store_->iterator(s.family);
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  EXPECT_EQ(n, 25u);
  EXPECT_EQ(staging_families(), 1u);  // now the replica's to install or drop
}

TEST_F(Receiver, RefusesACorruptChunkAndDropsTheStaging) {
  auto cs = chunks(25, 10);
  ASSERT_TRUE(receiver_->on_chunk(cs[0]).is_ok());
  cs[1].mutable_items(3)->set_value("tampered");
  EXPECT_EQ(receiver_->on_chunk(cs[1]).code(), Code::kInternal);
  EXPECT_EQ(staging_families(), 0u);
  EXPECT_FALSE(receiver_->on_chunk(cs[2]).is_ok());  // the transfer is gone
  EXPECT_TRUE(delivered_.empty());
}

TEST_F(Receiver, RefusesOutOfSequenceChunksAndRestartsOnANewTransfer) {
  auto a = chunks(25, 10, 1), b = chunks(25, 10, 2);
  ASSERT_TRUE(receiver_->on_chunk(a[0]).is_ok());
  EXPECT_EQ(receiver_->on_chunk(a[2]).code(), Code::kFailedPrecondition);  // skipped one
  // A new transfer (a new leader) replaces the unfinished one.
  ASSERT_TRUE(receiver_->on_chunk(b[0]).is_ok());
  EXPECT_EQ(staging_families(), 1u);
  EXPECT_FALSE(receiver_->on_chunk(a[1]).is_ok());
  for (size_t i = 1; i < b.size(); ++i) ASSERT_TRUE(receiver_->on_chunk(b[i]).is_ok());
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0]->item_count, 25u);
}

TEST_F(Receiver, RefusesChunksForAReplicaNotOpenHere) {
  auto cs = chunks(5, 10);
  cs[0].set_partition_id("other");
  EXPECT_EQ(receiver_->on_chunk(cs[0]).code(), Code::kNotFound);
  EXPECT_EQ(staging_families(), 0u);
}

}  // namespace
}  // namespace shoal::storage
