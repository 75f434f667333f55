#include <algorithm>

#include "impl.h"

namespace shoal::router {

const meta::v1::Partition* TableInfo::partition_for(uint64_t hash) const {
  // Partitions are sorted by hash_lo and contiguous: the last one starting at or below hash.
  auto it = std::upper_bound(partitions.begin(), partitions.end(), hash,
                             [](uint64_t h, const meta::v1::Partition* p) { return h < p->hash_lo(); });
  if (it == partitions.begin()) return nullptr;
  const auto* p = *(it - 1);
  return hash <= p->hash_hi() ? p : nullptr;
}

namespace {

item::Type scalar_to_type(meta::v1::ScalarType t) {
  switch (t) {
    case meta::v1::SCALAR_TYPE_N: return item::Type::kN;
    case meta::v1::SCALAR_TYPE_B: return item::Type::kB;
    default: return item::Type::kS;
  }
}

TableInfoPtr build_info(meta::v1::Table&& table,
                        metrics::Family<metrics::Counter>* consumed_units) {
  auto info = std::make_shared<TableInfo>();
  info->table = std::move(table);
  if (consumed_units) {
    // Series by name: a table re-created under the same name goes on counting in them.
    info->read_units = &consumed_units->Add({{"table", info->table.name()}, {"kind", "read"}});
    info->write_units = &consumed_units->Add({{"table", info->table.name()}, {"kind", "write"}});
  }
  auto type_of = [&](const std::string& name) {
    for (const auto& d : info->table.attribute_definitions())
      if (d.name() == name) return scalar_to_type(d.type());
    return item::Type::kS;
  };
  for (const auto& k : info->table.key_schema()) {
    if (k.key_type() == meta::v1::KEY_TYPE_HASH) {
      info->hash_key = k.name();
      info->hash_type = type_of(k.name());
    } else {
      info->range_key = k.name();
      info->range_type = type_of(k.name());
    }
  }
  for (const auto& p : info->table.partitions()) info->partitions.push_back(&p);
  std::sort(info->partitions.begin(), info->partitions.end(),
            [](const auto* a, const auto* b) { return a->hash_lo() < b->hash_lo(); });
  return info;
}

}  // namespace

void TableCache::get(const std::string& name, Done done) {
  {
    std::unique_lock lock(mu_);
    if (auto it = tables_.find(name); it != tables_.end()) {
      auto info = it->second;
      lock.unlock();
      return done(info);
    }
    auto& waiters = waiting_[name];
    waiters.push_back(std::move(done));
    if (waiters.size() > 1) return;  // a fetch is already on its way
  }
  fetch(name);
}

void TableCache::invalidate(const std::string& name) {
  std::lock_guard lock(mu_);
  tables_.erase(name);
}

void TableCache::fetch(const std::string& name) {
  meta::v1::DescribeTableRequest req;
  req.set_name(name);
  router_->meta_rpc(subjects::Subjects::kDescribeTable, req, [this, name](Result<std::string> r) {
    Result<TableInfoPtr> result = Status(Code::kInternal, "unset");
    if (!r.ok()) {
      result = r.status();
    } else {
      meta::v1::DescribeTableResponse resp;
      if (!resp.ParseFromString(*r)) {
        result = internal_error("bad DescribeTable reply");
      } else if (resp.status().code() != common::v1::CODE_OK) {
        result = Status(static_cast<Code>(resp.status().code()), resp.status().message());
      } else {
        result = build_info(std::move(*resp.mutable_table()), router_->consumed_units);
      }
    }
    std::vector<Done> waiters;
    {
      std::lock_guard lock(mu_);
      // Only ACTIVE tables are cached: a CREATING table must be asked again next time.
      if (result.ok() && (*result)->active()) tables_[name] = *result;
      waiters.swap(waiting_[name]);
      waiting_.erase(name);
    }
    for (auto& w : waiters) w(result);
  });
}

}  // namespace shoal::router
