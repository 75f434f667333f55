#include "replica.h"

#include <spdlog/spdlog.h>


#include "reads.h"
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

void respond(const ReplicaEnv& env, const std::string& reply_subject,
             const storage::v1::DataResponse& resp) {
  if (reply_subject.empty()) return;
  auto s = env.nats->publish(reply_subject, resp.SerializeAsString());
  if (!s.is_ok()) spdlog::warn("replica {}: reply failed: {}", env.record.replica().partition_id(), s.to_string());
}

void respond_error(const ReplicaEnv& env, const std::string& reply_subject, const Status& st) {
  storage::v1::DataResponse resp;
  set_status(resp.mutable_status(), st);
  respond(env, reply_subject, resp);
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

std::string log_key(const std::string& partition_id, uint64_t index) {
  std::string k = partition_id;
  k.push_back('/');
  put_be64(&k, index);
  return k;
}
std::string log_prefix_end(const std::string& partition_id) { return partition_id + "0"; }  // '/'+1
std::string meta_key(const std::string& partition_id) { return "replica/" + partition_id; }
std::string data_family_name(const std::string& partition_id) { return "r/" + partition_id; }

caf::behavior replica_actor(caf::stateful_actor<ReplicaState>* self,
                            std::shared_ptr<ReplicaEnv> env) {
  auto& st = self->state;
  st.env = env;
  st.last_index = env->record.applied_index();
  st.item_count = env->record.item_count();

  return {
      [self](const DataCallPtr& call) {
        auto& st = self->state;
        auto& env = *st.env;
        const auto& req = call->request;
        const auto& d = env.record.replica();
        if (req.table_id() != d.table_id() || req.hash() < d.hash_lo() || req.hash() > d.hash_hi()) {
          return respond_error(env, call->reply_subject,
                               stale_route("key range not owned by replica " + d.partition_id()));
        }
        if (req.op() == storage::v1::DATA_OP_QUERY || req.op() == storage::v1::DATA_OP_SCAN) {
          env.counters->reads.fetch_add(1, std::memory_order_relaxed);
          storage::v1::DataResponse resp;
          Status s = read_range(env, req, &resp);
          set_status(resp.mutable_status(), s);
          return respond(env, call->reply_subject, resp);
        }
        std::string skey = item::storage_key(req.hash(), req.pk(), req.sk());

        if (req.op() == storage::v1::DATA_OP_GET) {
          env.counters->reads.fetch_add(1, std::memory_order_relaxed);
          storage::v1::DataResponse resp;
          std::string value;
          Status s = env.store->get(env.data_cf, skey, &value);
          if (s.is_ok()) {
            resp.set_found(true);
            resp.set_item(std::move(value));
          } else if (s.code() != Code::kNotFound) {
            return respond_error(env, call->reply_subject, s);
          }
          set_status(resp.mutable_status(), Status::ok());
          return respond(env, call->reply_subject, resp);
        }

        if (req.op() != storage::v1::DATA_OP_PUT && req.op() != storage::v1::DATA_OP_DELETE &&
            req.op() != storage::v1::DATA_OP_UPDATE) {
          return respond_error(env, call->reply_subject, invalid_argument("unknown data op"));
        }

        // The previous image: a pending (not yet durable) write wins over what is stored.
        std::optional<std::string> previous;
        if (auto it = st.pending.find(skey); it != st.pending.end()) {
          previous = it->second.image;
        } else {
          std::string value;
          Status s = env.store->get(env.data_cf, skey, &value);
          if (s.is_ok()) previous = std::move(value);
          else if (s.code() != Code::kNotFound) return respond_error(env, call->reply_subject, s);
        }

        auto resp = std::make_shared<storage::v1::DataResponse>();
        set_status(resp->mutable_status(), Status::ok());
        WriteOutcome out;
        if (Status s = decide_write(req, previous, &out, resp.get()); !s.is_ok()) {
          return respond_error(env, call->reply_subject, s);
        }
        if (out.condition_failed) return respond(env, call->reply_subject, *resp);
        bool is_put = out.image.has_value();

        // Log -> apply: the entry holds the resulting image, so applying it is deterministic.
        // Replication (Raft) will ship exactly these entries; here commit is the local fsync.
        uint64_t index = ++st.last_index;
        if (is_put && !previous) ++st.item_count;
        if (!is_put && previous) --st.item_count;
        storage::v1::LogEntry entry;
        entry.set_index(index);
        entry.set_op(is_put ? storage::v1::DATA_OP_PUT : storage::v1::DATA_OP_DELETE);
        entry.set_key(skey);
        if (is_put) entry.set_item(*out.image);

        storage::v1::ReplicaRecord record = env.record;
        record.set_applied_index(index);
        record.set_item_count(st.item_count);

        store::Batch batch;
        const std::string& part = env.record.replica().partition_id();
        batch.put(env.log_cf, log_key(part, index), entry.SerializeAsString());
        if (index > env.log_retention) batch.erase(env.log_cf, log_key(part, index - env.log_retention));
        if (is_put) batch.put(env.data_cf, skey, *out.image);
        else batch.erase(env.data_cf, skey);
        batch.put(env.meta_cf, meta_key(part), record.SerializeAsString());

        resp->set_applied_index(index);
        st.pending[skey] = ReplicaState::Pending{index, std::move(out.image)};
        uint64_t items = st.item_count;
        env.committer->submit(
            std::move(batch),
            [envp = st.env, reply = call->reply_subject, resp, index, items, skey,
             actor = caf::actor_cast<caf::actor>(self)](const Status& s) mutable {
              if (!s.is_ok()) {
                // The in-memory state already counts this entry: continuing would diverge
                // from disk. A storage node that cannot write stops; restart recovers.
                spdlog::critical("replica {}: commit failed: {}; stopping the node",
                                 envp->record.replica().partition_id(), s.to_string());
                std::abort();
              }
              envp->counters->applied_index.store(index, std::memory_order_relaxed);
              envp->counters->items.store(items, std::memory_order_relaxed);
              envp->counters->writes.fetch_add(1, std::memory_order_relaxed);
              respond(*envp, reply, *resp);
              caf::anon_send(actor, committed_atom_v, index, std::move(skey));
            });
      },
      [self](committed_atom, uint64_t index, const std::string& key) {
        auto& pending = self->state.pending;
        auto it = pending.find(key);
        if (it != pending.end() && it->second.index == index) pending.erase(it);
      },
  };
}

}  // namespace shoal::storage
