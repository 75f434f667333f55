// GetItem: route by key to the leader and return the item, projected to the requested
// top-level attributes (AttributesToGet, or a ProjectionExpression of top-level names).
#include <set>

#include "../impl.h"

namespace shoal::router {

namespace errors = api::errors;

namespace {

// Top-level projection names; nested paths arrive with the expression engine (issue 3).
std::optional<api::ApiError> projection(const rapidjson::Value& body,
                                        std::optional<std::vector<std::string>>* out) {
  const auto* atg = member(body, "AttributesToGet");
  const auto* pe = member(body, "ProjectionExpression");
  if (atg && pe) {
    return errors::validation(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributesToGet} Expression parameters: "
        "{ProjectionExpression}");
  }
  if (atg) {
    if (!atg->IsArray()) return errors::wrong_json_type("List");
    std::vector<std::string> names;
    std::set<std::string> seen;
    for (const auto& n : atg->GetArray()) {
      if (!n.IsString()) return errors::wrong_json_type("String");
      std::string s(n.GetString(), n.GetStringLength());
      if (!seen.insert(s).second) {
        return errors::validation(
            "One or more parameter values were invalid: Duplicate value in attribute name: " + s);
      }
      names.push_back(std::move(s));
    }
    *out = std::move(names);
    return std::nullopt;
  }
  const auto* ean = member(body, "ExpressionAttributeNames");
  if (!pe) {
    if (ean) {
      return errors::validation(
          "ExpressionAttributeNames can only be specified when using expressions");
    }
    return std::nullopt;
  }
  if (!pe->IsString()) return errors::wrong_json_type("String");
  std::string_view expr(pe->GetString(), pe->GetStringLength());
  if (expr.find_first_not_of(" \t\n") == std::string_view::npos) {
    return errors::validation("Invalid ProjectionExpression: The expression can not be empty;");
  }
  std::vector<std::string> names;
  std::set<std::string> used;
  size_t pos = 0;
  while (pos <= expr.size()) {
    size_t comma = expr.find(',', pos);
    std::string_view part = expr.substr(pos, comma == std::string_view::npos ? expr.npos : comma - pos);
    auto b = part.find_first_not_of(" \t\n"), e = part.find_last_not_of(" \t\n");
    part = b == part.npos ? std::string_view() : part.substr(b, e - b + 1);
    if (part.empty() || part.find_first_of(".[] ") != part.npos) {
      return errors::validation(
          "Invalid ProjectionExpression: only top-level attribute names are supported by this "
          "Shoal version; expression: " + std::string(expr));
    }
    if (part[0] == '#') {
      const rapidjson::Value* v = ean && ean->IsObject() ? member(*ean, std::string(part).c_str()) : nullptr;
      if (!v || !v->IsString()) {
        return errors::validation(
            "Invalid ProjectionExpression: An expression attribute name used in the document "
            "path is not defined; attribute name: " + std::string(part));
      }
      used.insert(std::string(part));
      names.emplace_back(v->GetString(), v->GetStringLength());
    } else {
      names.emplace_back(part);
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  if (ean && ean->IsObject()) {
    for (auto it = ean->MemberBegin(); it != ean->MemberEnd(); ++it) {
      std::string k(it->name.GetString(), it->name.GetStringLength());
      if (!used.count(k)) {
        return errors::validation(
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {" + k + "}");
      }
    }
  }
  *out = std::move(names);
  return std::nullopt;
}

}  // namespace

void handle_get_item(Router::Impl& r, const CallPtr& call) {
  const auto& body = call->body;
  errors::ConstraintErrors c;
  std::string table;
  check_table_name(body, "TableName", "tableName", &c, &table);
  const auto* key_json = member(body, "Key");
  if (!key_json) c.null_member("key");
  if (!c.empty()) return call->fail(c.to_error());
  bool consistent = false;
  if (const auto* cr = member(body, "ConsistentRead")) {
    if (!cr->IsBool()) return call->fail(errors::wrong_json_type("Boolean"));
    consistent = cr->GetBool();
  }
  auto names = std::make_shared<std::optional<std::vector<std::string>>>();
  if (auto e = projection(body, names.get())) return call->fail(*e);
  auto key_item = std::make_shared<item::Item>();
  if (auto e = api::parse_item(*key_json, key_item.get())) return call->fail(*e);

  auto on_table = [&r, call, table, key_item, consistent, names](const TableInfo& t) {
    ItemKey key;
    if (auto e = key_from_key(t, *key_item, &key)) return call->fail(*e);
    auto req = make_data_request(storage::v1::DATA_OP_GET, t, std::move(key));
    req->set_consistent_read(consistent);
    r.data_rpc(call, table, req, [call, names](storage::v1::DataResponse&& resp) {
      reply_stored_item(call, resp.found(), resp.item(), "Item", names.get());
    });
  };
  with_active_table(r, call, table, std::move(on_table));
}

}  // namespace shoal::router
