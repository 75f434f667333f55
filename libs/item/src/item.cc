#include "shoal/item/item.h"

#include <algorithm>
#include <string_view>

namespace shoal::item {
namespace {

// Sets compare as sets: sorted, duplicates ignored.
template <typename T>
bool same_set(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() == b.size() && a == b) return true;  // Common fast path: same order.
  std::vector<T> x = a;
  std::vector<T> y = b;
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  x.erase(std::unique(x.begin(), x.end()), x.end());
  y.erase(std::unique(y.begin(), y.end()), y.end());
  return x == y;
}

bool same_map(const AttributeMap* a, const AttributeMap* b) {
  static const AttributeMap kEmpty;
  const AttributeMap& x = a ? *a : kEmpty;
  const AttributeMap& y = b ? *b : kEmpty;
  if (x.size() != y.size()) return false;
  // Fast path: same names in the same order (the common case). Each value is compared
  // once either way, so nested mismatches cost linear time.
  bool same_order = true;
  for (size_t i = 0; i < x.size() && same_order; ++i) same_order = x[i].first == y[i].first;
  if (same_order) {
    for (size_t i = 0; i < x.size(); ++i) {
      if (!(x[i].second == y[i].second)) return false;
    }
    return true;
  }
  for (const auto& [name, value] : x) {
    const AttributeValue* other = find_attribute(y, name);
    if (other == nullptr || !(value == *other)) return false;
  }
  return true;
}

bool same_list(const AttributeList* a, const AttributeList* b) {
  static const AttributeList kEmpty;
  const AttributeList& x = a ? *a : kEmpty;
  const AttributeList& y = b ? *b : kEmpty;
  return x == y;
}

// DynamoDB: a number takes ~1 byte per two significant digits plus 1 byte; zero counts as
// one digit.
uint64_t number_size(const Decimal& d) {
  const uint64_t digits = d.is_zero() ? 1 : d.digits().size();
  return (digits + 1) / 2 + 1;
}

// Per-container overhead of M and L, plus 1 byte per element.
constexpr uint64_t kContainerOverhead = 3;

}  // namespace

const char* type_name(Type t) {
  switch (t) {
    case Type::kS: return "S";
    case Type::kN: return "N";
    case Type::kB: return "B";
    case Type::kBool: return "BOOL";
    case Type::kNull: return "NULL";
    case Type::kM: return "M";
    case Type::kL: return "L";
    case Type::kSS: return "SS";
    case Type::kNS: return "NS";
    case Type::kBS: return "BS";
  }
  return "?";
}

AttributeValue AttributeValue::S(std::string s) {
  AttributeValue v;
  v.type = Type::kS;
  v.bytes = std::move(s);
  return v;
}

AttributeValue AttributeValue::N(Decimal d) {
  AttributeValue v;
  v.type = Type::kN;
  v.number = std::move(d);
  return v;
}

AttributeValue AttributeValue::B(std::string raw) {
  AttributeValue v;
  v.type = Type::kB;
  v.bytes = std::move(raw);
  return v;
}

AttributeValue AttributeValue::Bool(bool b) {
  AttributeValue v;
  v.type = Type::kBool;
  v.boolean = b;
  return v;
}

AttributeValue AttributeValue::Null() {
  AttributeValue v;
  v.type = Type::kNull;
  return v;
}

AttributeValue AttributeValue::M(AttributeMap m) {
  AttributeValue v;
  v.type = Type::kM;
  v.map = std::make_shared<AttributeMap>(std::move(m));
  return v;
}

AttributeValue AttributeValue::L(AttributeList l) {
  AttributeValue v;
  v.type = Type::kL;
  v.list = std::make_shared<AttributeList>(std::move(l));
  return v;
}

AttributeValue AttributeValue::SS(std::vector<std::string> s) {
  AttributeValue v;
  v.type = Type::kSS;
  v.strings = std::move(s);
  return v;
}

AttributeValue AttributeValue::NS(std::vector<Decimal> n) {
  AttributeValue v;
  v.type = Type::kNS;
  v.numbers = std::move(n);
  return v;
}

AttributeValue AttributeValue::BS(std::vector<std::string> b) {
  AttributeValue v;
  v.type = Type::kBS;
  v.strings = std::move(b);
  return v;
}

bool operator==(const AttributeValue& a, const AttributeValue& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case Type::kS:
    case Type::kB: return a.bytes == b.bytes;
    case Type::kN: return a.number == b.number;
    case Type::kBool: return a.boolean == b.boolean;
    case Type::kNull: return true;
    case Type::kM: return same_map(a.map.get(), b.map.get());
    case Type::kL: return same_list(a.list.get(), b.list.get());
    case Type::kSS:
    case Type::kBS: return same_set(a.strings, b.strings);
    case Type::kNS: return same_set(a.numbers, b.numbers);
  }
  return false;
}

const AttributeValue* find_attribute(const Item& item, std::string_view name) {
  for (const auto& [n, v] : item) {
    if (n == name) return &v;
  }
  return nullptr;
}

uint64_t value_size(const AttributeValue& v) {
  switch (v.type) {
    case Type::kS:
    case Type::kB: return v.bytes.size();
    case Type::kN: return number_size(v.number);
    case Type::kBool:
    case Type::kNull: return 1;
    case Type::kM: {
      uint64_t size = kContainerOverhead;
      if (v.map) {
        for (const auto& [name, element] : *v.map) size += 1 + name.size() + value_size(element);
      }
      return size;
    }
    case Type::kL: {
      uint64_t size = kContainerOverhead;
      if (v.list) {
        for (const auto& element : *v.list) size += 1 + value_size(element);
      }
      return size;
    }
    case Type::kSS:
    case Type::kBS: {
      uint64_t size = 0;
      for (const auto& s : v.strings) size += s.size();
      return size;
    }
    case Type::kNS: {
      uint64_t size = 0;
      for (const auto& d : v.numbers) size += number_size(d);
      return size;
    }
  }
  return 0;
}

uint64_t item_size(const Item& item) {
  uint64_t size = 0;
  for (const auto& [name, value] : item) size += name.size() + value_size(value);
  return size;
}

}  // namespace shoal::item
