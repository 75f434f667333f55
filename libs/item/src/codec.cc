// Binary item codec.
//
//   item   := version(0x01) varint(count) { string(name) value }*count
//   (encode_value/decode_value: one bare `value`, no version byte)
//   value  := tag(Type) payload
//     S, B      : string
//     N         : string(Decimal::encode_ordered())
//     BOOL      : byte 0 or 1
//     NULL      : (nothing)
//     M         : varint(count) { string(name) value }*count
//     L         : varint(count) value*count
//     SS, BS    : varint(count) string*count
//     NS        : varint(count) string(encode_ordered)*count
//   string := varint(length) bytes
//   varint := unsigned LEB128, at most 10 bytes
//
// The decoder checks structure only (tags, lengths, number validity, nesting depth,
// trailing bytes); semantic rules (unique names, non-empty sets without duplicates, UTF-8)
// belong to the API layer that builds items.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "shoal/item/item.h"

namespace shoal::item {
namespace {

constexpr uint8_t kFormatVersion = 0x01;
// DynamoDB allows 32 levels of nesting; be generous but bounded.
constexpr int kMaxDepth = 64;

void put_varint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void put_string(std::string_view s, std::string* out) {
  put_varint(s.size(), out);
  out->append(s);
}

void put_value(const AttributeValue& v, std::string* out);

void put_map(const AttributeMap& m, std::string* out) {
  put_varint(m.size(), out);
  for (const auto& [name, value] : m) {
    put_string(name, out);
    put_value(value, out);
  }
}

void put_value(const AttributeValue& v, std::string* out) {
  out->push_back(static_cast<char>(v.type));
  switch (v.type) {
    case Type::kS:
    case Type::kB: put_string(v.bytes, out); return;
    case Type::kN: put_string(v.number.encode_ordered(), out); return;
    case Type::kBool: out->push_back(v.boolean ? 1 : 0); return;
    case Type::kNull: return;
    case Type::kM: {
      if (v.map) {
        put_map(*v.map, out);
      } else {
        put_varint(0, out);
      }
      return;
    }
    case Type::kL: {
      if (!v.list) {
        put_varint(0, out);
        return;
      }
      put_varint(v.list->size(), out);
      for (const auto& element : *v.list) put_value(element, out);
      return;
    }
    case Type::kSS:
    case Type::kBS: {
      put_varint(v.strings.size(), out);
      for (const auto& s : v.strings) put_string(s, out);
      return;
    }
    case Type::kNS: {
      put_varint(v.numbers.size(), out);
      for (const auto& d : v.numbers) put_string(d.encode_ordered(), out);
      return;
    }
  }
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  size_t remaining() const { return in_.size(); }
  bool done() const { return in_.empty(); }

  bool byte(uint8_t* b) {
    if (in_.empty()) return false;
    *b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }

  bool varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b;
      if (!byte(&b)) return false;
      // The 10th byte may only hold the top bit of a 64-bit value.
      if (shift == 63 && b > 1) return false;
      result |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }

  bool string(std::string_view* s) {
    uint64_t len;
    if (!varint(&len) || len > in_.size()) return false;
    *s = in_.substr(0, static_cast<size_t>(len));
    in_.remove_prefix(static_cast<size_t>(len));
    return true;
  }

  // Reads an element count; every element takes at least `min_element_bytes`, so a count
  // the remaining input cannot hold is rejected before anything is allocated.
  bool count(uint64_t* n, size_t min_element_bytes) {
    if (!varint(n)) return false;
    return *n <= in_.size() / min_element_bytes;
  }

 private:
  std::string_view in_;
};

// Capacity to reserve for a decoded container of `n` elements. `n` is already bounded by
// the remaining input, but nested containers could each reserve that much before failing;
// a small cap keeps garbage from amplifying memory while vectors still grow normally.
size_t initial_capacity(uint64_t n) { return static_cast<size_t>(n < 64 ? n : 64); }

bool get_number(Reader* r, Decimal* d) {
  std::string_view s;
  return r->string(&s) && Decimal::decode_ordered(s, d);
}

bool get_value(Reader* r, int depth, AttributeValue* v);

// Smallest encodings: a map entry is an empty name (1) plus a NULL value (1).
bool get_map(Reader* r, int depth, AttributeMap* m) {
  uint64_t n;
  if (!r->count(&n, 2)) return false;
  m->reserve(initial_capacity(n));
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name;
    if (!r->string(&name)) return false;
    AttributeValue value;
    if (!get_value(r, depth, &value)) return false;
    m->emplace_back(std::string(name), std::move(value));
  }
  return true;
}

bool get_value(Reader* r, int depth, AttributeValue* v) {
  uint8_t tag;
  if (!r->byte(&tag)) return false;
  if (tag < static_cast<uint8_t>(Type::kS) || tag > static_cast<uint8_t>(Type::kBS)) {
    return false;
  }
  const Type type = static_cast<Type>(tag);
  switch (type) {
    case Type::kS:
    case Type::kB: {
      std::string_view s;
      if (!r->string(&s)) return false;
      *v = type == Type::kS ? AttributeValue::S(std::string(s)) : AttributeValue::B(std::string(s));
      return true;
    }
    case Type::kN: {
      Decimal d;
      if (!get_number(r, &d)) return false;
      *v = AttributeValue::N(std::move(d));
      return true;
    }
    case Type::kBool: {
      uint8_t b;
      if (!r->byte(&b) || b > 1) return false;
      *v = AttributeValue::Bool(b == 1);
      return true;
    }
    case Type::kNull: *v = AttributeValue::Null(); return true;
    case Type::kM: {
      if (depth >= kMaxDepth) return false;
      AttributeMap m;
      if (!get_map(r, depth + 1, &m)) return false;
      *v = AttributeValue::M(std::move(m));
      return true;
    }
    case Type::kL: {
      if (depth >= kMaxDepth) return false;
      uint64_t n;
      if (!r->count(&n, 1)) return false;  // Smallest element: a NULL (1 byte).
      AttributeList l;
      l.reserve(initial_capacity(n));
      for (uint64_t i = 0; i < n; ++i) {
        AttributeValue element;
        if (!get_value(r, depth + 1, &element)) return false;
        l.push_back(std::move(element));
      }
      *v = AttributeValue::L(std::move(l));
      return true;
    }
    case Type::kSS:
    case Type::kBS: {
      uint64_t n;
      if (!r->count(&n, 1)) return false;  // Smallest element: an empty string (1 byte).
      std::vector<std::string> strings;
      strings.reserve(initial_capacity(n));
      for (uint64_t i = 0; i < n; ++i) {
        std::string_view s;
        if (!r->string(&s)) return false;
        strings.emplace_back(s);
      }
      *v = type == Type::kSS ? AttributeValue::SS(std::move(strings))
                             : AttributeValue::BS(std::move(strings));
      return true;
    }
    case Type::kNS: {
      uint64_t n;
      if (!r->count(&n, 2)) return false;  // Smallest element: zero (length 1 + 1 byte).
      std::vector<Decimal> numbers;
      numbers.reserve(initial_capacity(n));
      for (uint64_t i = 0; i < n; ++i) {
        Decimal d;
        if (!get_number(r, &d)) return false;
        numbers.push_back(std::move(d));
      }
      *v = AttributeValue::NS(std::move(numbers));
      return true;
    }
  }
  return false;
}

}  // namespace

void encode_item_to(const Item& item, std::string* out) {
  out->push_back(static_cast<char>(kFormatVersion));
  put_map(item, out);
}

std::string encode_item(const Item& item) {
  std::string out;
  encode_item_to(item, &out);
  return out;
}

std::string encode_value(const AttributeValue& v) {
  std::string out;
  put_value(v, &out);
  return out;
}

// The bare `value` production: no version byte (tags 1..10 leave room to add one later).
bool decode_value(std::string_view in, AttributeValue* out) {
  Reader r(in);
  AttributeValue value;
  if (!get_value(&r, 0, &value) || !r.done()) return false;
  *out = std::move(value);
  return true;
}

bool decode_item(std::string_view in, Item* out) {
  Reader r(in);
  uint8_t version;
  if (!r.byte(&version) || version != kFormatVersion) return false;
  Item item;
  if (!get_map(&r, 0, &item) || !r.done()) return false;
  *out = std::move(item);
  return true;
}

}  // namespace shoal::item
