#include "shoal/item/key.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace shoal::item {
namespace {

Decimal D(std::string_view text) {
  Decimal d;
  EXPECT_EQ(Decimal::parse(text, &d), DecimalError::kNone) << text;
  return d;
}

TEST(KeyComponent, Bytes) {
  EXPECT_EQ(key_component(AttributeValue::S("user#1")), "user#1");
  EXPECT_EQ(key_component(AttributeValue::B(std::string("\x00\xff", 2))),
            std::string("\x00\xff", 2));
  EXPECT_EQ(key_component(AttributeValue::N(D("12.5"))), D("12.5").encode_ordered());
  // Equal numbers give equal components, whatever their spelling.
  EXPECT_EQ(key_component(AttributeValue::N(D("1e2"))),
            key_component(AttributeValue::N(D("100.0"))));
}

TEST(KeyComponent, NumberComponentsSortNumerically) {
  std::vector<std::string> texts = {"-100", "-10.5", "-10", "-9", "0", "9", "10", "10.5", "100"};
  for (size_t i = 0; i + 1 < texts.size(); ++i) {
    EXPECT_LT(key_component(AttributeValue::N(D(texts[i]))),
              key_component(AttributeValue::N(D(texts[i + 1]))))
        << texts[i] << " < " << texts[i + 1];
  }
}

TEST(KeyComponent, RoundTrips) {
  for (const AttributeValue& v :
       {AttributeValue::S("abc"), AttributeValue::S(""), AttributeValue::B(std::string("\x00", 1)),
        AttributeValue::N(D("-0.001")), AttributeValue::N(D("0")),
        AttributeValue::N(D("9.9999999999999999999999999999999999999E+125"))}) {
    AttributeValue back;
    ASSERT_TRUE(key_component_to_value(v.type, key_component(v), &back)) << type_name(v.type);
    EXPECT_EQ(back, v);
    EXPECT_EQ(back.type, v.type);
  }
}

TEST(KeyComponent, RejectsMalformed) {
  AttributeValue out;
  EXPECT_FALSE(key_component_to_value(Type::kN, "", &out));
  EXPECT_FALSE(key_component_to_value(Type::kN, "12", &out));
  EXPECT_FALSE(key_component_to_value(Type::kBool, "\x01", &out));
  EXPECT_FALSE(key_component_to_value(Type::kM, "", &out));
  EXPECT_FALSE(key_component_to_value(Type::kSS, "a", &out));
}

TEST(PartitionHash, FirstEightBytesOfMd5BigEndian) {
  // MD5("") = d41d8cd98f00b204e9800998ecf8427e, MD5("abc") = 900150983cd24fb0d6963f7d28e17f72.
  EXPECT_EQ(partition_hash(""), 0xd41d8cd98f00b204ull);
  EXPECT_EQ(partition_hash("abc"), 0x900150983cd24fb0ull);
  // MD5("The quick brown fox jumps over the lazy dog") = 9e107d9d372bb6826bd81d3542a419d6.
  EXPECT_EQ(partition_hash("The quick brown fox jumps over the lazy dog"), 0x9e107d9d372bb682ull);
  // Binary-safe.
  EXPECT_NE(partition_hash(std::string_view("\0", 1)), partition_hash(""));
}

TEST(StorageKey, Layout) {
  std::string key = storage_key(0x0102030405060708ull, "pk", "sk");
  EXPECT_EQ(key, std::string("\x01\x02\x03\x04\x05\x06\x07\x08"
                             "\x00\x00\x00\x02"
                             "pksk",
                             16));
  EXPECT_EQ(storage_key(0, "", ""), std::string(12, '\0'));
  EXPECT_EQ(storage_key(~0ull, "a", "").size(), 13u);
  std::string long_pk(70000, 'p');
  std::string k = storage_key(1, long_pk, "");
  EXPECT_EQ(k.substr(8, 4), std::string("\x00\x01\x11\x70", 4));  // 70000 = 0x11170.
}

TEST(StorageKey, PartitionsAreContiguousAndSortedBySortKey) {
  const uint64_t h = 42;
  std::vector<std::string> numbers = {"-5", "-1.5", "0", "2", "10", "300"};
  std::vector<std::string> keys;
  for (const char* pk : {"a", "ab", "b"}) {
    for (const auto& n : numbers) {
      keys.push_back(storage_key(h, pk, key_component(AttributeValue::N(D(n)))));
    }
  }
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  // Each partition key's items form one run, ordered by numeric sort key.
  for (size_t p = 0; p < 3; ++p) {
    std::vector<std::string> run(sorted.begin() + p * numbers.size(),
                                 sorted.begin() + (p + 1) * numbers.size());
    for (size_t i = 0; i < run.size(); ++i) {
      // The pk length and bytes agree within a run.
      EXPECT_EQ(run[i].substr(8, 4), run[0].substr(8, 4));
      uint32_t len = static_cast<uint8_t>(run[i][11]);
      EXPECT_EQ(run[i].substr(12, len), run[0].substr(12, len));
      AttributeValue sk;
      ASSERT_TRUE(key_component_to_value(Type::kN, std::string_view(run[i]).substr(12 + len), &sk));
      EXPECT_EQ(sk, AttributeValue::N(D(numbers[i])));
    }
  }
  // Different hashes order by hash first.
  EXPECT_LT(storage_key(1, "zzz", "zzz"), storage_key(2, "a", ""));
}

}  // namespace
}  // namespace shoal::item
