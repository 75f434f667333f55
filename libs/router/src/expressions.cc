#include "expressions.h"

#include <set>

#include "legacy.h"

namespace shoal::router {

namespace errors = api::errors;

namespace {

std::optional<api::ApiError> string_param(const rapidjson::Value& body, const char* param,
                                          std::optional<std::string_view>* out) {
  const auto* v = member(body, param);
  if (!v) return std::nullopt;
  if (!v->IsString()) return errors::wrong_json_type("String");
  *out = std::string_view(v->GetString(), v->GetStringLength());
  return std::nullopt;
}

}  // namespace

// A placeholder is its sigil ('#' or ':') followed by one or more of [A-Za-z0-9_].
bool placeholder_syntax(std::string_view key, char sigil) {
  if (key.size() < 2 || key[0] != sigil) return false;
  for (char c : key.substr(1)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::optional<api::ApiError> RequestExpressions::load(const rapidjson::Value& body) {
  body_ = &body;
  if (const auto* n = member(body, "ExpressionAttributeNames")) {
    if (!n->IsObject()) return errors::wrong_json_type("Map");
    if (n->MemberCount() == 0) {
      return errors::validation("ExpressionAttributeNames must not be empty");
    }
    for (auto m = n->MemberBegin(); m != n->MemberEnd(); ++m) {
      std::string_view key(m->name.GetString(), m->name.GetStringLength());
      if (!placeholder_syntax(key, '#')) {
        return errors::validation(
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"" +
            std::string(key) + "\"");
      }
      if (!m->value.IsString()) return errors::wrong_json_type("String");
      if (m->value.GetStringLength() == 0) {
        return errors::validation(
            "ExpressionAttributeNames contains invalid value: Empty attribute name for key " +
            std::string(key));
      }
    }
    placeholders_.add_names(*n);
    has_names_ = true;
  }
  if (const auto* v = member(body, "ExpressionAttributeValues")) {
    if (!v->IsObject()) return errors::wrong_json_type("Map");
    if (v->MemberCount() == 0) {
      return errors::validation("ExpressionAttributeValues must not be empty");
    }
    for (auto m = v->MemberBegin(); m != v->MemberEnd(); ++m) {
      std::string key(m->name.GetString(), m->name.GetStringLength());
      if (!placeholder_syntax(key, ':')) {
        return errors::validation(
            "ExpressionAttributeValues contains invalid key: Syntax error; key: \"" + key +
            "\"");
      }
      item::AttributeValue value;
      if (auto e = api::parse_value(m->value, &value)) {
        if (e->type.ends_with("ValidationException")) {
          return errors::validation("ExpressionAttributeValues contains invalid value: " +
                                    e->message + " for key " + key);
        }
        return e;
      }
      placeholders_.values.emplace(std::move(key), std::move(value));
    }
    has_values_ = true;
  }
  return std::nullopt;
}

std::optional<api::ApiError> RequestExpressions::condition(
    const rapidjson::Value& body, const char* param, std::optional<expr::v1::Condition>* out) {
  std::optional<std::string_view> text;
  if (auto e = string_param(body, param, &text)) return e;
  if (!text) return std::nullopt;
  used_expression_ = true;
  auto c = expr::parse_condition(*text, placeholders_, param);
  if (!c.ok()) return errors::from_status(c.status());
  *out = std::move(c).value();
  return std::nullopt;
}

std::optional<api::ApiError> RequestExpressions::update(const rapidjson::Value& body,
                                                        const std::vector<std::string>& key_names,
                                                        std::optional<expr::v1::Update>* out) {
  std::optional<std::string_view> text;
  if (auto e = string_param(body, "UpdateExpression", &text)) return e;
  if (!text) return std::nullopt;
  used_expression_ = true;
  auto u = expr::parse_update(*text, placeholders_, key_names);
  if (!u.ok()) return errors::from_status(u.status());
  *out = std::move(u).value();
  return std::nullopt;
}

std::optional<api::ApiError> RequestExpressions::projection(
    const rapidjson::Value& body, std::optional<expr::v1::Projection>* out) {
  if (auto e = refuse_mixed(body, {"AttributesToGet"}, {"ProjectionExpression"})) return e;
  if (const auto* atg = member(body, "AttributesToGet")) {
    if (!atg->IsArray()) return errors::wrong_json_type("List");
    expr::v1::Projection p;
    std::set<std::string> seen;
    for (const auto& n : atg->GetArray()) {
      if (!n.IsString()) return errors::wrong_json_type("String");
      std::string s(n.GetString(), n.GetStringLength());
      if (!seen.insert(s).second) {
        return errors::validation(
            "One or more parameter values were invalid: Duplicate value in attribute name: " + s);
      }
      p.add_paths()->add_elements()->set_name(std::move(s));
    }
    *out = std::move(p);
    return std::nullopt;
  }
  std::optional<std::string_view> text;
  if (auto e = string_param(body, "ProjectionExpression", &text)) return e;
  if (!text) return std::nullopt;
  used_expression_ = true;
  auto p = expr::parse_projection(*text, placeholders_);
  if (!p.ok()) return errors::from_status(p.status());
  *out = std::move(p).value();
  return std::nullopt;
}

std::optional<api::ApiError> RequestExpressions::key_condition(
    const rapidjson::Value& body, const expr::KeySchema& schema,
    std::optional<expr::v1::KeyCondition>* out) {
  std::optional<std::string_view> text;
  if (auto e = string_param(body, "KeyConditionExpression", &text)) return e;
  if (!text) return std::nullopt;
  used_expression_ = true;
  auto k = expr::parse_key_condition(*text, placeholders_, schema);
  if (!k.ok()) return errors::from_status(k.status());
  *out = std::move(k).value();
  return std::nullopt;
}

std::optional<api::ApiError> RequestExpressions::finish(
    const std::vector<const char*>& value_expressions) const {
  if (has_values_) {
    // Values need an expression that can hold them (a projection cannot).
    bool any = false;
    for (const char* p : value_expressions) any = any || (body_ && member(*body_, p));
    if (!any) {
      std::string msg = "ExpressionAttributeValues can only be specified when using expressions";
      for (size_t i = 0; i < value_expressions.size(); ++i) {
        msg += i == 0 ? ": " : i + 1 == value_expressions.size() ? " and " : ", ";
        msg += value_expressions[i];
      }
      if (!value_expressions.empty()) msg += value_expressions.size() == 1 ? " is null" : " are null";
      return errors::validation(std::move(msg));
    }
  }
  if (!used_expression_) {
    if (has_names_) {
      return errors::validation(
          "ExpressionAttributeNames can only be specified when using expressions");
    }
    return std::nullopt;
  }
  Status s = expr::check_all_used(placeholders_);
  if (!s.is_ok()) return errors::from_status(s);
  return std::nullopt;
}

void WriteCondition::apply_to(storage::v1::DataRequest* req) const {
  if (condition) *req->mutable_condition() = *condition;
  req->set_return_old_on_condition_failure(return_old_on_failure);
}

std::optional<api::ApiError> parse_write_condition(const rapidjson::Value& body,
                                                   RequestExpressions& ex, WriteCondition* out) {
  if (auto e = refuse_mixed(body, {"Expected", "ConditionalOperator"}, {"ConditionExpression"})) {
    return e;
  }
  if (auto e = ex.condition(body, "ConditionExpression", &out->condition)) return e;
  if (!out->condition) {
    if (auto e = legacy_condition(body, "Expected", &out->condition)) return e;
  }
  if (const auto* v = member(body, "ReturnValuesOnConditionCheckFailure")) {
    if (!v->IsString()) return errors::wrong_json_type("String");
    std::string_view s(v->GetString(), v->GetStringLength());
    if (s == "ALL_OLD") {
      out->return_old_on_failure = true;
    } else if (s != "NONE") {
      errors::ConstraintErrors c;
      c.enum_value("returnValuesOnConditionCheckFailure", s, {"ALL_OLD", "NONE"});
      return c.to_error();
    }
  }
  return std::nullopt;
}

std::optional<api::ApiError> parse_single_write(const rapidjson::Value& body,
                                                SingleWriteOptions* out) {
  RequestExpressions ex;
  if (auto e = ex.load(body)) return e;
  if (auto e = parse_write_condition(body, ex, &out->cond)) return e;
  if (auto e = ex.finish({"ConditionExpression"})) return e;
  if (auto e = parse_return_old(body, &out->return_old)) return e;
  return parse_return_consumed(body, &out->consumed);
}

api::ApiError condition_failed_error(const storage::v1::DataResponse& resp) {
  std::string json;
  item::Item current;
  if (resp.found() && item::decode_item(resp.item(), &current)) {
    rapidjson::StringBuffer sb;
    api::JsonWriter w(sb);
    api::write_item(w, current);
    json.assign(sb.GetString(), sb.GetSize());
  }
  return errors::conditional_check_failed(std::move(json));
}

std::optional<api::ApiError> refuse_mixed(const rapidjson::Value& body,
                                          const std::vector<const char*>& legacy,
                                          const std::vector<const char*>& expressions) {
  std::string old_names, new_names;
  for (const char* n : legacy) {
    if (member(body, n)) old_names += (old_names.empty() ? "" : ", ") + std::string(n);
  }
  for (const char* n : expressions) {
    if (member(body, n)) new_names += (new_names.empty() ? "" : ", ") + std::string(n);
  }
  if (old_names.empty() || new_names.empty()) return std::nullopt;
  return errors::validation(
      "Can not use both expression and non-expression parameters in the same request: "
      "Non-expression parameters: {" + old_names + "} Expression parameters: {" + new_names +
      "}");
}

}  // namespace shoal::router
