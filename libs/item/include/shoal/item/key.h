#pragma once
// Primary keys: how a key becomes bytes for hashing, routing and RocksDB ordering.
//
// Key attributes are S, N or B. A key component's bytes are:
//   S: the UTF-8 bytes; B: the raw bytes; N: Decimal::encode_ordered().
// Comparing these bytes with memcmp gives DynamoDB's sort-key order for each type.

#include <cstdint>
#include <string>
#include <string_view>

#include "shoal/item/item.h"

namespace shoal::item {

// The component bytes of a key attribute (S, N or B only; other types are a caller bug).
std::string key_component(const AttributeValue& v);
// Rebuilds a key attribute of `type` from component bytes; false if malformed.
bool key_component_to_value(Type type, std::string_view bytes, AttributeValue* out);

// 64-bit partition hash of the partition key's component bytes: the first 8 bytes
// (big-endian) of its MD5 digest. Stable across versions and machines; partitions own
// ranges of this hash.
uint64_t partition_hash(std::string_view partition_key_component);

// RocksDB key of an item inside a replica's column family:
//   8-byte big-endian hash | 4-byte big-endian pk length | pk bytes | sk bytes (may be empty)
// so items of one partition key are contiguous and ordered by sort key.
std::string storage_key(uint64_t hash, std::string_view pk, std::string_view sk);

}  // namespace shoal::item
