// BatchGetItem and BatchWriteItem: validate everything first, then fan out one storage
// request per key, all in flight at once; a key whose partition cannot be reached in time
// comes back in UnprocessedKeys / UnprocessedItems instead of failing the batch.
#include <set>

#include "../capacity.h"
#include "../expressions.h"
#include "shoal/item/key.h"

namespace shoal::router {

namespace errors = api::errors;

namespace {

constexpr size_t kMaxBatchGetKeys = 100;
constexpr size_t kMaxBatchWriteRequests = 25;

struct TableInfoLookup {
  std::string name;
  TableInfoPtr info;
};

// Looks up every table of the batch; answers ResourceNotFoundException if one is missing or
// not ACTIVE, otherwise calls `fn` with all of them (in request order).
void with_tables(Router::Impl& r, const CallPtr& call, std::vector<std::string> names,
                 std::function<void(std::vector<TableInfoLookup>)> fn) {
  struct State {
    std::mutex mu;
    std::vector<TableInfoLookup> tables;
    size_t left;
    bool failed = false;
  };
  auto st = std::make_shared<State>();
  st->left = names.size();
  for (const auto& n : names) st->tables.push_back({n, nullptr});
  for (size_t i = 0; i < names.size(); ++i) {
    r.cache.get(names[i], [call, st, i, fn](Result<TableInfoPtr> info) {
      std::optional<api::ApiError> error;
      if (!info.ok()) {
        error = info.status().code() == Code::kNotFound ? errors::resource_not_found()
                                                        : errors::from_status(info.status());
      } else if (!(*info)->active()) {
        error = errors::resource_not_found();
      }
      bool done = false;
      {
        std::lock_guard l(st->mu);
        if (error) st->failed = true;
        else st->tables[i].info = *info;
        done = --st->left == 0 && !st->failed;
      }
      if (error) return call->fail(*error);
      if (done) fn(std::move(st->tables));
    });
  }
}

std::string key_identity(const std::string& table, const ItemKey& k) {
  return table + '\0' + item::storage_key(k.hash, k.pk, k.sk);
}

// RequestItems: a non-empty map (of tables).
std::optional<api::ApiError> request_items(const rapidjson::Value& body,
                                           const rapidjson::Value** out) {
  const auto* ri = member(body, "RequestItems");
  if (!ri) {
    errors::ConstraintErrors c;
    c.null_member("requestItems");
    return c.to_error();
  }
  if (!ri->IsObject()) return errors::wrong_json_type("Map");
  if (ri->MemberCount() == 0) {
    return errors::validation(
        "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1");
  }
  *out = ri;
  return std::nullopt;
}

}  // namespace

// ---- BatchGetItem ------------------------------------------------------------------------

void handle_batch_get_item(Router::Impl& r, const CallPtr& call) {
  const auto& body = call->body;
  const rapidjson::Value* ri = nullptr;
  if (auto e = request_items(body, &ri)) return call->fail(*e);
  struct TableRequest {
    std::string name;
    std::vector<item::Item> keys;
    std::optional<expr::v1::Projection> project;
    bool consistent = false;
  };
  auto requests = std::make_shared<std::vector<TableRequest>>();
  size_t total = 0;
  for (auto m = ri->MemberBegin(); m != ri->MemberEnd(); ++m) {
    TableRequest tr;
    tr.name.assign(m->name.GetString(), m->name.GetStringLength());
    if (!m->value.IsObject()) return call->fail(errors::wrong_json_type("KeysAndAttributes"));
    const auto* keys = member(m->value, "Keys");
    if (!keys) {
      errors::ConstraintErrors c;
      c.null_member("requestItems." + tr.name + ".member.keys");
      return call->fail(c.to_error());
    }
    if (!keys->IsArray()) return call->fail(errors::wrong_json_type("List"));
    if (keys->Empty()) {
      errors::ConstraintErrors c;
      c.list_min_length("requestItems." + tr.name + ".member.keys", 1);
      return call->fail(c.to_error());
    }
    for (const auto& k : keys->GetArray()) {
      item::Item key;
      if (auto e = api::parse_item(k, &key)) return call->fail(*e);
      tr.keys.push_back(std::move(key));
    }
    total += tr.keys.size();
    RequestExpressions ex;  // each table has its own names and projection
    if (auto e = ex.load(m->value)) return call->fail(*e);
    if (auto e = ex.projection(m->value, &tr.project)) return call->fail(*e);
    if (auto e = ex.finish({})) return call->fail(*e);
    if (const auto* cr = member(m->value, "ConsistentRead")) {
      if (!cr->IsBool()) return call->fail(errors::wrong_json_type("Boolean"));
      tr.consistent = cr->GetBool();
    }
    requests->push_back(std::move(tr));
  }
  ConsumedMode consumed;
  if (auto e = parse_return_consumed(body, &consumed)) return call->fail(*e);
  if (total > kMaxBatchGetKeys) {
    return call->fail(errors::validation("Too many items requested for the BatchGetItem call"));
  }
  std::vector<std::string> names;
  for (const auto& tr : *requests) names.push_back(tr.name);

  with_tables(r, call, names, [&r, call, requests,
                               consumed](std::vector<TableInfoLookup> tables) {
    // Validate every key against its table before reading anything.
    std::vector<std::vector<ItemKey>> keys(tables.size());
    std::set<std::string> seen;
    for (size_t t = 0; t < tables.size(); ++t) {
      for (const auto& k : (*requests)[t].keys) {
        ItemKey key;
        if (auto e = key_from_key(*tables[t].info, k, &key)) return call->fail(*e);
        if (!seen.insert(key_identity(tables[t].name, key)).second) {
          return call->fail(errors::validation("Provided list of item keys contains duplicates"));
        }
        keys[t].push_back(std::move(key));
      }
    }
    struct Gather {
      std::mutex mu;
      size_t left = 0;
      std::vector<std::vector<item::Item>> found;        // per table
      std::vector<std::vector<size_t>> unprocessed;      // per table: key indexes
      std::vector<uint64_t> half_units;                  // per table
    };
    auto g = std::make_shared<Gather>();
    g->found.resize(tables.size());
    g->unprocessed.resize(tables.size());
    g->half_units.resize(tables.size());
    for (const auto& ks : keys) g->left += ks.size();
    auto finish = [call, requests, g, tables, consumed]() {
      for (size_t t = 0; t < tables.size(); ++t) {
        count_units(tables[t].info->read_units, g->half_units[t]);
      }
      reply_json(call, [&](api::JsonWriter& w) {
        w.StartObject();
        w.Key("Responses");
        w.StartObject();
        for (size_t t = 0; t < tables.size(); ++t) {
          w.Key(tables[t].name.c_str());
          w.StartArray();
          for (const auto& it : g->found[t]) api::write_item(w, it);
          w.EndArray();
        }
        w.EndObject();
        std::vector<std::pair<std::string, uint64_t>> units;
        for (size_t t = 0; t < tables.size(); ++t) units.emplace_back(tables[t].name, g->half_units[t]);
        write_consumed_list(w, consumed, units);
        w.Key("UnprocessedKeys");
        w.StartObject();
        for (size_t t = 0; t < tables.size(); ++t) {
          if (g->unprocessed[t].empty()) continue;
          const auto& tr = (*requests)[t];
          w.Key(tables[t].name.c_str());
          w.StartObject();
          w.Key("Keys");
          w.StartArray();
          for (size_t i : g->unprocessed[t]) api::write_item(w, tr.keys[i]);
          w.EndArray();
          if (tr.consistent) {
            w.Key("ConsistentRead");
            w.Bool(true);
          }
          w.EndObject();
        }
        w.EndObject();
        w.EndObject();
      });
    };
    for (size_t t = 0; t < tables.size(); ++t) {
      for (size_t i = 0; i < keys[t].size(); ++i) {
        auto req = make_data_request(storage::v1::DATA_OP_GET, *tables[t].info,
                                     std::move(keys[t][i]));
        req->set_consistent_read((*requests)[t].consistent);
        r.data_call(call, tables[t].name, req,
                    [call, requests, g, t, i, finish](std::optional<api::ApiError> error,
                                                     storage::v1::DataResponse&& resp) {
                      bool last = false;
                      {
                        std::lock_guard l(g->mu);
                        if (error) {
                          g->unprocessed[t].push_back(i);
                        } else if (!resp.found()) {
                          g->half_units[t] += read_half_units(0, (*requests)[t].consistent);
                        } else {
                          item::Item it;
                          if (item::decode_item(resp.item(), &it)) {
                            g->half_units[t] +=
                                read_half_units(item::item_size(it), (*requests)[t].consistent);
                            const auto& project = (*requests)[t].project;
                            if (project) it = expr::project(it, *project);
                            g->found[t].push_back(std::move(it));
                          } else {
                            g->unprocessed[t].push_back(i);
                          }
                        }
                        last = --g->left == 0;
                      }
                      if (!last) return;
                      // Nothing at all could be read: DynamoDB answers with an error then.
                      size_t unprocessed = 0, asked = 0;
                      for (size_t x = 0; x < g->unprocessed.size(); ++x) {
                        unprocessed += g->unprocessed[x].size();
                        asked += (*requests)[x].keys.size();
                      }
                      if (unprocessed == asked && error) return call->fail(*error);
                      finish();
                    });
      }
    }
  });
}

// ---- BatchWriteItem ----------------------------------------------------------------------

void handle_batch_write_item(Router::Impl& r, const CallPtr& call) {
  const auto& body = call->body;
  const rapidjson::Value* ri = nullptr;
  if (auto e = request_items(body, &ri)) return call->fail(*e);
  struct Write {
    size_t table = 0;
    bool put = false;
    item::Item item;  // PutRequest.Item or DeleteRequest.Key
  };
  auto writes = std::make_shared<std::vector<Write>>();
  std::vector<std::string> names;
  for (auto m = ri->MemberBegin(); m != ri->MemberEnd(); ++m) {
    names.emplace_back(m->name.GetString(), m->name.GetStringLength());
    if (!m->value.IsArray()) return call->fail(errors::wrong_json_type("List"));
    if (m->value.Empty()) {
      errors::ConstraintErrors c;
      c.list_min_length("requestItems." + names.back() + ".member", 1);
      return call->fail(c.to_error());
    }
    for (const auto& w : m->value.GetArray()) {
      if (!w.IsObject()) return call->fail(errors::wrong_json_type("WriteRequest"));
      const auto* put = member(w, "PutRequest");
      const auto* del = member(w, "DeleteRequest");
      if ((put && !put->IsObject()) || (del && !del->IsObject())) {
        return call->fail(errors::wrong_json_type(put ? "PutRequest" : "DeleteRequest"));
      }
      if ((put != nullptr) == (del != nullptr)) {
        return call->fail(errors::validation(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes"));
      }
      Write write;
      write.table = names.size() - 1;
      write.put = put != nullptr;
      const auto* payload = put ? member(*put, "Item") : member(*del, "Key");
      if (!payload) {
        errors::ConstraintErrors c;
        c.null_member(put ? "requestItems." + names.back() + ".member.putRequest.item"
                          : "requestItems." + names.back() + ".member.deleteRequest.key");
        return call->fail(c.to_error());
      }
      if (auto e = api::parse_item(*payload, &write.item)) return call->fail(*e);
      if (write.put && item::item_size(write.item) > item::kMaxItemSize) {
        return call->fail(errors::item_too_large());
      }
      writes->push_back(std::move(write));
    }
  }
  ConsumedMode consumed;
  if (auto e = parse_return_consumed(body, &consumed)) return call->fail(*e);
  if (writes->size() > kMaxBatchWriteRequests) {
    return call->fail(errors::validation("Too many items requested for the BatchWriteItem call"));
  }

  with_tables(r, call, names, [&r, call, writes,
                               consumed](std::vector<TableInfoLookup> tables) {
    std::vector<ItemKey> keys(writes->size());
    std::set<std::string> seen;
    for (size_t i = 0; i < writes->size(); ++i) {
      const auto& w = (*writes)[i];
      const TableInfo& t = *tables[w.table].info;
      auto e = w.put ? key_from_item(t, w.item, &keys[i]) : key_from_key(t, w.item, &keys[i]);
      if (e) return call->fail(*e);
      if (!seen.insert(key_identity(tables[w.table].name, keys[i])).second) {
        return call->fail(errors::validation("Provided list of item keys contains duplicates"));
      }
    }
    struct Gather {
      std::mutex mu;
      size_t left = 0;
      std::vector<size_t> unprocessed;
      std::optional<api::ApiError> error;
      std::vector<uint64_t> half_units;  // per table
    };
    auto g = std::make_shared<Gather>();
    g->left = writes->size();
    g->half_units.resize(tables.size());
    for (size_t i = 0; i < writes->size(); ++i) {
      const auto& w = (*writes)[i];
      auto req = make_data_request(w.put ? storage::v1::DATA_OP_PUT : storage::v1::DATA_OP_DELETE,
                                   *tables[w.table].info, std::move(keys[i]));
      if (w.put) item::encode_item_to(w.item, req->mutable_item());
      req->set_want_old_size(true);  // consumed capacity is always counted (metrics)
      r.data_call(call, tables[w.table].name, req,
                  [call, writes, tables, g, i, consumed](std::optional<api::ApiError> error,
                                                         storage::v1::DataResponse&& resp) {
                    bool last = false;
                    {
                      std::lock_guard l(g->mu);
                      const auto& wr = (*writes)[i];
                      if (error) {
                        g->unprocessed.push_back(i);
                        g->error = error;
                      } else {
                        uint64_t size = wr.put ? item::item_size(wr.item) : 0;
                        g->half_units[wr.table] +=
                            write_half_units(std::max(size, resp.old_item_size()));
                      }
                      last = --g->left == 0;
                    }
                    if (!last) return;
                    for (size_t t = 0; t < tables.size(); ++t) {
                      count_units(tables[t].info->write_units, g->half_units[t]);
                    }
                    if (g->unprocessed.size() == writes->size() && g->error) {
                      return call->fail(*g->error);
                    }
                    std::sort(g->unprocessed.begin(), g->unprocessed.end());
                    reply_json(call, [&](api::JsonWriter& w) {
                      w.StartObject();
                      std::vector<std::pair<std::string, uint64_t>> units;
                      for (size_t t = 0; t < tables.size(); ++t) {
                        units.emplace_back(tables[t].name, g->half_units[t]);
                      }
                      write_consumed_list(w, consumed, units);
                      w.Key("UnprocessedItems");
                      w.StartObject();
                      for (size_t t = 0; t < tables.size(); ++t) {
                        bool any = false;
                        for (size_t u : g->unprocessed) {
                          const auto& wr = (*writes)[u];
                          if (wr.table != t) continue;
                          if (!any) {
                            w.Key(tables[t].name.c_str());
                            w.StartArray();
                            any = true;
                          }
                          w.StartObject();
                          w.Key(wr.put ? "PutRequest" : "DeleteRequest");
                          w.StartObject();
                          w.Key(wr.put ? "Item" : "Key");
                          api::write_item(w, wr.item);
                          w.EndObject();
                          w.EndObject();
                        }
                        if (any) w.EndArray();
                      }
                      w.EndObject();
                      w.EndObject();
                    });
                  });
    }
  });
}

}  // namespace shoal::router
