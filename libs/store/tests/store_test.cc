#include "shoal/store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "shoal/store/group_commit.h"

namespace shoal::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("shoal-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<Store> open() {
    auto r = Store::open(StoreOptions{.path = dir_.string()});
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return std::move(r).value();
  }
  std::filesystem::path dir_;
};

TEST_F(StoreTest, FamiliesPersistAcrossReopen) {
  {
    auto s = open();
    auto cf = s->create_family("r1").value();
    Batch b;
    b.put(cf, "k", "v");
    ASSERT_TRUE(s->write(b, true).is_ok());
  }
  auto s = open();
  auto cf = s->family("r1");
  ASSERT_NE(cf, nullptr);
  std::string v;
  ASSERT_TRUE(s->get(cf, "k", &v).is_ok());
  EXPECT_EQ(v, "v");
  EXPECT_EQ(s->get(cf, "missing", &v).code(), Code::kNotFound);
}

TEST_F(StoreTest, DropRemovesDataAndIsIdempotent) {
  auto s = open();
  auto cf = s->create_family("r1").value();
  Batch b;
  b.put(cf, "k", "v");
  ASSERT_TRUE(s->write(b, false).is_ok());
  ASSERT_TRUE(s->drop_family("r1").is_ok());
  EXPECT_EQ(s->family("r1"), nullptr);
  EXPECT_TRUE(s->drop_family("r1").is_ok());
  auto again = s->create_family("r1").value();
  std::string v;
  EXPECT_EQ(s->get(again, "k", &v).code(), Code::kNotFound);
}

TEST_F(StoreTest, ApproximateSizeCoversMemtablesAndFiles) {
  auto s = open();
  auto cf = s->create_family("r1").value();
  auto other = s->create_family("r2").value();
  const std::string all_end(9, '\xff');
  EXPECT_EQ(s->approximate_size(cf, "", all_end), 0u);
  // 1000 values of 1 KB that do not compress.
  uint64_t x = 88172645463325252ull;
  Batch b;
  for (int i = 0; i < 1000; ++i) {
    std::string v(1024, '\0');
    for (auto& c : v) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      c = static_cast<char>(x);
    }
    b.put(cf, "k" + std::to_string(1000 + i), v);
  }
  ASSERT_TRUE(s->write(b, false).is_ok());
  const uint64_t in_memtable = s->approximate_size(cf, "", all_end);
  EXPECT_GT(in_memtable, 500u * 1024) << in_memtable;
  EXPECT_LT(in_memtable, 2000u * 1024) << in_memtable;
  EXPECT_EQ(s->approximate_size(other, "", all_end), 0u);
  ASSERT_TRUE(s->TEST_db()->Flush(rocksdb::FlushOptions(), cf->handle()).ok());
  const uint64_t in_files = s->approximate_size(cf, "", all_end);
  EXPECT_GT(in_files, 900u * 1024) << in_files;
  EXPECT_LT(in_files, 1200u * 1024) << in_files;
}

TEST_F(StoreTest, GroupWriteIsAtomicAcrossFamilies) {
  auto s = open();
  auto a = s->create_family("a").value();
  auto c = s->create_family("c").value();
  Batch b1, b2;
  b1.put(a, "x", "1");
  b1.erase_range(a, "y0", "y9");
  b2.put(c, "x", "2");
  b2.erase(c, "gone");
  std::vector<Batch*> group{&b1, &b2};
  ASSERT_TRUE(s->write_group(group, true).is_ok());
  std::string v;
  ASSERT_TRUE(s->get(a, "x", &v).is_ok());
  EXPECT_EQ(v, "1");
  ASSERT_TRUE(s->get(c, "x", &v).is_ok());
  EXPECT_EQ(v, "2");
}

TEST_F(StoreTest, GroupCommitterAcknowledgesEveryBatchOnceAndGroupsThem) {
  auto s = open();
  auto cf = s->create_family("r").value();
  constexpr int kThreads = 4, kPer = 500;
  std::atomic<int> acked{0};
  {
    GroupCommitter gc(s.get(), /*sync=*/true);
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < kPer; ++i) {
          Batch b;
          b.put(cf, std::to_string(t) + "/" + std::to_string(i), "v");
          gc.submit(std::move(b), [&](const Status& st) {
            EXPECT_TRUE(st.is_ok());
            acked.fetch_add(1);
          });
        }
      });
    }
    for (auto& t : ts) t.join();
  }  // destructor drains
  EXPECT_EQ(acked.load(), kThreads * kPer);
  auto it = s->iterator(cf);
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  EXPECT_EQ(n, kThreads * kPer);
}

TEST_F(StoreTest, SnapshotIteratorSeesThePointInTimeView) {
  auto s = open();
  auto cf = s->create_family("r1").value();
  Batch b;
  b.put(cf, "a", "1");
  b.put(cf, "b", "2");
  ASSERT_TRUE(s->write(b, false).is_ok());
  SnapshotPtr snap = s->snapshot();
  Batch later;
  later.put(cf, "a", "changed");
  later.erase(cf, "b");
  later.put(cf, "c", "3");
  ASSERT_TRUE(s->write(later, false).is_ok());

  std::vector<std::pair<std::string, std::string>> seen;
  auto it = s->iterator(cf, snap);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    seen.emplace_back(it->key().ToString(), it->value().ToString());
  }
  ASSERT_TRUE(it->status().ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "2"}}));
  // The live view moved on.
  std::string v;
  ASSERT_TRUE(s->get(cf, "a", &v).is_ok());
  EXPECT_EQ(v, "changed");

  // Still readable after the family was dropped, while the holder keeps it.
  it.reset();
  ASSERT_TRUE(s->drop_family("r1").is_ok());
  size_t n = 0;
  auto again = s->iterator(cf, snap);
  for (again->SeekToFirst(); again->Valid(); again->Next()) ++n;
  EXPECT_EQ(n, 2u);
  again.reset();
  snap.reset();
}

}  // namespace
}  // namespace shoal::store
