#include "reads.h"

#include <algorithm>

#include "shoal/expr/eval.h"
#include "shoal/item/item.h"
#include "shoal/item/key.h"

namespace shoal::storage {

namespace {

void put_be64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

// The smallest key greater than every key starting with `p` ("" = none: all 0xff).
std::string successor(std::string p) {
  while (!p.empty() && static_cast<uint8_t>(p.back()) == 0xff) p.pop_back();
  if (!p.empty()) p.back() = static_cast<char>(static_cast<uint8_t>(p.back()) + 1);
  return p;
}

// Encoded bytes in one reply; NATS's default max_payload is 1 MB.
constexpr size_t kMaxReplyBytes = 256 * 1024;

// Accounts the items read; full() when the page or the reply must end.
class Page {
 public:
  Page(const storage::v1::DataRequest& req, storage::v1::DataResponse* resp)
      : req_(req), limit_(req.limit()), max_bytes_(req.max_bytes()), resp_(resp) {}

  // Counts the item as read, then filters and projects it into the reply. Fails on an
  // undecodable item (corruption is reported, not skipped) or a filter that cannot run.
  Status add(std::string_view key, std::string_view value) {
    item::Item it;
    if (!item::decode_item(value, &it)) return internal_error("undecodable item");
    bytes_ += item::item_size(it);
    ++count_;
    last_key_.assign(key.data(), key.size());
    if (req_.has_filter()) {
      auto keep = expr::evaluate(req_.filter(), &it);
      if (!keep.ok()) return keep.status();
      if (!*keep) return Status::ok();
    }
    ++matched_;
    if (req_.has_projection()) {
      std::string* out = resp_->add_items();
      item::encode_item_to(expr::project(it, req_.projection()), out);
      reply_bytes_ += out->size();
    } else {
      resp_->add_items(value.data(), value.size());
      reply_bytes_ += value.size();
    }
    return Status::ok();
  }
  bool full() const {
    return (limit_ && count_ >= limit_) || (max_bytes_ && bytes_ >= max_bytes_) ||
           reply_bytes_ >= kMaxReplyBytes;
  }
  void finish(bool stopped_early) {
    bool page_ended = (limit_ && count_ >= limit_) || (max_bytes_ && bytes_ >= max_bytes_);
    resp_->set_reply_full(stopped_early && !page_ended);
    resp_->set_scanned_count(count_);
    resp_->set_count(matched_);
    resp_->set_scanned_bytes(bytes_);
    resp_->set_more(stopped_early);
    if (stopped_early) resp_->set_last_key(last_key_);
  }

 private:
  const storage::v1::DataRequest& req_;
  uint32_t limit_;
  uint64_t max_bytes_;
  uint32_t matched_ = 0;
  storage::v1::DataResponse* resp_;
  uint32_t count_ = 0;
  uint64_t bytes_ = 0;
  uint64_t reply_bytes_ = 0;
  std::string last_key_;
};

Status corrupt(const ReplicaEnv& env, std::string_view key) {
  return internal_error("undecodable item in replica " + env.record.replica().partition_id() +
                        " at key of " + std::to_string(key.size()) + " bytes");
}

// Reads the iterator's current item into the page; *full once the page must end (the reply
// is then finished).
Status take(const ReplicaEnv& env, const rocksdb::Iterator& it, Page* page, bool* full) {
  std::string_view key(it.key().data(), it.key().size());
  if (Status s = page->add(key, std::string_view(it.value().data(), it.value().size()));
      !s.is_ok()) {
    return s.code() == Code::kInternal ? corrupt(env, key) : s;
  }
  *full = page->full();
  if (*full) page->finish(true);
  return Status::ok();
}

// The iteration ended before the page filled.
Status exhausted(const rocksdb::Iterator& it, Page* page, const char* what) {
  if (!it.status().ok()) return internal_error(std::string(what) + ": " + it.status().ToString());
  page->finish(false);
  return Status::ok();
}

Status scan(const ReplicaEnv& env, const storage::v1::ReplicaDescriptor& d,
            const storage::v1::DataRequest& req, storage::v1::DataResponse* resp) {
  resp->set_range_hi(d.hash_hi());
  uint64_t hi = std::min(req.hash_hi(), d.hash_hi());
  std::string start;
  put_be64(&start, req.hash());
  const std::string& after = req.start_after();
  if (!after.empty()) {
    if (after.size() < 8 || get_be64(after) < req.hash()) {
      return invalid_argument("scan start key outside the requested range");
    }
    start = after;
  }
  Page page(req, resp);
  auto it = env.store->iterator(env.data_cf);
  for (it->Seek(start); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key.size() < 8 || get_be64(key) > hi) break;
    if (!after.empty() && key == after) continue;
    bool full = false;
    SHOAL_RETURN_IF_ERROR(take(env, *it, &page, &full));
    if (full) return Status::ok();
  }
  return exhausted(*it, &page, "scan");
}

Status query(const ReplicaEnv& env, const storage::v1::DataRequest& req,
             storage::v1::DataResponse* resp) {
  const std::string prefix = item::storage_key(req.hash(), req.pk(), "");
  const auto& r = req.sort_range();
  const std::string& after = req.start_after();
  if (!after.empty() && !std::string_view(after).starts_with(prefix)) {
    return invalid_argument("query start key outside the partition key");
  }

  // Where the sort key `sk` stands against the range: -1 before it, 0 inside, +1 after it.
  auto where = [&](std::string_view sk) {
    if (r.has_lo()) {
      int c = sk.compare(r.lo());
      if (c < 0 || (c == 0 && !r.lo_inclusive())) return -1;
    }
    if (r.has_hi()) {
      int c = sk.compare(r.hi());
      if (c > 0 || (c == 0 && !r.hi_inclusive())) return 1;
    }
    if (r.has_prefix() && !sk.starts_with(r.prefix())) return sk < r.prefix() ? -1 : 1;
    return 0;
  };

  Page page(req, resp);
  auto it = env.store->iterator(env.data_cf);
  if (!req.backward()) {
    std::string seek = prefix + (r.has_lo() ? r.lo() : r.has_prefix() ? r.prefix() : "");
    if (!after.empty() && after > seek) seek = after;
    it->Seek(seek);
  } else {
    std::string top = r.has_hi()       ? prefix + r.hi()
                      : r.has_prefix() ? successor(prefix + r.prefix())
                                       : successor(prefix);
    if (!after.empty() && after < top) top = after;
    if (r.has_hi() || (!after.empty() && top == after)) {
      it->SeekForPrev(top);
    } else if (top.empty()) {
      it->SeekToLast();
    } else {
      it->Seek(top);
      if (it->Valid()) it->Prev();
      else it->SeekToLast();
    }
  }
  for (; it->Valid(); req.backward() ? it->Prev() : it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (!key.starts_with(prefix)) break;
    if (!after.empty() && key == after) continue;
    int w = where(key.substr(prefix.size()));
    if (w != 0) {
      if ((w > 0) != req.backward()) break;  // past the end in the reading direction
      continue;                             // not yet at the start
    }
    bool full = false;
    SHOAL_RETURN_IF_ERROR(take(env, *it, &page, &full));
    if (full) return Status::ok();
  }
  return exhausted(*it, &page, "query");
}

}  // namespace

Status read_range(const ReplicaEnv& env, const storage::v1::ReplicaDescriptor& d,
                  const storage::v1::DataRequest& req, storage::v1::DataResponse* resp) {
  return req.op() == storage::v1::DATA_OP_SCAN ? scan(env, d, req, resp) : query(env, req, resp);
}

}  // namespace shoal::storage
