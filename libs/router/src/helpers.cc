#include <algorithm>
#include <set>

#include "impl.h"
#include "shoal/expr/eval.h"
#include "shoal/item/key.h"

namespace shoal::router {

namespace errors = api::errors;

Status status_from_proto(const common::v1::Status& s) {
  if (s.code() == common::v1::CODE_OK || s.code() == common::v1::CODE_UNSPECIFIED)
    return Status::ok();
  return Status(static_cast<Code>(s.code()), s.message());
}

const rapidjson::Value* member(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;  // RapidJSON's FindMember is undefined on non-objects
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

std::optional<std::string> string_member(const rapidjson::Value& obj, const char* name) {
  const auto* v = member(obj, name);
  if (!v || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

void check_table_name(const rapidjson::Value& body, const char* json_name, const char* path,
                      errors::ConstraintErrors* errs, std::string* out) {
  auto name = string_member(body, json_name);
  if (!name) {
    errs->null_member(path);
    return;
  }
  *out = *name;
  bool pattern_ok = std::all_of(name->begin(), name->end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
  });
  if (!pattern_ok) errs->pattern(path, *name, "[a-zA-Z0-9_.-]+");
  if (name->size() < 3) errs->min_length(path, *name, 3);
  if (name->size() > 255) errs->max_length(path, *name, 255);
}

namespace {

// Validates one key attribute's value and returns its component bytes.
std::optional<api::ApiError> key_part(const std::string& name, item::Type want,
                                      const item::AttributeValue& v, bool is_hash,
                                      std::string* out) {
  if (v.type != want) return std::nullopt;  // the caller decides which message applies
  if ((v.type == item::Type::kS || v.type == item::Type::kB) && v.bytes.empty()) {
    return errors::empty_key_value(name);
  }
  *out = item::key_component(v);
  size_t raw = v.type == item::Type::kN ? item::value_size(v) : v.bytes.size();
  if (is_hash && raw > 2048) return errors::hash_key_too_large();
  if (!is_hash && raw > 1024) return errors::range_key_too_large();
  return std::nullopt;
}

}  // namespace

std::optional<api::ApiError> key_from_item(const TableInfo& t, const item::Item& item,
                                           ItemKey* out) {
  const auto* h = item::find_attribute(item, t.hash_key);
  if (!h) return errors::missing_key_in_item(t.hash_key);
  if (h->type != t.hash_type) return errors::key_type_mismatch(t.hash_key, t.hash_type, h->type);
  if (auto e = key_part(t.hash_key, t.hash_type, *h, true, &out->pk)) return e;
  if (!t.range_key.empty()) {
    const auto* r = item::find_attribute(item, t.range_key);
    if (!r) return errors::missing_key_in_item(t.range_key);
    if (r->type != t.range_type)
      return errors::key_type_mismatch(t.range_key, t.range_type, r->type);
    if (auto e = key_part(t.range_key, t.range_type, *r, false, &out->sk)) return e;
  }
  out->hash = item::partition_hash(out->pk);
  return std::nullopt;
}

std::optional<api::ApiError> key_from_key(const TableInfo& t, const item::Item& key,
                                          ItemKey* out) {
  size_t want = t.range_key.empty() ? 1 : 2;
  if (key.size() != want) return errors::key_schema_mismatch();
  const auto* h = item::find_attribute(key, t.hash_key);
  if (!h || h->type != t.hash_type) return errors::key_schema_mismatch();
  if (auto e = key_part(t.hash_key, t.hash_type, *h, true, &out->pk)) return e;
  if (!t.range_key.empty()) {
    const auto* r = item::find_attribute(key, t.range_key);
    if (!r || r->type != t.range_type) return errors::key_schema_mismatch();
    if (auto e = key_part(t.range_key, t.range_type, *r, false, &out->sk)) return e;
  }
  out->hash = item::partition_hash(out->pk);
  return std::nullopt;
}

}  // namespace shoal::router

namespace shoal::router {

std::optional<api::ApiError> parse_return_old(const rapidjson::Value& body, bool* return_old) {
  *return_old = false;
  const auto* rv = member(body, "ReturnValues");
  if (!rv) return std::nullopt;
  if (!rv->IsString()) return api::errors::wrong_json_type("String");
  std::string_view v(rv->GetString(), rv->GetStringLength());
  if (v == "NONE") return std::nullopt;
  if (v == "ALL_OLD") {
    *return_old = true;
    return std::nullopt;
  }
  if (v == "UPDATED_OLD" || v == "ALL_NEW" || v == "UPDATED_NEW") {
    return api::errors::validation("Return values set to invalid value");
  }
  api::errors::ConstraintErrors c;
  c.enum_value("returnValues", v, {"ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"});
  return c.to_error();
}

void with_active_table(Router::Impl& r, const CallPtr& call, const std::string& table,
                       std::function<void(const TableInfoPtr&)> fn) {
  r.cache.get(table, [call, fn = std::move(fn)](Result<TableInfoPtr> info) {
    if (!info.ok()) {
      if (info.status().code() == Code::kNotFound) {
        return call->fail(api::errors::resource_not_found());
      }
      return call->fail(api::errors::from_status(info.status()));
    }
    if (!(*info)->active()) return call->fail(api::errors::resource_not_found());
    fn(*info);
  });
}

std::shared_ptr<storage::v1::DataRequest> make_data_request(storage::v1::DataOp op,
                                                            const TableInfo& t, ItemKey&& key) {
  auto req = std::make_shared<storage::v1::DataRequest>();
  req->set_op(op);
  req->set_table_id(t.table.table_id());
  req->set_hash(key.hash);
  req->set_pk(std::move(key.pk));
  req->set_sk(std::move(key.sk));
  return req;
}

void reply_stored_item(const CallPtr& call, bool found, const std::string& encoded,
                       const char* member, const std::optional<expr::v1::Projection>* project,
                       const ExtraMembers& extra) {
  if (!found && !extra) return call->ok("{}");
  item::Item it;
  if (found && !item::decode_item(encoded, &it)) {
    return call->fail(api::errors::internal_server_error("undecodable stored item"));
  }
  uint64_t size = found ? item::item_size(it) : 0;
  if (found && project && project->has_value()) it = expr::project(it, **project);
  reply_json(call, [&](api::JsonWriter& w) {
    w.StartObject();
    if (found) {
      w.Key(member);
      api::write_item(w, it);
    }
    if (extra) extra(w, size);
    w.EndObject();
  });
}

bool write_key_of(api::JsonWriter& w, const TableInfo& t, std::string_view key) {
  if (key.size() < 12) return false;
  uint32_t pk_len = 0;
  for (int i = 8; i < 12; ++i) pk_len = (pk_len << 8) | static_cast<uint8_t>(key[i]);
  if (key.size() < 12 + static_cast<size_t>(pk_len)) return false;
  item::AttributeValue pk, sk;
  if (!item::key_component_to_value(t.hash_type, key.substr(12, pk_len), &pk)) return false;
  item::Item k;
  k.emplace_back(t.hash_key, std::move(pk));
  if (!t.range_key.empty()) {
    if (!item::key_component_to_value(t.range_type, key.substr(12 + pk_len), &sk)) return false;
    k.emplace_back(t.range_key, std::move(sk));
  }
  api::write_item(w, k);
  return true;
}

std::optional<api::ApiError> exclusive_start(const TableInfo& t, const rapidjson::Value& body,
                                             std::string* storage_key) {
  storage_key->clear();
  const auto* esk = member(body, "ExclusiveStartKey");
  if (!esk) return std::nullopt;
  item::Item key;
  if (auto e = api::parse_item(*esk, &key)) return e;
  ItemKey k;
  if (key_from_key(t, key, &k)) {
    return api::errors::validation(
        "The provided starting key is invalid: The provided key element does not match the "
        "schema");
  }
  *storage_key = item::storage_key(k.hash, k.pk, k.sk);
  return std::nullopt;
}

}  // namespace shoal::router
