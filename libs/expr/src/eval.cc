// Evaluation of conditions, updates, projections and key conditions against items.

#include "shoal/expr/eval.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "values.h"

namespace shoal::expr {
namespace {

using item::AttributeValue;
using item::Type;

Status malformed() { return invalid_argument("malformed expression"); }

// ---- Conditions ----------------------------------------------------------------------------

class ConditionEvaluator {
 public:
  explicit ConditionEvaluator(const item::Item* item) : item_(item) {}

  // Sets *out to the operand's value, or nullptr if missing. `storage` holds decoded values.
  Status resolve(const v1::Operand& op, AttributeValue* storage, const AttributeValue** out) {
    *out = nullptr;
    switch (op.kind_case()) {
      case v1::Operand::kPath:
        if (item_ != nullptr) *out = internal::lookup(*item_, op.path());
        return Status::ok();
      case v1::Operand::kValue:
        if (!item::decode_value(op.value(), storage)) return malformed();
        *out = storage;
        return Status::ok();
      case v1::Operand::kSizeOf: {
        if (item_ == nullptr) return Status::ok();
        const AttributeValue* v = internal::lookup(*item_, op.size_of());
        if (v == nullptr) return Status::ok();
        auto n = internal::size_of(*v);
        if (!n) return Status::ok();
        *storage = internal::number(*n);
        *out = storage;
        return Status::ok();
      }
      default: return malformed();
    }
  }

  Result<bool> eval(const v1::Condition& c) {
    switch (c.kind_case()) {
      case v1::Condition::kComparison: return comparison(c.comparison());
      case v1::Condition::kBetween: {
        AttributeValue s1, s2, s3;
        const AttributeValue *x, *lo, *hi;
        SHOAL_RETURN_IF_ERROR(resolve(c.between().operand(), &s1, &x));
        SHOAL_RETURN_IF_ERROR(resolve(c.between().lower(), &s2, &lo));
        SHOAL_RETURN_IF_ERROR(resolve(c.between().upper(), &s3, &hi));
        if (!x || !lo || !hi) return false;
        auto a = internal::order(*x, *lo);
        auto b = internal::order(*x, *hi);
        return a && b && *a >= 0 && *b <= 0;
      }
      case v1::Condition::kInList: {
        AttributeValue s1;
        const AttributeValue* x;
        SHOAL_RETURN_IF_ERROR(resolve(c.in_list().operand(), &s1, &x));
        if (c.in_list().candidates_size() == 0) return malformed();
        if (!x) return false;
        for (const auto& cand : c.in_list().candidates()) {
          AttributeValue s2;
          const AttributeValue* y;
          SHOAL_RETURN_IF_ERROR(resolve(cand, &s2, &y));
          if (y && *x == *y) return true;
        }
        return false;
      }
      case v1::Condition::kConjunction: {
        if (c.conjunction().terms_size() == 0) return malformed();
        for (const auto& t : c.conjunction().terms()) {
          SHOAL_ASSIGN_OR_RETURN(bool v, eval(t));
          if (!v) return false;
        }
        return true;
      }
      case v1::Condition::kDisjunction: {
        if (c.disjunction().terms_size() == 0) return malformed();
        for (const auto& t : c.disjunction().terms()) {
          SHOAL_ASSIGN_OR_RETURN(bool v, eval(t));
          if (v) return true;
        }
        return false;
      }
      case v1::Condition::kNegation: {
        SHOAL_ASSIGN_OR_RETURN(bool v, eval(c.negation()));
        return !v;
      }
      case v1::Condition::kFunction: return function(c.function());
      default: return malformed();
    }
  }

 private:
  Result<bool> comparison(const v1::Comparison& cmp) {
    AttributeValue s1, s2;
    const AttributeValue *a, *b;
    SHOAL_RETURN_IF_ERROR(resolve(cmp.lhs(), &s1, &a));
    SHOAL_RETURN_IF_ERROR(resolve(cmp.rhs(), &s2, &b));
    switch (cmp.op()) {
      case v1::COMPARE_OP_EQ: return a && b && *a == *b;
      case v1::COMPARE_OP_NE:
        if (!a && !b) return false;
        return !a || !b || !(*a == *b);
      default: break;
    }
    if (!a || !b) return false;
    auto o = internal::order(*a, *b);
    if (!o) return false;
    switch (cmp.op()) {
      case v1::COMPARE_OP_LT: return *o < 0;
      case v1::COMPARE_OP_LE: return *o <= 0;
      case v1::COMPARE_OP_GT: return *o > 0;
      case v1::COMPARE_OP_GE: return *o >= 0;
      default: return malformed();
    }
  }

  Result<bool> function(const v1::Function& f) {
    AttributeValue s1, s2;
    const AttributeValue* a = nullptr;
    const AttributeValue* b = nullptr;
    if (f.args_size() < 1 || f.args_size() > 2) return malformed();
    SHOAL_RETURN_IF_ERROR(resolve(f.args(0), &s1, &a));
    if (f.args_size() == 2) SHOAL_RETURN_IF_ERROR(resolve(f.args(1), &s2, &b));
    switch (f.name()) {
      case v1::FUNCTION_NAME_ATTRIBUTE_EXISTS: return a != nullptr;
      case v1::FUNCTION_NAME_ATTRIBUTE_NOT_EXISTS: return a == nullptr;
      case v1::FUNCTION_NAME_ATTRIBUTE_TYPE:
        return a && b && b->type == Type::kS && b->bytes == item::type_name(a->type);
      case v1::FUNCTION_NAME_BEGINS_WITH:
        if (!a || !b || a->type != b->type) return false;
        if (a->type != Type::kS && a->type != Type::kB) return false;
        return a->bytes.compare(0, b->bytes.size(), b->bytes) == 0 &&
               a->bytes.size() >= b->bytes.size();
      case v1::FUNCTION_NAME_CONTAINS: return a && b && contains(*a, *b);
      default: return malformed();
    }
  }

  static bool contains(const AttributeValue& a, const AttributeValue& b) {
    switch (a.type) {
      case Type::kS:
      case Type::kB:
        // Substring of S, byte subsequence of B: the operand must have the same type.
        return b.type == a.type && a.bytes.find(b.bytes) != std::string::npos;
      case Type::kSS:
        return b.type == Type::kS &&
               std::find(a.strings.begin(), a.strings.end(), b.bytes) != a.strings.end();
      case Type::kBS:
        return b.type == Type::kB &&
               std::find(a.strings.begin(), a.strings.end(), b.bytes) != a.strings.end();
      case Type::kNS:
        return b.type == Type::kN &&
               std::find(a.numbers.begin(), a.numbers.end(), b.number) != a.numbers.end();
      case Type::kL:
        if (!a.list) return false;
        return std::any_of(a.list->begin(), a.list->end(),
                           [&](const AttributeValue& e) { return e == b; });
      default: return false;
    }
  }

  const item::Item* item_;
};

// ---- Updates -------------------------------------------------------------------------------

Status invalid_path() {
  return invalid_argument("The document path provided in the update expression is invalid for "
                          "update");
}
Status missing_attribute() {
  return invalid_argument("The provided expression refers to an attribute that does not exist "
                          "in the item");
}
Status wrong_type() {
  return invalid_argument("An operand in the update expression has an incorrect data type");
}

Status number_error(item::DecimalError e) {
  switch (e) {
    case item::DecimalError::kOverflow:
      return invalid_argument("Number overflow. Attempting to store a number with magnitude "
                              "larger than supported range");
    case item::DecimalError::kUnderflow:
      return invalid_argument("Number underflow. Attempting to store a number with magnitude "
                              "smaller than supported range");
    case item::DecimalError::kTooPrecise:
      return invalid_argument("Attempting to store more than 38 significant digits in a Number");
    default: return invalid_argument("The parameter cannot be converted to a numeric value");
  }
}

// Copy-on-write: maps and lists are shared between copies of an item, so a container is
// cloned before it is modified.
item::AttributeMap& own_map(AttributeValue& v) {
  v.map = v.map ? std::make_shared<item::AttributeMap>(*v.map)
                : std::make_shared<item::AttributeMap>();
  return *v.map;
}
item::AttributeList& own_list(AttributeValue& v) {
  v.list = v.list ? std::make_shared<item::AttributeList>(*v.list)
                  : std::make_shared<item::AttributeList>();
  return *v.list;
}

AttributeValue* find_in(item::AttributeMap& map, const std::string& name) {
  for (auto& [n, v] : map) {
    if (n == name) return &v;
  }
  return nullptr;
}

// The container holding the last element of `path`, made writable; nullptr if a step is
// missing or of the wrong type. For a one-element path, returns nullptr and sets *top.
AttributeValue* writable_parent(item::Item& item, const v1::Path& path) {
  AttributeValue* cur = find_in(item, path.elements(0).name());
  for (int i = 1; cur != nullptr && i + 1 < path.elements_size(); ++i) {
    const auto& e = path.elements(i);
    if (e.has_name()) {
      if (cur->type != Type::kM) return nullptr;
      cur = find_in(own_map(*cur), e.name());
    } else {
      if (cur->type != Type::kL) return nullptr;
      auto& list = own_list(*cur);
      cur = e.index() < list.size() ? &list[e.index()] : nullptr;
    }
  }
  return cur;
}

bool valid_path(const v1::Path& path) {
  if (path.elements_size() == 0 || !path.elements(0).has_name()) return false;
  for (const auto& e : path.elements()) {
    if (e.kind_case() == v1::PathElement::KIND_NOT_SET) return false;
  }
  return true;
}

Status set_path(item::Item& item, const v1::Path& path, AttributeValue value) {
  if (path.elements_size() == 1) {
    const std::string& name = path.elements(0).name();
    if (AttributeValue* existing = find_in(item, name)) {
      *existing = std::move(value);
    } else {
      item.emplace_back(name, std::move(value));
    }
    return Status::ok();
  }
  AttributeValue* parent = writable_parent(item, path);
  if (parent == nullptr) return invalid_path();
  const auto& last = path.elements(path.elements_size() - 1);
  if (last.has_name()) {
    if (parent->type != Type::kM) return invalid_path();
    auto& map = own_map(*parent);
    if (AttributeValue* existing = find_in(map, last.name())) {
      *existing = std::move(value);
    } else {
      map.emplace_back(last.name(), std::move(value));
    }
  } else {
    if (parent->type != Type::kL) return invalid_path();
    auto& list = own_list(*parent);
    if (last.index() < list.size()) {
      list[last.index()] = std::move(value);
    } else {
      list.push_back(std::move(value));
    }
  }
  return Status::ok();
}

Status remove_path(item::Item& item, const v1::Path& path) {
  if (path.elements_size() == 1) {
    const std::string& name = path.elements(0).name();
    item.erase(std::remove_if(item.begin(), item.end(),
                              [&](const auto& kv) { return kv.first == name; }),
               item.end());
    return Status::ok();
  }
  AttributeValue* parent = writable_parent(item, path);
  if (parent == nullptr) return invalid_path();
  const auto& last = path.elements(path.elements_size() - 1);
  if (last.has_name()) {
    if (parent->type != Type::kM) return invalid_path();
    auto& map = own_map(*parent);
    map.erase(std::remove_if(map.begin(), map.end(),
                             [&](const auto& kv) { return kv.first == last.name(); }),
              map.end());
  } else {
    if (parent->type != Type::kL) return invalid_path();
    auto& list = own_list(*parent);
    if (last.index() < list.size()) list.erase(list.begin() + last.index());
  }
  return Status::ok();
}

// The current value at `path` for ADD/DELETE: *out = nullptr if missing. A nested path whose
// parent is missing or not a container is invalid.
Status current_value(const item::Item& item, const v1::Path& path, const AttributeValue** out) {
  *out = internal::lookup(item, path);
  if (*out != nullptr || path.elements_size() == 1) return Status::ok();
  v1::Path parent_path = path;
  parent_path.mutable_elements()->RemoveLast();
  const AttributeValue* parent = internal::lookup(item, parent_path);
  const auto& last = path.elements(path.elements_size() - 1);
  if (parent == nullptr || (last.has_name() ? parent->type != Type::kM
                                            : parent->type != Type::kL)) {
    return invalid_path();
  }
  return Status::ok();
}

class UpdateEvaluator {
 public:
  explicit UpdateEvaluator(const item::Item& original) : original_(original) {}

  Status operand(const v1::UpdateOperand& op, AttributeValue* out) {
    switch (op.kind_case()) {
      case v1::UpdateOperand::kPath: {
        if (!valid_path(op.path())) return malformed();
        const AttributeValue* v = internal::lookup(original_, op.path());
        if (v == nullptr) return missing_attribute();
        *out = *v;
        return Status::ok();
      }
      case v1::UpdateOperand::kValue:
        return item::decode_value(op.value(), out) ? Status::ok() : malformed();
      case v1::UpdateOperand::kIfNotExists: {
        if (!valid_path(op.if_not_exists().path())) return malformed();
        const AttributeValue* v = internal::lookup(original_, op.if_not_exists().path());
        if (v != nullptr) {
          *out = *v;
          return Status::ok();
        }
        return operand(op.if_not_exists().fallback(), out);
      }
      case v1::UpdateOperand::kListAppend: {
        AttributeValue a, b;
        SHOAL_RETURN_IF_ERROR(operand(op.list_append().first(), &a));
        SHOAL_RETURN_IF_ERROR(operand(op.list_append().second(), &b));
        if (a.type != Type::kL || b.type != Type::kL) return wrong_type();
        item::AttributeList joined;
        if (a.list) joined = *a.list;
        if (b.list) joined.insert(joined.end(), b.list->begin(), b.list->end());
        *out = AttributeValue::L(std::move(joined));
        return Status::ok();
      }
      default: return malformed();
    }
  }

  Status value(const v1::SetValue& v, AttributeValue* out) {
    switch (v.kind_case()) {
      case v1::SetValue::kOperand: return operand(v.operand(), out);
      case v1::SetValue::kPlus:
      case v1::SetValue::kMinus: {
        const v1::Arithmetic& a = v.has_plus() ? v.plus() : v.minus();
        AttributeValue x, y;
        SHOAL_RETURN_IF_ERROR(operand(a.lhs(), &x));
        SHOAL_RETURN_IF_ERROR(operand(a.rhs(), &y));
        if (x.type != Type::kN || y.type != Type::kN) return wrong_type();
        item::Decimal result;
        item::DecimalError e = v.has_plus() ? item::Decimal::add(x.number, y.number, &result)
                                            : item::Decimal::subtract(x.number, y.number, &result);
        if (e != item::DecimalError::kNone) return number_error(e);
        *out = AttributeValue::N(result);
        return Status::ok();
      }
      default: return malformed();
    }
  }

 private:
  const item::Item& original_;
};

Status add_to(item::Item& work, const v1::AddAction& action) {
  AttributeValue delta;
  if (!valid_path(action.path()) || !item::decode_value(action.value(), &delta)) {
    return malformed();
  }
  const AttributeValue* current = nullptr;
  SHOAL_RETURN_IF_ERROR(current_value(work, action.path(), &current));
  if (current == nullptr) {
    if (delta.type != Type::kN && delta.type != Type::kSS && delta.type != Type::kNS &&
        delta.type != Type::kBS) {
      return wrong_type();
    }
    return set_path(work, action.path(), std::move(delta));
  }
  if (current->type != delta.type) return wrong_type();
  AttributeValue result = *current;
  switch (delta.type) {
    case Type::kN: {
      item::DecimalError e = item::Decimal::add(current->number, delta.number, &result.number);
      if (e != item::DecimalError::kNone) return number_error(e);
      break;
    }
    case Type::kSS:
    case Type::kBS:
      for (const auto& s : delta.strings) {
        if (std::find(result.strings.begin(), result.strings.end(), s) == result.strings.end()) {
          result.strings.push_back(s);
        }
      }
      break;
    case Type::kNS:
      for (const auto& n : delta.numbers) {
        if (std::find(result.numbers.begin(), result.numbers.end(), n) == result.numbers.end()) {
          result.numbers.push_back(n);
        }
      }
      break;
    default: return wrong_type();
  }
  return set_path(work, action.path(), std::move(result));
}

Status delete_from(item::Item& work, const v1::DeleteAction& action) {
  AttributeValue delta;
  if (!valid_path(action.path()) || !item::decode_value(action.value(), &delta)) {
    return malformed();
  }
  const AttributeValue* current = nullptr;
  SHOAL_RETURN_IF_ERROR(current_value(work, action.path(), &current));
  if (delta.type != Type::kSS && delta.type != Type::kNS && delta.type != Type::kBS) {
    return wrong_type();
  }
  if (current == nullptr) return Status::ok();
  if (current->type != delta.type) return wrong_type();
  AttributeValue result = *current;
  size_t remaining;
  if (delta.type == Type::kNS) {
    std::erase_if(result.numbers, [&](const item::Decimal& n) {
      return std::find(delta.numbers.begin(), delta.numbers.end(), n) != delta.numbers.end();
    });
    remaining = result.numbers.size();
  } else {
    std::erase_if(result.strings, [&](const std::string& s) {
      return std::find(delta.strings.begin(), delta.strings.end(), s) != delta.strings.end();
    });
    remaining = result.strings.size();
  }
  if (remaining == 0) return remove_path(work, action.path());
  return set_path(work, action.path(), std::move(result));
}

// Descending order of paths, so that REMOVE a[3] runs before REMOVE a[1].
bool path_greater(const v1::Path& a, const v1::Path& b) {
  int n = std::min(a.elements_size(), b.elements_size());
  for (int i = 0; i < n; ++i) {
    const auto& x = a.elements(i);
    const auto& y = b.elements(i);
    if (x.kind_case() != y.kind_case()) return x.kind_case() > y.kind_case();
    if (x.has_name()) {
      if (x.name() != y.name()) return x.name() > y.name();
    } else if (x.index() != y.index()) {
      return x.index() > y.index();
    }
  }
  return a.elements_size() > b.elements_size();
}

// ---- Projection ----------------------------------------------------------------------------

struct ProjectionNode {
  const AttributeValue* whole = nullptr;   // the full value is projected
  std::vector<std::pair<std::string, std::unique_ptr<ProjectionNode>>> fields;
  std::map<uint32_t, std::unique_ptr<ProjectionNode>> elements;
  const AttributeValue* source = nullptr;  // the value this node stands for
};

ProjectionNode* child(ProjectionNode* node, const std::string& name) {
  for (auto& [n, c] : node->fields) {
    if (n == name) return c.get();
  }
  node->fields.emplace_back(name, std::make_unique<ProjectionNode>());
  return node->fields.back().second.get();
}

AttributeValue materialize(const ProjectionNode& node) {
  if (node.whole != nullptr) return *node.whole;
  if (node.source->type == Type::kM) {
    item::AttributeMap map;
    for (const auto& [name, c] : node.fields) map.emplace_back(name, materialize(*c));
    return AttributeValue::M(std::move(map));
  }
  item::AttributeList list;
  for (const auto& [index, c] : node.elements) list.push_back(materialize(*c));
  return AttributeValue::L(std::move(list));
}

const AttributeValue* step(const AttributeValue& v, const v1::PathElement& e) {
  if (e.has_name()) {
    if (v.type != Type::kM || !v.map) return nullptr;
    for (const auto& [n, x] : *v.map) {
      if (n == e.name()) return &x;
    }
    return nullptr;
  }
  if (e.has_index() && v.type == Type::kL && v.list && e.index() < v.list->size()) {
    return &(*v.list)[e.index()];
  }
  return nullptr;
}

}  // namespace

Result<bool> evaluate(const v1::Condition& condition, const item::Item* item) {
  ConditionEvaluator evaluator(item);
  return evaluator.eval(condition);
}

Status apply_update(const v1::Update& update, item::Item* item) {
  item::Item work = *item;
  UpdateEvaluator evaluator(*item);
  // SET values are computed against the item as it was before the update.
  std::vector<AttributeValue> values(update.set_actions_size());
  for (int i = 0; i < update.set_actions_size(); ++i) {
    if (!valid_path(update.set_actions(i).path())) return malformed();
    SHOAL_RETURN_IF_ERROR(evaluator.value(update.set_actions(i).value(), &values[i]));
  }
  for (int i = 0; i < update.set_actions_size(); ++i) {
    SHOAL_RETURN_IF_ERROR(set_path(work, update.set_actions(i).path(), std::move(values[i])));
  }
  std::vector<const v1::Path*> removes;
  for (const auto& p : update.remove_paths()) {
    if (!valid_path(p)) return malformed();
    removes.push_back(&p);
  }
  std::sort(removes.begin(), removes.end(),
            [](const v1::Path* a, const v1::Path* b) { return path_greater(*a, *b); });
  for (const v1::Path* p : removes) SHOAL_RETURN_IF_ERROR(remove_path(work, *p));
  for (const auto& a : update.add_actions()) SHOAL_RETURN_IF_ERROR(add_to(work, a));
  for (const auto& d : update.delete_actions()) SHOAL_RETURN_IF_ERROR(delete_from(work, d));
  *item = std::move(work);
  return Status::ok();
}

item::Item project(const item::Item& item, const v1::Projection& projection) {
  // Top level: one node per attribute, in the order the paths name them.
  std::vector<std::pair<std::string, std::unique_ptr<ProjectionNode>>> top;
  for (const auto& path : projection.paths()) {
    if (path.elements_size() == 0 || !path.elements(0).has_name()) continue;
    const AttributeValue* v = item::find_attribute(item, path.elements(0).name());
    if (v == nullptr) continue;
    // Check the whole path exists before creating nodes for it.
    const AttributeValue* cur = v;
    for (int i = 1; cur != nullptr && i < path.elements_size(); ++i) {
      cur = step(*cur, path.elements(i));
    }
    if (cur == nullptr) continue;
    ProjectionNode* node = nullptr;
    for (auto& [n, c] : top) {
      if (n == path.elements(0).name()) node = c.get();
    }
    if (node == nullptr) {
      top.emplace_back(path.elements(0).name(), std::make_unique<ProjectionNode>());
      node = top.back().second.get();
    }
    node->source = v;
    cur = v;
    for (int i = 1; i < path.elements_size() && node->whole == nullptr; ++i) {
      const auto& e = path.elements(i);
      const AttributeValue* next = step(*cur, e);
      ProjectionNode* c;
      if (e.has_name()) {
        c = child(node, e.name());
      } else {
        auto& slot = node->elements[e.index()];
        if (!slot) slot = std::make_unique<ProjectionNode>();
        c = slot.get();
      }
      c->source = next;
      node = c;
      cur = next;
    }
    if (node->whole == nullptr) {
      node->whole = cur;
      node->fields.clear();
      node->elements.clear();
    }
  }
  item::Item out;
  for (const auto& [name, node] : top) out.emplace_back(name, materialize(*node));
  return out;
}

bool decode_operand_value(const std::string& bytes, item::AttributeValue* out) {
  return item::decode_value(bytes, out);
}

bool sort_key_matches(const v1::KeyCondition& key_condition, const item::AttributeValue& sk) {
  if (!key_condition.has_sort()) return true;
  const auto& s = key_condition.sort();
  AttributeValue v;
  if (!item::decode_value(s.value(), &v)) return false;
  if (s.op() == v1::SORT_OP_BEGINS_WITH) {
    return (sk.type == Type::kS || sk.type == Type::kB) && sk.type == v.type &&
           sk.bytes.size() >= v.bytes.size() && sk.bytes.compare(0, v.bytes.size(), v.bytes) == 0;
  }
  auto o = internal::order(sk, v);
  if (!o) return false;
  switch (s.op()) {
    case v1::SORT_OP_EQ: return *o == 0;
    case v1::SORT_OP_LT: return *o < 0;
    case v1::SORT_OP_LE: return *o <= 0;
    case v1::SORT_OP_GT: return *o > 0;
    case v1::SORT_OP_GE: return *o >= 0;
    case v1::SORT_OP_BETWEEN: {
      AttributeValue hi;
      if (!item::decode_value(s.value2(), &hi)) return false;
      auto o2 = internal::order(sk, hi);
      return *o >= 0 && o2 && *o2 <= 0;
    }
    default: return false;
  }
}

SortKeyRange sort_key_range(const v1::KeyCondition& key_condition) {
  SortKeyRange range;
  if (!key_condition.has_sort()) return range;
  const auto& s = key_condition.sort();
  AttributeValue v;
  if (!item::decode_value(s.value(), &v)) return range;
  auto component = [](const AttributeValue& x) {
    return x.type == Type::kN ? x.number.encode_ordered() : x.bytes;
  };
  std::string c = component(v);
  std::string after = c + '\0';   // the smallest byte string greater than c
  switch (s.op()) {
    case v1::SORT_OP_EQ: range.lower = c; range.upper = after; break;
    case v1::SORT_OP_LT: range.upper = c; break;
    case v1::SORT_OP_LE: range.upper = after; break;
    case v1::SORT_OP_GT: range.lower = after; break;
    case v1::SORT_OP_GE: range.lower = c; break;
    case v1::SORT_OP_BETWEEN: {
      AttributeValue hi;
      range.lower = c;
      if (item::decode_value(s.value2(), &hi)) range.upper = component(hi) + '\0';
      break;
    }
    case v1::SORT_OP_BEGINS_WITH: {
      range.lower = c;
      std::string upper = c;
      while (!upper.empty() && static_cast<uint8_t>(upper.back()) == 0xFF) upper.pop_back();
      if (!upper.empty()) {
        upper.back() = static_cast<char>(static_cast<uint8_t>(upper.back()) + 1);
        range.upper = upper;
      }
      break;
    }
    default: break;
  }
  return range;
}

}  // namespace shoal::expr
