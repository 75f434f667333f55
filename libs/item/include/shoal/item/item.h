#pragma once
// The item model: all ten DynamoDB attribute types, items, and DynamoDB's size rules.
//
// AttributeValue is a tagged value. Sets keep their elements in insertion order as
// received (DynamoDB does not promise an order); duplicates are rejected by the codec
// that builds them, not here. Values are plain data: copyable, movable, not thread-safe
// to mutate concurrently.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "shoal/item/decimal.h"

namespace shoal::item {

enum class Type : uint8_t {
  kS = 1, kN = 2, kB = 3, kBool = 4, kNull = 5, kM = 6, kL = 7, kSS = 8, kNS = 9, kBS = 10,
};

// "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS".
const char* type_name(Type t);

struct AttributeValue;
// Maps keep insertion order (as the client sent them); names are unique.
using AttributeMap = std::vector<std::pair<std::string, AttributeValue>>;
using AttributeList = std::vector<AttributeValue>;

struct AttributeValue {
  Type type = Type::kNull;
  bool boolean = false;               // kBool
  std::string bytes;                  // kS (UTF-8), kB (raw bytes)
  Decimal number;                     // kN
  std::vector<std::string> strings;   // kSS, kBS
  std::vector<Decimal> numbers;       // kNS
  // kM / kL. Held by pointer so AttributeValue stays small and can be recursive.
  std::shared_ptr<AttributeMap> map;
  std::shared_ptr<AttributeList> list;

  static AttributeValue S(std::string s);
  static AttributeValue N(Decimal d);
  static AttributeValue B(std::string raw);
  static AttributeValue Bool(bool b);
  static AttributeValue Null();
  static AttributeValue M(AttributeMap m);
  static AttributeValue L(AttributeList l);
  static AttributeValue SS(std::vector<std::string> v);
  static AttributeValue NS(std::vector<Decimal> v);
  static AttributeValue BS(std::vector<std::string> v);

  // Deep equality; sets compare as sets (order-insensitive), maps by name.
  friend bool operator==(const AttributeValue& a, const AttributeValue& b);
};

using Item = AttributeMap;

// Returns the attribute named `name`, or nullptr.
const AttributeValue* find_attribute(const Item& item, std::string_view name);

// Size as DynamoDB counts it for the 400 KB limit and capacity units:
// name bytes + value bytes, with numbers ~ 1 byte per 2 significant digits + 1, BOOL/NULL
// 1 byte, and 3 bytes of overhead per map or list plus 1 byte per element.
uint64_t value_size(const AttributeValue& v);
uint64_t item_size(const Item& item);

constexpr uint64_t kMaxItemSize = 400 * 1024;

// Compact binary encoding of an item, used on the wire (Protobuf bytes) and in RocksDB.
// decode_item returns false on malformed input (never crashes on garbage).
std::string encode_item(const Item& item);
void encode_item_to(const Item& item, std::string* out);
bool decode_item(std::string_view in, Item* out);

// The same encoding for one value (expression operands carried in Protobuf).
std::string encode_value(const AttributeValue& v);
bool decode_value(std::string_view in, AttributeValue* out);

}  // namespace shoal::item
