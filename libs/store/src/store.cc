#include "shoal/store/store.h"

#include <rocksdb/cache.h>

#include <filesystem>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

namespace shoal::store {
namespace {

Status from_rocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::ok();
  if (s.IsNotFound()) return not_found(s.ToString());
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return unavailable(s.ToString());
  return internal_error("rocksdb: " + s.ToString());
}

// Re-issues the records of one batch into another, mapping column family ids to handles.
class Replay : public rocksdb::WriteBatch::Handler {
 public:
  Replay(rocksdb::WriteBatch* out,
         const std::unordered_map<uint32_t, rocksdb::ColumnFamilyHandle*>* by_id)
      : out_(out), by_id_(by_id) {}
  rocksdb::Status PutCF(uint32_t id, const rocksdb::Slice& k, const rocksdb::Slice& v) override {
    return record(out_->Put(handle(id), k, v));
  }
  rocksdb::Status DeleteCF(uint32_t id, const rocksdb::Slice& k) override {
    return record(out_->Delete(handle(id), k));
  }
  rocksdb::Status DeleteRangeCF(uint32_t id, const rocksdb::Slice& b,
                                const rocksdb::Slice& e) override {
    return record(out_->DeleteRange(handle(id), b, e));
  }
  rocksdb::Status status;

 private:
  rocksdb::ColumnFamilyHandle* handle(uint32_t id) const { return by_id_->at(id); }
  rocksdb::Status record(rocksdb::Status s) {
    if (!s.ok()) status = s;
    return s;
  }
  rocksdb::WriteBatch* out_;
  const std::unordered_map<uint32_t, rocksdb::ColumnFamilyHandle*>* by_id_;
};

}  // namespace

ColumnFamily::~ColumnFamily() { db_->DestroyColumnFamilyHandle(handle_); }

void Batch::put(const CfPtr& cf, std::string_view key, std::string_view value) {
  batch_.Put(cf->handle(), rocksdb::Slice(key.data(), key.size()),
             rocksdb::Slice(value.data(), value.size()));
  if (pins_.empty() || pins_.back() != cf) pins_.push_back(cf);
}

void Batch::erase(const CfPtr& cf, std::string_view key) {
  batch_.Delete(cf->handle(), rocksdb::Slice(key.data(), key.size()));
  if (pins_.empty() || pins_.back() != cf) pins_.push_back(cf);
}

void Batch::erase_range(const CfPtr& cf, std::string_view begin, std::string_view end) {
  batch_.DeleteRange(cf->handle(), rocksdb::Slice(begin.data(), begin.size()),
                     rocksdb::Slice(end.data(), end.size()));
  if (pins_.empty() || pins_.back() != cf) pins_.push_back(cf);
}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
  if (options.create_if_missing) {
    // RocksDB creates only the last path component.
    std::error_code ec;
    std::filesystem::create_directories(options.path, ec);
    if (ec) return internal_error("cannot create " + options.path + ": " + ec.message());
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;
  // Many small column families share one memtable budget instead of 64 MB each.
  db_options.db_write_buffer_size = 128 << 20;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.write_buffer_size = 16 << 20;

  std::vector<std::string> names;
  auto ls = rocksdb::DB::ListColumnFamilies(db_options, options.path, &names);
  if (!ls.ok()) names = {rocksdb::kDefaultColumnFamilyName};  // a new database

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, cf_options);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  if (!s.ok()) return from_rocks(s);

  std::unique_ptr<Store> store(new Store(std::unique_ptr<rocksdb::DB>(raw)));
  store->cf_options_ = cf_options;
  for (auto* h : handles) {
    store->families_.emplace(h->GetName(), std::make_shared<ColumnFamily>(raw, h));
  }
  return store;
}

Store::~Store() {
  {
    std::unique_lock lock(mu_);
    families_.clear();  // handles must be destroyed before the DB closes
  }
  if (db_) db_->Close().PermitUncheckedError();
}

Result<CfPtr> Store::create_family(const std::string& name) {
  std::unique_lock lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) return it->second;
  rocksdb::ColumnFamilyHandle* h = nullptr;
  auto s = db_->CreateColumnFamily(cf_options_, name, &h);
  if (!s.ok()) return from_rocks(s);
  auto cf = std::make_shared<ColumnFamily>(db_.get(), h);
  families_.emplace(name, cf);
  return cf;
}

CfPtr Store::family(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = families_.find(name);
  return it == families_.end() ? nullptr : it->second;
}

std::vector<std::string> Store::family_names() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [n, _] : families_) out.push_back(n);
  return out;
}

Status Store::drop_family(const std::string& name) {
  std::unique_lock lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return Status::ok();
  auto s = db_->DropColumnFamily(it->second->handle());
  families_.erase(it);
  return from_rocks(s);
}

Status Store::get(const CfPtr& cf, std::string_view key, std::string* value) const {
  return from_rocks(db_->Get(rocksdb::ReadOptions(), cf->handle(),
                             rocksdb::Slice(key.data(), key.size()), value));
}

std::unique_ptr<rocksdb::Iterator> Store::iterator(const CfPtr& cf) const {
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(rocksdb::ReadOptions(), cf->handle()));
}

uint64_t Store::approximate_size(const CfPtr& cf, std::string_view begin,
                                 std::string_view end) const {
  rocksdb::SizeApproximationOptions o;
  o.include_memtables = true;
  o.include_files = true;
  o.files_size_error_margin = 0.1;
  rocksdb::Range range(rocksdb::Slice(begin.data(), begin.size()),
                       rocksdb::Slice(end.data(), end.size()));
  uint64_t size = 0;
  if (!db_->GetApproximateSizes(o, cf->handle(), &range, 1, &size).ok()) return 0;
  return size;
}

SnapshotPtr Store::snapshot() const {
  return std::make_shared<const Snapshot>(db_.get(), db_->GetSnapshot());
}

std::unique_ptr<rocksdb::Iterator> Store::iterator(const CfPtr& cf,
                                                   const SnapshotPtr& snapshot) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot->get();
  ro.fill_cache = false;
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(ro, cf->handle()));
}

Status Store::write(Batch& batch, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return from_rocks(db_->Write(wo, &batch.batch_));
}

Status Store::write_group(std::vector<Batch*>& batches, bool sync) {
  if (batches.empty()) return Status::ok();
  if (batches.size() == 1) return write(*batches[0], sync);
  // RocksDB has no public batch append: replay each batch into one merged batch. The extra
  // copy is a memcpy per record, small next to the fsync it saves.
  std::unordered_map<uint32_t, rocksdb::ColumnFamilyHandle*> by_id;
  for (Batch* b : batches)
    for (const auto& cf : b->pins_) by_id.emplace(cf->handle()->GetID(), cf->handle());
  rocksdb::WriteBatch merged;
  Replay replay(&merged, &by_id);
  for (Batch* b : batches) {
    auto s = b->batch_.Iterate(&replay);
    if (!s.ok()) return from_rocks(s);
    if (!replay.status.ok()) return from_rocks(replay.status);
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return from_rocks(db_->Write(wo, &merged));
}

}  // namespace shoal::store
