#include "legacy.h"

#include <algorithm>

namespace shoal::router {

namespace errors = api::errors;
namespace v1 = expr::v1;

namespace {

const std::vector<std::string_view> kOperators = {
    "EQ", "NE", "IN", "LE", "LT", "GE", "GT", "BETWEEN", "NOT_NULL", "NULL", "CONTAINS",
    "NOT_CONTAINS", "BEGINS_WITH"};

v1::Operand path_operand(const std::string& name) {
  v1::Operand o;
  o.mutable_path()->add_elements()->set_name(name);
  return o;
}

v1::Operand value_operand(const item::AttributeValue& v) {
  v1::Operand o;
  o.set_value(item::encode_value(v));
  return o;
}

std::string lowercase_first(std::string_view s) {
  std::string out(s);
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

bool scalar(const item::AttributeValue& v) {
  return v.type == item::Type::kS || v.type == item::Type::kN || v.type == item::Type::kB;
}

std::optional<api::ApiError> invalid(std::string_view what) {
  return errors::validation("One or more parameter values were invalid: " + std::string(what));
}

// One {"ComparisonOperator": ..., "AttributeValueList": [...]} on attribute `name`.
std::optional<api::ApiError> comparison(const std::string& name, std::string_view op,
                                        const std::vector<item::AttributeValue>& args,
                                        v1::Condition* out) {
  size_t want_min = 1, want_max = 1;
  if (op == "NOT_NULL" || op == "NULL") want_min = want_max = 0;
  if (op == "BETWEEN") want_min = want_max = 2;
  if (op == "IN") want_max = 100000;
  if (args.size() < want_min || args.size() > want_max) {
    return invalid("Invalid number of argument(s) for the " + std::string(op) +
                   " ComparisonOperator");
  }
  bool ordered = op == "LE" || op == "LT" || op == "GE" || op == "GT" || op == "BETWEEN";
  for (const auto& a : args) {
    if ((ordered || op == "IN") && !scalar(a)) {
      return invalid("ComparisonOperator " + std::string(op) + " is not valid for " +
                     item::type_name(a.type) + " AttributeValue type");
    }
    if (op == "BEGINS_WITH" && a.type != item::Type::kS && a.type != item::Type::kB) {
      return invalid("ComparisonOperator BEGINS_WITH is not valid for " +
                     std::string(item::type_name(a.type)) + " AttributeValue type");
    }
    if ((op == "CONTAINS" || op == "NOT_CONTAINS") && !scalar(a)) {
      return invalid("ComparisonOperator " + std::string(op) + " is not valid for " +
                     item::type_name(a.type) + " AttributeValue type");
    }
  }
  if (op == "BETWEEN" && args[0].type != args[1].type) {
    return invalid("AttributeValues inside AttributeValueList must be of same type");
  }
  if (op == "BETWEEN" && args[0].type == args[1].type) {
    bool reversed = args[0].type == item::Type::kN ? args[1].number < args[0].number
                                                   : args[1].bytes < args[0].bytes;
    if (reversed) {
      return errors::validation(
          "The BETWEEN condition was provided a range where the lower bound is greater than "
          "the upper bound");
    }
  }
  auto compare = [&](v1::CompareOp cop) {
    auto* c = out->mutable_comparison();
    c->set_op(cop);
    *c->mutable_lhs() = path_operand(name);
    *c->mutable_rhs() = value_operand(args[0]);
  };
  auto function = [&](v1::FunctionName fn, bool with_value, v1::Condition* target) {
    auto* f = target->mutable_function();
    f->set_name(fn);
    *f->add_args() = path_operand(name);
    if (with_value) *f->add_args() = value_operand(args[0]);
  };
  if (op == "EQ") compare(v1::COMPARE_OP_EQ);
  else if (op == "NE") compare(v1::COMPARE_OP_NE);
  else if (op == "LE") compare(v1::COMPARE_OP_LE);
  else if (op == "LT") compare(v1::COMPARE_OP_LT);
  else if (op == "GE") compare(v1::COMPARE_OP_GE);
  else if (op == "GT") compare(v1::COMPARE_OP_GT);
  else if (op == "NOT_NULL") function(v1::FUNCTION_NAME_ATTRIBUTE_EXISTS, false, out);
  else if (op == "NULL") function(v1::FUNCTION_NAME_ATTRIBUTE_NOT_EXISTS, false, out);
  else if (op == "CONTAINS") function(v1::FUNCTION_NAME_CONTAINS, true, out);
  else if (op == "NOT_CONTAINS") {
    // Legacy NOT_CONTAINS holds only for an attribute that exists and lacks the value.
    auto* all = out->mutable_conjunction();
    function(v1::FUNCTION_NAME_ATTRIBUTE_EXISTS, false, all->add_terms());
    function(v1::FUNCTION_NAME_CONTAINS, true, all->add_terms()->mutable_negation());
  } else if (op == "BEGINS_WITH") function(v1::FUNCTION_NAME_BEGINS_WITH, true, out);
  else if (op == "IN") {
    auto* in = out->mutable_in_list();
    *in->mutable_operand() = path_operand(name);
    for (const auto& a : args) *in->add_candidates() = value_operand(a);
  } else if (op == "BETWEEN") {
    auto* b = out->mutable_between();
    *b->mutable_operand() = path_operand(name);
    *b->mutable_lower() = value_operand(args[0]);
    *b->mutable_upper() = value_operand(args[1]);
  }
  return std::nullopt;
}

std::optional<api::ApiError> parse_values(const rapidjson::Value& list,
                                          std::vector<item::AttributeValue>* out) {
  if (!list.IsArray()) return errors::wrong_json_type("List");
  for (const auto& v : list.GetArray()) {
    item::AttributeValue value;
    if (auto e = api::parse_value(v, &value)) return e;
    out->push_back(std::move(value));
  }
  return std::nullopt;
}

}  // namespace

std::optional<api::ApiError> legacy_condition(const rapidjson::Value& body, const char* param,
                                              std::optional<v1::Condition>* out) {
  const auto* conds = member(body, param);
  const auto* cop = member(body, "ConditionalOperator");
  bool use_or = false;
  if (cop) {
    if (!cop->IsString()) return errors::wrong_json_type("String");
    std::string_view s(cop->GetString(), cop->GetStringLength());
    if (s == "OR") use_or = true;
    else if (s != "AND") {
      errors::ConstraintErrors c;
      c.enum_value("conditionalOperator", s, {"AND", "OR"});
      return c.to_error();
    }
  }
  if (!conds) return std::nullopt;
  if (!conds->IsObject()) return errors::wrong_json_type("Map");
  bool expected = std::string_view(param) == "Expected";
  std::vector<v1::Condition> terms;
  for (auto m = conds->MemberBegin(); m != conds->MemberEnd(); ++m) {
    std::string name(m->name.GetString(), m->name.GetStringLength());
    const auto& spec = m->value;
    if (!spec.IsObject()) return errors::wrong_json_type("Condition");
    const auto* op = member(spec, "ComparisonOperator");
    const auto* list = member(spec, "AttributeValueList");
    const auto* value = expected ? member(spec, "Value") : nullptr;
    const auto* exists = expected ? member(spec, "Exists") : nullptr;
    v1::Condition term;
    if (op) {
      if (!op->IsString()) return errors::wrong_json_type("String");
      std::string_view ops(op->GetString(), op->GetStringLength());
      if (std::find(kOperators.begin(), kOperators.end(), ops) == kOperators.end()) {
        errors::ConstraintErrors c;
        c.enum_value(lowercase_first(param) + "." + name + ".member.comparisonOperator", ops,
                     {"IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL",
                      "NE", "LE", "BEGINS_WITH", "GE", "CONTAINS"});
        return c.to_error();
      }
      if (value || exists) {
        return invalid("Value or Exists cannot be used with ComparisonOperator");
      }
      std::vector<item::AttributeValue> args;
      if (list) {
        if (auto e = parse_values(*list, &args)) return e;
      }
      if (auto e = comparison(name, ops, args, &term)) return e;
    } else if (expected) {
      if (list) return invalid("AttributeValueList can only be used with a ComparisonOperator");
      bool must_exist = true;
      if (exists) {
        if (!exists->IsBool()) return errors::wrong_json_type("Boolean");
        must_exist = exists->GetBool();
      }
      if (must_exist) {
        if (!value) return invalid("Value must be provided when Exists is true");
        std::vector<item::AttributeValue> args(1);
        if (auto e = api::parse_value(*value, &args[0])) return e;
        if (auto e = comparison(name, "EQ", args, &term)) return e;
      } else {
        if (value) return invalid("Value cannot be used when Exists is false");
        if (auto e = comparison(name, "NULL", {}, &term)) return e;
      }
    } else {
      errors::ConstraintErrors c;
      c.null_member(lowercase_first(param) + "." + name + ".member.comparisonOperator");
      return c.to_error();
    }
    terms.push_back(std::move(term));
  }
  if (terms.empty()) return std::nullopt;
  if (terms.size() == 1) {
    *out = std::move(terms[0]);
    return std::nullopt;
  }
  v1::Condition all;
  auto* j = use_or ? all.mutable_disjunction() : all.mutable_conjunction();
  for (auto& t : terms) *j->add_terms() = std::move(t);
  *out = std::move(all);
  return std::nullopt;
}

std::optional<api::ApiError> legacy_update(const rapidjson::Value& updates,
                                           const std::vector<std::string>& key_names,
                                           v1::Update* out) {
  if (!updates.IsObject()) return errors::wrong_json_type("Map");
  for (auto m = updates.MemberBegin(); m != updates.MemberEnd(); ++m) {
    std::string name(m->name.GetString(), m->name.GetStringLength());
    if (std::find(key_names.begin(), key_names.end(), name) != key_names.end()) {
      return invalid("Cannot update attribute " + name + ". This attribute is part of the key");
    }
    if (!m->value.IsObject()) return errors::wrong_json_type("AttributeValueUpdate");
    std::string action = "PUT";
    if (const auto* a = member(m->value, "Action")) {
      if (!a->IsString()) return errors::wrong_json_type("String");
      action.assign(a->GetString(), a->GetStringLength());
      if (action != "PUT" && action != "DELETE" && action != "ADD") {
        errors::ConstraintErrors c;
        c.enum_value("attributeUpdates." + name + ".member.action", action,
                     {"ADD", "PUT", "DELETE"});
        return c.to_error();
      }
    }
    std::optional<item::AttributeValue> value;
    if (const auto* v = member(m->value, "Value")) {
      value.emplace();
      if (auto e = api::parse_value(*v, &*value)) return e;
    }
    v1::Path path;
    path.add_elements()->set_name(name);
    if (action == "PUT") {
      if (!value) return invalid("Only DELETE action is allowed when no attribute value is specified");
      auto* set = out->add_set_actions();
      *set->mutable_path() = path;
      set->mutable_value()->mutable_operand()->set_value(item::encode_value(*value));
    } else if (action == "DELETE") {
      if (!value) {
        *out->add_remove_paths() = path;
        continue;
      }
      if (value->type != item::Type::kSS && value->type != item::Type::kNS &&
          value->type != item::Type::kBS) {
        return invalid("DELETE action with value is not supported for the type " +
                       std::string(item::type_name(value->type)));
      }
      auto* del = out->add_delete_actions();
      *del->mutable_path() = path;
      del->set_value(item::encode_value(*value));
    } else {  // ADD
      if (!value) return invalid("Only DELETE action is allowed when no attribute value is specified");
      if (value->type == item::Type::kL) {
        // Legacy ADD appends to a list (creating it); expressions spell it list_append.
        auto* set = out->add_set_actions();
        *set->mutable_path() = path;
        auto* append = set->mutable_value()->mutable_operand()->mutable_list_append();
        auto* existing = append->mutable_first()->mutable_if_not_exists();
        *existing->mutable_path() = path;
        existing->mutable_fallback()->set_value(item::encode_value(item::AttributeValue::L({})));
        append->mutable_second()->set_value(item::encode_value(*value));
        continue;
      }
      if (value->type != item::Type::kN && value->type != item::Type::kSS &&
          value->type != item::Type::kNS && value->type != item::Type::kBS) {
        return invalid("ADD action is not supported for the type " +
                       std::string(item::type_name(value->type)));
      }
      auto* add = out->add_add_actions();
      *add->mutable_path() = path;
      add->set_value(item::encode_value(*value));
    }
  }
  return std::nullopt;
}

}  // namespace shoal::router
