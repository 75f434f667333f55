// Query: the items of one partition key, in sort-key order (or reversed), optionally
// narrowed by one sort-key condition; paged like DynamoDB.
#include "../paging.h"
#include "shoal/expr/eval.h"
#include "shoal/item/key.h"

namespace shoal::router {

namespace errors = api::errors;

namespace {

// A key condition in the form both the legacy KeyConditions and KeyConditionExpression
// reduce to: the partition key value and at most one sort-key operator.
struct KeyCondition {
  const item::AttributeValue* pk = nullptr;
  std::string sk_op;  // "", EQ, LT, LE, GT, GE, BETWEEN, BEGINS_WITH
  std::vector<const item::AttributeValue*> sk_values;
};

// How DynamoDB prints a key operand inside a message: {S:abc}, {N:1.5}, {B:<base64>}.
std::string operand_text(const item::AttributeValue& v) {
  std::string body = v.type == item::Type::kN   ? v.number.to_string()
                     : v.type == item::Type::kB ? api::base64_encode(v.bytes)
                                                : v.bytes;
  return "AttributeValue: {" + std::string(item::type_name(v.type)) + ":" + body + "}";
}

size_t operand_count(std::string_view op) {
  if (op == "BETWEEN") return 2;
  return 1;
}

// KeyConditions: {"attr": {"ComparisonOperator": "EQ", "AttributeValueList": [..]}, ...}
std::optional<api::ApiError> parse_key_conditions(const TableInfo& t, const rapidjson::Value& kc,
                                                  item::Item* storage, KeyCondition* out) {
  if (!kc.IsObject()) return errors::wrong_json_type("Map");
  // Values are parsed into `storage` (kept alive by the caller) and pointed at.
  struct Raw {
    std::string name, op;
    size_t first = 0, count = 0;
  };
  std::vector<Raw> raws;
  for (auto m = kc.MemberBegin(); m != kc.MemberEnd(); ++m) {
    Raw raw;
    raw.name.assign(m->name.GetString(), m->name.GetStringLength());
    if (!m->value.IsObject()) return errors::wrong_json_type("Condition");
    const auto* op = member(m->value, "ComparisonOperator");
    if (!op) {
      errors::ConstraintErrors c;
      c.null_member("keyConditions." + raw.name + ".member.comparisonOperator");
      return c.to_error();
    }
    if (!op->IsString()) return errors::wrong_json_type("String");
    raw.op.assign(op->GetString(), op->GetStringLength());
    static const std::vector<std::string> kOps = {"EQ", "NE", "IN", "LE", "LT", "GE", "GT",
                                                  "BETWEEN", "NOT_NULL", "NULL", "CONTAINS",
                                                  "NOT_CONTAINS", "BEGINS_WITH"};
    if (std::find(kOps.begin(), kOps.end(), raw.op) == kOps.end()) {
      errors::ConstraintErrors c;
      c.enum_value("keyConditions." + raw.name + ".member.comparisonOperator", raw.op,
                   {"IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL", "NE", "LE",
                    "BEGINS_WITH", "GE", "CONTAINS"});
      return c.to_error();
    }
    raw.first = storage->size();
    if (const auto* list = member(m->value, "AttributeValueList")) {
      if (!list->IsArray()) return errors::wrong_json_type("List");
      for (const auto& v : list->GetArray()) {
        item::AttributeValue value;
        if (auto e = api::parse_value(v, &value)) return e;
        storage->emplace_back(std::string(), std::move(value));
      }
    }
    raw.count = storage->size() - raw.first;
    raws.push_back(std::move(raw));
  }
  for (const auto& raw : raws) {
    bool is_pk = raw.name == t.hash_key, is_sk = !t.range_key.empty() && raw.name == t.range_key;
    if (!is_pk && !is_sk) {
      return errors::validation(
          "Query condition missed key schema element: " +
          (raws.size() == 1 || !t.range_key.empty() ? t.hash_key : t.range_key));
    }
    static const std::vector<std::string> kKeyOps = {"EQ", "LE", "LT", "GE", "GT", "BETWEEN",
                                                     "BEGINS_WITH"};
    if (std::find(kKeyOps.begin(), kKeyOps.end(), raw.op) == kKeyOps.end() ||
        (is_pk && raw.op != "EQ")) {
      return errors::validation("Attempted conditional constraint is not an indexable operation");
    }
    if (raw.count != operand_count(raw.op)) {
      return errors::validation(
          "One or more parameter values were invalid: Invalid number of argument(s) for the " +
          raw.op + " ComparisonOperator");
    }
    item::Type want = is_pk ? t.hash_type : t.range_type;
    for (size_t i = raw.first; i < raw.first + raw.count; ++i) {
      const auto& v = (*storage)[i].second;
      if (v.type != want) {
        if (raw.op == "BEGINS_WITH" && v.type == item::Type::kN) {
          return errors::validation(
              "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not "
              "valid for N AttributeValue type");
        }
        return errors::validation(
            "One or more parameter values were invalid: Condition parameter type does not match "
            "schema type");
      }
    }
    if (raw.op == "BEGINS_WITH" && want == item::Type::kN) {
      return errors::validation(
          "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not "
          "valid for N AttributeValue type");
    }
    if (is_pk) {
      out->pk = &(*storage)[raw.first].second;
    } else {
      out->sk_op = raw.op;
      for (size_t i = raw.first; i < raw.first + raw.count; ++i) {
        out->sk_values.push_back(&(*storage)[i].second);
      }
    }
  }
  if (!out->pk) {
    return errors::validation("Query condition missed key schema element: " + t.hash_key);
  }
  return std::nullopt;
}

std::optional<api::ApiError> sort_range(const KeyCondition& kc, storage::v1::SortRange* r) {
  if (kc.sk_op.empty()) return std::nullopt;
  auto comp = [](const item::AttributeValue* v) { return item::key_component(*v); };
  const std::string& op = kc.sk_op;
  if (op == "EQ" || op == "GE" || op == "GT") {
    r->set_has_lo(true);
    r->set_lo(comp(kc.sk_values[0]));
    r->set_lo_inclusive(op != "GT");
  }
  if (op == "EQ" || op == "LE" || op == "LT") {
    r->set_has_hi(true);
    r->set_hi(comp(kc.sk_values[0]));
    r->set_hi_inclusive(op != "LT");
  }
  if (op == "BETWEEN") {
    std::string lo = comp(kc.sk_values[0]), hi = comp(kc.sk_values[1]);
    if (lo > hi) {
      return errors::validation(
          "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
          "greater than or equal to lower bound; lower bound operand: " +
          operand_text(*kc.sk_values[0]) + ", upper bound operand: " +
          operand_text(*kc.sk_values[1]));
    }
    r->set_has_lo(true);
    r->set_lo(std::move(lo));
    r->set_lo_inclusive(true);
    r->set_has_hi(true);
    r->set_hi(std::move(hi));
    r->set_hi_inclusive(true);
  }
  if (op == "BEGINS_WITH") {
    r->set_has_prefix(true);
    r->set_prefix(comp(kc.sk_values[0]));
  }
  return std::nullopt;
}

// KeyConditionExpression (already checked against the schema by libs/expr) -> KeyCondition.
std::optional<api::ApiError> from_expression(const expr::v1::KeyCondition& k,
                                             item::Item* storage, KeyCondition* out) {
  auto value = [&](const std::string& bytes) -> const item::AttributeValue* {
    item::AttributeValue v;
    if (!expr::decode_operand_value(bytes, &v)) return nullptr;
    storage->emplace_back(std::string(), std::move(v));
    return &storage->back().second;
  };
  out->pk = value(k.pk_value());
  if (!out->pk) return errors::internal_server_error("bad key condition value");
  if (!k.has_sort()) return std::nullopt;
  static const char* kOps[] = {"", "EQ", "LT", "LE", "GT", "GE", "BETWEEN", "BEGINS_WITH"};
  int op = k.sort().op();
  if (op <= 0 || op > 7) return errors::internal_server_error("bad key condition operator");
  out->sk_op = kOps[op];
  const auto* v1 = value(k.sort().value());
  if (!v1) return errors::internal_server_error("bad key condition value");
  out->sk_values.push_back(v1);
  if (out->sk_op == "BETWEEN") {
    const auto* v2 = value(k.sort().value2());
    if (!v2) return errors::internal_server_error("bad key condition value");
    out->sk_values.push_back(v2);
  }
  return std::nullopt;
}

// The first key attribute a filter reads, if any (Query filters may not use key attributes).
const std::string* key_attribute_in(const expr::v1::Condition& c, const TableInfo& t) {
  auto in_path = [&](const expr::v1::Path& p) -> const std::string* {
    if (p.elements_size() == 0 || !p.elements(0).has_name()) return nullptr;
    const std::string& n = p.elements(0).name();
    if (n == t.hash_key) return &t.hash_key;
    if (!t.range_key.empty() && n == t.range_key) return &t.range_key;
    return nullptr;
  };
  auto in_operand = [&](const expr::v1::Operand& o) -> const std::string* {
    if (o.has_path()) return in_path(o.path());
    if (o.has_size_of()) return in_path(o.size_of());
    return nullptr;
  };
  const std::string* found = nullptr;
  auto first = [&](const std::string* f) {
    if (!found) found = f;
  };
  switch (c.kind_case()) {
    case expr::v1::Condition::kComparison:
      first(in_operand(c.comparison().lhs()));
      first(in_operand(c.comparison().rhs()));
      break;
    case expr::v1::Condition::kBetween:
      first(in_operand(c.between().operand()));
      first(in_operand(c.between().lower()));
      first(in_operand(c.between().upper()));
      break;
    case expr::v1::Condition::kInList:
      first(in_operand(c.in_list().operand()));
      for (const auto& o : c.in_list().candidates()) first(in_operand(o));
      break;
    case expr::v1::Condition::kConjunction:
      for (const auto& term : c.conjunction().terms()) first(key_attribute_in(term, t));
      break;
    case expr::v1::Condition::kDisjunction:
      for (const auto& term : c.disjunction().terms()) first(key_attribute_in(term, t));
      break;
    case expr::v1::Condition::kNegation:
      first(key_attribute_in(c.negation(), t));
      break;
    case expr::v1::Condition::kFunction:
      for (const auto& o : c.function().args()) first(in_operand(o));
      break;
    default:
      break;
  }
  return found;
}

}  // namespace

void handle_query(Router::Impl& r, const CallPtr& call) {
  const auto& body = call->body;
  errors::ConstraintErrors c;
  std::string table;
  check_table_name(body, "TableName", "tableName", &c, &table);
  auto read = std::make_shared<PagedRead>();
  auto ex = std::make_shared<RequestExpressions>();
  auto e = parse_read_options(body, *ex, "QueryFilter", read.get());
  if (!c.empty()) return call->fail(c.to_error());
  if (e) return call->fail(*e);
  if (auto m = refuse_mixed(body, {"KeyConditions"}, {"KeyConditionExpression"})) {
    return call->fail(*m);
  }
  if (!member(body, "KeyConditions") && !member(body, "KeyConditionExpression")) {
    return call->fail(errors::validation(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request."));
  }
  bool forward = true;
  if (const auto* f = member(body, "ScanIndexForward")) {
    if (!f->IsBool()) return call->fail(errors::wrong_json_type("Boolean"));
    forward = f->GetBool();
  }
  read->table = table;
  read->request.set_op(storage::v1::DATA_OP_QUERY);
  read->request.set_backward(!forward);
  auto on_table = [&r, call, read, ex](const TableInfoPtr& info) {
    const TableInfo& t = *info;
    read->info = info;
    item::Item values;
    values.reserve(8);
    KeyCondition kc;
    if (const auto* legacy = member(call->body, "KeyConditions")) {
      if (auto err = parse_key_conditions(t, *legacy, &values, &kc)) return call->fail(*err);
      if (auto err = ex->finish({"FilterExpression", "KeyConditionExpression"})) {
        return call->fail(*err);
      }
    } else {
      expr::KeySchema schema{t.hash_key, t.hash_type, t.range_key, std::nullopt};
      if (!t.range_key.empty()) schema.sk_type = t.range_type;
      std::optional<expr::v1::KeyCondition> parsed;
      if (auto err = ex->key_condition(call->body, schema, &parsed)) return call->fail(*err);
      if (auto err = ex->finish({"FilterExpression", "KeyConditionExpression"})) {
        return call->fail(*err);
      }
      if (auto err = from_expression(*parsed, &values, &kc)) return call->fail(*err);
    }
    if (read->request.has_filter()) {
      if (const auto* key = key_attribute_in(read->request.filter(), t)) {
        const char* what =
            member(call->body, "QueryFilter") ? "QueryFilter" : "Filter Expression";
        return call->fail(errors::validation(
            std::string(what) + " can only contain non-primary key attributes: Primary key "
            "attribute: " + *key));
      }
    }
    if (auto err = sort_range(kc, read->request.mutable_sort_range())) return call->fail(*err);
    std::string pk = item::key_component(*kc.pk);
    if (pk.empty()) {
      return call->fail(errors::validation(
          "One or more parameter values are not valid. The AttributeValue for a key attribute "
          "cannot contain an empty string value. Key: " + t.hash_key));
    }
    read->request.set_hash(item::partition_hash(pk));
    read->request.set_pk(std::move(pk));
    std::string start;
    if (auto err = exclusive_start(t, call->body, &start)) return call->fail(*err);
    if (!start.empty()) {
      if (!std::string_view(start).starts_with(
              item::storage_key(read->request.hash(), read->request.pk(), ""))) {
        return call->fail(errors::validation(
            "The provided starting key is invalid: The provided key element does not match the "
            "schema"));
      }
      read->request.set_start_after(start);
    }
    read->request.set_table_id(t.table.table_id());
    run_paged_read(r, call, read);
  };
  with_active_table(r, call, table, std::move(on_table));
}

}  // namespace shoal::router
