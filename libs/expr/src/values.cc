#include "values.h"

#include <string_view>

namespace shoal::expr::internal {
namespace {

std::string base64(std::string_view raw) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  while (i + 2 < raw.size()) {
    uint32_t n = (static_cast<uint8_t>(raw[i]) << 16) | (static_cast<uint8_t>(raw[i + 1]) << 8) |
                 static_cast<uint8_t>(raw[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
    i += 3;
  }
  size_t rest = raw.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint8_t>(raw[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(raw[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

std::optional<uint64_t> size_of(const item::AttributeValue& v) {
  switch (v.type) {
    case item::Type::kS:
    case item::Type::kB: return v.bytes.size();
    case item::Type::kSS:
    case item::Type::kBS: return v.strings.size();
    case item::Type::kNS: return v.numbers.size();
    case item::Type::kM: return v.map ? v.map->size() : 0;
    case item::Type::kL: return v.list ? v.list->size() : 0;
    default: return std::nullopt;
  }
}

std::optional<int> order(const item::AttributeValue& a, const item::AttributeValue& b) {
  if (a.type != b.type) return std::nullopt;
  switch (a.type) {
    case item::Type::kN: {
      auto c = a.number <=> b.number;
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case item::Type::kS:
    case item::Type::kB: {
      int c = a.bytes.compare(b.bytes);  // char_traits<char>: unsigned byte order
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    default: return std::nullopt;
  }
}

item::AttributeValue number(uint64_t n) {
  item::Decimal d;
  (void)item::Decimal::parse(std::to_string(n), &d);
  return item::AttributeValue::N(d);
}

std::string describe(const item::AttributeValue& v) {
  std::string out = "AttributeValue: {";
  out += item::type_name(v.type);
  out += ':';
  switch (v.type) {
    case item::Type::kS: out += v.bytes; break;
    case item::Type::kN: out += v.number.to_string(); break;
    case item::Type::kB: out += base64(v.bytes); break;
    case item::Type::kBool: out += v.boolean ? "true" : "false"; break;
    case item::Type::kNull: out += "true"; break;
    default: break;
  }
  out += '}';
  return out;
}

const item::AttributeValue* lookup(const item::Item& item, const v1::Path& path) {
  if (path.elements_size() == 0 || !path.elements(0).has_name()) return nullptr;
  const item::AttributeValue* cur = item::find_attribute(item, path.elements(0).name());
  for (int i = 1; cur != nullptr && i < path.elements_size(); ++i) {
    const auto& e = path.elements(i);
    if (e.has_name()) {
      if (cur->type != item::Type::kM || !cur->map) return nullptr;
      const item::AttributeValue* next = nullptr;
      for (const auto& [name, value] : *cur->map) {
        if (name == e.name()) {
          next = &value;
          break;
        }
      }
      cur = next;
    } else if (e.has_index()) {
      if (cur->type != item::Type::kL || !cur->list || e.index() >= cur->list->size()) {
        return nullptr;
      }
      cur = &(*cur->list)[e.index()];
    } else {
      return nullptr;
    }
  }
  return cur;
}

}  // namespace shoal::expr::internal
