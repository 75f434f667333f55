#pragma once
// Store: the only way Shoal code reaches RocksDB (storage-node and metadata use it).
//
// One Store per process owns one RocksDB database. Data is split into column families
// (one per partition replica, one for logs, one for node metadata). Column families are
// handed out as shared_ptr: a dropped family stays valid for holders until the last
// reference goes, so an in-flight batch never touches a destroyed handle.
//
// Thread-safety: every method may be called from any thread.

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shoal/common/status.h"

namespace shoal::store {

class ColumnFamily {
 public:
  ColumnFamily(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* h) : db_(db), handle_(h) {}
  ~ColumnFamily();
  ColumnFamily(const ColumnFamily&) = delete;
  ColumnFamily& operator=(const ColumnFamily&) = delete;

  rocksdb::ColumnFamilyHandle* handle() const { return handle_; }
  const std::string& name() const { return handle_->GetName(); }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* handle_;
};
using CfPtr = std::shared_ptr<ColumnFamily>;

// A list of writes applied atomically (one RocksDB WriteBatch).
class Batch {
 public:
  void put(const CfPtr& cf, std::string_view key, std::string_view value);
  void erase(const CfPtr& cf, std::string_view key);
  // Removes keys in [begin, end).
  void erase_range(const CfPtr& cf, std::string_view begin, std::string_view end);
  bool empty() const { return batch_.Count() == 0; }
  size_t size_bytes() const { return batch_.GetDataSize(); }

 private:
  friend class Store;
  friend class GroupCommitter;
  rocksdb::WriteBatch batch_;
  std::vector<CfPtr> pins_;  // keeps the families alive until the batch is written
};

// A consistent point-in-time view of the whole database (a RocksDB snapshot): reads through it
// see exactly the writes made before it was taken. Released when the last holder drops it;
// every holder must be gone before the Store is destroyed.
class Snapshot {
 public:
  Snapshot(rocksdb::DB* db, const rocksdb::Snapshot* s) : db_(db), snapshot_(s) {}
  ~Snapshot() { db_->ReleaseSnapshot(snapshot_); }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};
using SnapshotPtr = std::shared_ptr<const Snapshot>;

struct StoreOptions {
  std::string path;
  size_t block_cache_bytes = 256 << 20;
  bool create_if_missing = true;
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);
  ~Store();

  // Returns the family, creating it if missing.
  Result<CfPtr> create_family(const std::string& name);
  // nullptr if there is no such family.
  CfPtr family(const std::string& name) const;
  std::vector<std::string> family_names() const;
  // Drops the family and its data; idempotent.
  Status drop_family(const std::string& name);

  // kNotFound if the key is absent.
  Status get(const CfPtr& cf, std::string_view key, std::string* value) const;
  std::unique_ptr<rocksdb::Iterator> iterator(const CfPtr& cf) const;
  // A point-in-time view for long reads (snapshot transfer) while writes go on.
  SnapshotPtr snapshot() const;
  // Iterates `cf` as it was when `snapshot` was taken. A bulk read: its blocks do not
  // displace the block cache. The family may be dropped meanwhile (the holder of `cf` keeps
  // its data readable).
  std::unique_ptr<rocksdb::Iterator> iterator(const CfPtr& cf, const SnapshotPtr& snapshot) const;
  // Approximate bytes of the keys in [begin, end) of `cf`, memtables included (RocksDB
  // GetApproximateSizes, within ~10% for the files): what is stored, compressed on disk, so
  // overwritten and deleted values count until compaction drops them. Metadata lookups
  // only (no data blocks read); 0 if RocksDB cannot tell.
  uint64_t approximate_size(const CfPtr& cf, std::string_view begin, std::string_view end) const;

  // Writes one batch; `sync` fsyncs the WAL before returning.
  Status write(Batch& batch, bool sync);
  // Writes several batches as one atomic, optionally synced WriteBatch (group commit).
  Status write_group(std::vector<Batch*>& batches, bool sync);

  rocksdb::DB* TEST_db() { return db_.get(); }

 private:
  explicit Store(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyOptions cf_options_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, CfPtr> families_;
};

}  // namespace shoal::store
