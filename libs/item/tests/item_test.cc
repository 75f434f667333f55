#include "shoal/item/item.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace shoal::item {
namespace {

Decimal D(std::string_view text) {
  Decimal d;
  EXPECT_EQ(Decimal::parse(text, &d), DecimalError::kNone) << text;
  return d;
}

AttributeValue N(std::string_view text) { return AttributeValue::N(D(text)); }

// An item using every type, with nesting.
Item sample_item() {
  return {
      {"id", AttributeValue::S("user#42")},
      {"score", N("-12.50")},
      {"blob", AttributeValue::B(std::string("\x00\x01\xff", 3))},
      {"active", AttributeValue::Bool(true)},
      {"deleted", AttributeValue::Bool(false)},
      {"nothing", AttributeValue::Null()},
      {"tags", AttributeValue::SS({"a", "b", ""})},
      {"nums", AttributeValue::NS({D("1"), D("0"), D("-1e-130"), D("9.9e125")})},
      {"bins", AttributeValue::BS({std::string("\x00", 1), "x"})},
      {"profile",
       AttributeValue::M({
           {"name", AttributeValue::S("Zoë")},
           {"history", AttributeValue::L({N("1"), AttributeValue::S("two"),
                                          AttributeValue::L({}), AttributeValue::M({})})},
       })},
      {"", AttributeValue::S(std::string(300, 'x'))},
  };
}

TEST(Type, Names) {
  EXPECT_STREQ(type_name(Type::kS), "S");
  EXPECT_STREQ(type_name(Type::kN), "N");
  EXPECT_STREQ(type_name(Type::kB), "B");
  EXPECT_STREQ(type_name(Type::kBool), "BOOL");
  EXPECT_STREQ(type_name(Type::kNull), "NULL");
  EXPECT_STREQ(type_name(Type::kM), "M");
  EXPECT_STREQ(type_name(Type::kL), "L");
  EXPECT_STREQ(type_name(Type::kSS), "SS");
  EXPECT_STREQ(type_name(Type::kNS), "NS");
  EXPECT_STREQ(type_name(Type::kBS), "BS");
}

TEST(AttributeValue, FactoriesSetTypeAndPayload) {
  EXPECT_EQ(AttributeValue::S("x").type, Type::kS);
  EXPECT_EQ(AttributeValue::S("x").bytes, "x");
  EXPECT_EQ(AttributeValue::B("y").type, Type::kB);
  EXPECT_EQ(N("3").type, Type::kN);
  EXPECT_EQ(N("3").number, D("3"));
  EXPECT_TRUE(AttributeValue::Bool(true).boolean);
  EXPECT_EQ(AttributeValue::Null().type, Type::kNull);
  EXPECT_EQ(AttributeValue{}.type, Type::kNull);
  AttributeValue m = AttributeValue::M({{"k", N("1")}});
  ASSERT_NE(m.map, nullptr);
  EXPECT_EQ(m.map->size(), 1u);
  AttributeValue l = AttributeValue::L({N("1"), N("2")});
  ASSERT_NE(l.list, nullptr);
  EXPECT_EQ(l.list->size(), 2u);
  EXPECT_EQ(AttributeValue::SS({"a"}).type, Type::kSS);
  EXPECT_EQ(AttributeValue::BS({"a"}).type, Type::kBS);
  EXPECT_EQ(AttributeValue::NS({D("1")}).type, Type::kNS);
}

TEST(AttributeValue, Equality) {
  EXPECT_EQ(AttributeValue::S("a"), AttributeValue::S("a"));
  EXPECT_NE(AttributeValue::S("a"), AttributeValue::S("b"));
  // Same bytes, different type.
  EXPECT_NE(AttributeValue::S("a"), AttributeValue::B("a"));
  EXPECT_NE(AttributeValue::SS({"a"}), AttributeValue::BS({"a"}));
  // Numbers by value.
  EXPECT_EQ(N("1.0"), N("1"));
  EXPECT_EQ(N("-0"), N("0"));
  EXPECT_NE(N("1"), N("-1"));
  EXPECT_EQ(AttributeValue::Null(), AttributeValue::Null());
  EXPECT_NE(AttributeValue::Bool(true), AttributeValue::Bool(false));
  EXPECT_NE(AttributeValue::Bool(false), AttributeValue::Null());

  // Sets ignore order.
  EXPECT_EQ(AttributeValue::SS({"a", "b", "c"}), AttributeValue::SS({"c", "a", "b"}));
  EXPECT_NE(AttributeValue::SS({"a", "b"}), AttributeValue::SS({"a", "c"}));
  EXPECT_NE(AttributeValue::SS({"a", "b"}), AttributeValue::SS({"a"}));
  EXPECT_EQ(AttributeValue::NS({D("1"), D("2.0")}), AttributeValue::NS({D("2"), D("1.00")}));
  EXPECT_NE(AttributeValue::NS({D("1"), D("2")}), AttributeValue::NS({D("1"), D("3")}));
  EXPECT_EQ(AttributeValue::BS({"x", "y"}), AttributeValue::BS({"y", "x"}));

  // Lists keep order.
  EXPECT_EQ(AttributeValue::L({N("1"), N("2")}), AttributeValue::L({N("1"), N("2.0")}));
  EXPECT_NE(AttributeValue::L({N("1"), N("2")}), AttributeValue::L({N("2"), N("1")}));
  EXPECT_NE(AttributeValue::L({N("1")}), AttributeValue::L({N("1"), N("1")}));

  // Maps by name, regardless of order; deep.
  AttributeValue m1 = AttributeValue::M({{"a", N("1")}, {"b", AttributeValue::SS({"x", "y"})}});
  AttributeValue m2 = AttributeValue::M({{"b", AttributeValue::SS({"y", "x"})}, {"a", N("1.0")}});
  EXPECT_EQ(m1, m2);
  EXPECT_NE(m1, AttributeValue::M({{"a", N("1")}}));
  EXPECT_NE(m1, AttributeValue::M({{"a", N("1")}, {"c", AttributeValue::SS({"x", "y"})}}));
  EXPECT_NE(m1, AttributeValue::M({{"a", N("2")}, {"b", AttributeValue::SS({"x", "y"})}}));
  EXPECT_EQ(AttributeValue::M({{"outer", m1}}), AttributeValue::M({{"outer", m2}}));

  // A container without its pointer equals an empty one.
  AttributeValue bare_map;
  bare_map.type = Type::kM;
  EXPECT_EQ(bare_map, AttributeValue::M({}));
  AttributeValue bare_list;
  bare_list.type = Type::kL;
  EXPECT_EQ(bare_list, AttributeValue::L({}));
  EXPECT_NE(AttributeValue::M({}), AttributeValue::L({}));

  EXPECT_EQ(sample_item(), sample_item());
}

TEST(Item, FindAttribute) {
  Item item = sample_item();
  const AttributeValue* v = find_attribute(item, "score");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(*v, N("-12.5"));
  EXPECT_EQ(find_attribute(item, "missing"), nullptr);
  EXPECT_EQ(find_attribute(item, "Score"), nullptr);  // Names are case-sensitive.
  ASSERT_NE(find_attribute(item, ""), nullptr);
  EXPECT_EQ(find_attribute(Item{}, "id"), nullptr);
}

TEST(Size, Scalars) {
  EXPECT_EQ(value_size(AttributeValue::S("hello")), 5u);
  EXPECT_EQ(value_size(AttributeValue::S("Zoë")), 4u);  // UTF-8 bytes, not characters.
  EXPECT_EQ(value_size(AttributeValue::S("")), 0u);
  EXPECT_EQ(value_size(AttributeValue::B(std::string("\x00\x01\x02", 3))), 3u);
  EXPECT_EQ(value_size(AttributeValue::Bool(true)), 1u);
  EXPECT_EQ(value_size(AttributeValue::Null()), 1u);
}

TEST(Size, Numbers) {
  // (significant digits + 1) / 2 + 1.
  EXPECT_EQ(value_size(N("0")), 2u);      // Zero counts as one digit.
  EXPECT_EQ(value_size(N("7")), 2u);      // 1 digit.
  EXPECT_EQ(value_size(N("1000")), 2u);   // Trailing zeros are not significant: 1 digit.
  EXPECT_EQ(value_size(N("0.000100")), 2u);
  EXPECT_EQ(value_size(N("12")), 2u);     // 2 digits.
  EXPECT_EQ(value_size(N("-12.5")), 3u);  // 3 digits.
  EXPECT_EQ(value_size(N("12345")), 4u);  // 5 digits.
  EXPECT_EQ(value_size(N("12345678901234567890123456789012345678")), 20u);  // 38 digits.
}

TEST(Size, Containers) {
  // Empty containers cost their 3-byte overhead.
  EXPECT_EQ(value_size(AttributeValue::M({})), 3u);
  EXPECT_EQ(value_size(AttributeValue::L({})), 3u);
  // L: 3 + per element (1 + size): (1 + 1) + (1 + 2) = 8.
  EXPECT_EQ(value_size(AttributeValue::L({AttributeValue::S("a"), N("1")})), 8u);
  // M: 3 + per entry (1 + name + size): 1 + 1 + 2 = 7.
  EXPECT_EQ(value_size(AttributeValue::M({{"a", AttributeValue::S("xy")}})), 7u);
  // Nested: {"l": [null, true]} = 3 + (1 + 1 + (3 + 2 + 2)) = 12.
  EXPECT_EQ(value_size(AttributeValue::M(
                {{"l", AttributeValue::L({AttributeValue::Null(), AttributeValue::Bool(true)})}})),
            12u);
  // Sets: plain sums of their elements.
  EXPECT_EQ(value_size(AttributeValue::SS({"a", "bc", "Zoë"})), 7u);
  EXPECT_EQ(value_size(AttributeValue::BS({"abc", std::string("\x00", 1)})), 4u);
  EXPECT_EQ(value_size(AttributeValue::NS({D("1"), D("123"), D("12345")})), 2u + 3u + 4u);
}

TEST(Size, Items) {
  EXPECT_EQ(item_size(Item{}), 0u);
  // "id"(2) + "abc"(3) + "n"(1) + 42 (2 digits -> 2) = 8.
  Item item = {{"id", AttributeValue::S("abc")}, {"n", N("42")}};
  EXPECT_EQ(item_size(item), 8u);
  // Names count: a 1-byte name plus a value one byte short of the limit is exactly at it.
  Item big = {{"b", AttributeValue::B(std::string(kMaxItemSize - 1, 'x'))}};
  EXPECT_EQ(item_size(big), kMaxItemSize);
  EXPECT_EQ(kMaxItemSize, 409600u);
}

// ---- Codec ----

TEST(Codec, RoundTripsEveryType) {
  Item item = sample_item();
  std::string bytes = encode_item(item);
  Item back;
  ASSERT_TRUE(decode_item(bytes, &back));
  EXPECT_EQ(back, item);
  // Order and exact payloads survive, not just set-equality.
  ASSERT_EQ(back.size(), item.size());
  for (size_t i = 0; i < item.size(); ++i) {
    EXPECT_EQ(back[i].first, item[i].first);
    EXPECT_EQ(back[i].second.type, item[i].second.type);
    EXPECT_EQ(back[i].second.strings, item[i].second.strings);
    EXPECT_EQ(back[i].second.numbers, item[i].second.numbers);
  }
  // Deterministic.
  EXPECT_EQ(encode_item(back), bytes);
}

TEST(Codec, EmptyItem) {
  std::string bytes = encode_item(Item{});
  EXPECT_EQ(bytes, std::string("\x01\x00", 2));
  Item back = sample_item();
  ASSERT_TRUE(decode_item(bytes, &back));
  EXPECT_TRUE(back.empty());
}

TEST(Codec, IsCompact) {
  Item item = {
      {"id", AttributeValue::S("abc")}, {"n", N("42")}, {"ok", AttributeValue::Bool(true)}};
  // version, count, then "id" S "abc" = 1+2+1+1+3 = 8, "n" N = 1+1+1+1+3 = 7,
  // "ok" BOOL = 1+2+1+1 = 5.
  EXPECT_EQ(encode_item(item).size(), 2u + 8u + 7u + 5u);
}

TEST(Codec, EncodeToAppends) {
  Item item = sample_item();
  std::string out = "prefix";
  encode_item_to(item, &out);
  EXPECT_EQ(out, "prefix" + encode_item(item));
}

TEST(Codec, LargeValuesAndCounts) {
  AttributeList list;
  for (int i = 0; i < 1000; ++i) list.push_back(N(std::to_string(i)));
  Item item = {{"list", AttributeValue::L(list)},
               {"big", AttributeValue::B(std::string(kMaxItemSize, '\xab'))}};
  Item back;
  ASSERT_TRUE(decode_item(encode_item(item), &back));
  EXPECT_EQ(back, item);
}

AttributeValue nested_lists(int depth) {
  AttributeValue v = AttributeValue::S("leaf");
  for (int i = 0; i < depth; ++i) v = AttributeValue::L({v});
  return v;
}

TEST(Codec, NestingDepthIsCapped) {
  Item back;
  // DynamoDB's own limit is 32 levels.
  Item item = {{"deep", nested_lists(32)}};
  ASSERT_TRUE(decode_item(encode_item(item), &back));
  EXPECT_EQ(back, item);
  item = {{"deep", nested_lists(64)}};
  EXPECT_TRUE(decode_item(encode_item(item), &back));
  item = {{"deep", nested_lists(65)}};
  EXPECT_FALSE(decode_item(encode_item(item), &back));

  // Crafted: a million nested single-element lists must fail without exhausting the stack.
  std::string bytes("\x01\x01\x00", 3);  // version, 1 attribute, name "".
  for (int i = 0; i < 1000000; ++i) bytes.append("\x07\x01", 2);
  bytes.push_back('\x05');
  EXPECT_FALSE(decode_item(bytes, &back));
  // Same for maps.
  bytes.assign("\x01\x01\x00", 3);
  for (int i = 0; i < 1000000; ++i) bytes.append("\x06\x01\x00", 3);
  bytes.push_back('\x05');
  EXPECT_FALSE(decode_item(bytes, &back));
}

TEST(Codec, RejectsMalformedInput) {
  Item back;
  for (const std::string& bad : {
           std::string(),
           std::string("\x01", 1),          // No count.
           std::string("\x02\x00", 2),      // Unknown version.
           std::string("\x01\x00\x00", 3),  // Trailing byte.
           std::string("\x01\x01\x01" "a" "\x00", 5),   // Tag 0.
           std::string("\x01\x01\x01" "a" "\x0b", 5),   // Tag 11.
           std::string("\x01\x01\x01" "a" "\x04\x02", 6),  // BOOL byte 2.
           std::string("\x01\x01\x01" "a" "\x01\x05" "ab", 8),  // String longer than input.
           std::string("\x01\x01\x01" "a" "\x02\x01\x04", 7),   // Invalid number.
           std::string("\x01\x01\x01" "a" "\x09\x01\x01\x00", 8),  // NS with invalid number.
           // Counts far beyond the input.
           std::string("\x01\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10),
           std::string("\x01\x01\x01" "a" "\x07\xff\xff\xff\xff\x0f", 10),
           std::string("\x01\x01\x01" "a" "\x08\xff\xff\xff\xff\x0f", 10),
           std::string("\x01\x01\x01" "a" "\x09\xff\xff\xff\xff\x0f", 10),
           std::string("\x01\x01\x01" "a" "\x06\xff\xff\xff\xff\x0f", 10),
           // Varint longer than 64 bits.
           std::string("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11),
           std::string("\x01\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 12),
       }) {
    EXPECT_FALSE(decode_item(bad, &back)) << testing::PrintToString(bad);
  }
}

TEST(Codec, DecodeFailureLeavesOutputUntouched) {
  Item back = {{"keep", AttributeValue::S("me")}};
  EXPECT_FALSE(decode_item("garbage", &back));
  std::string valid = encode_item(sample_item());
  EXPECT_FALSE(decode_item(std::string_view(valid).substr(0, valid.size() - 1), &back));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].first, "keep");
}

TEST(Codec, EveryTruncationFails) {
  std::string bytes = encode_item(sample_item());
  Item back;
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_item(std::string_view(bytes).substr(0, n), &back)) << n;
  }
  EXPECT_TRUE(decode_item(bytes, &back));
}

// Anything the decoder accepts must re-encode into something that decodes to the same.
void expect_stable(const Item& item) {
  Item again;
  ASSERT_TRUE(decode_item(encode_item(item), &again));
  EXPECT_EQ(again, item);
}

TEST(Codec, RandomBytesNeverCrash) {
  std::mt19937_64 rng(2024);
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 16 == 0 ? rng() % 256 : rng() % 12);
    if (!bytes.empty() && rng() % 2 == 0) bytes[0] = '\x01';
    Item item;
    if (decode_item(bytes, &item)) {
      ++accepted;
      expect_stable(item);
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST(Codec, MutatedEncodingsNeverCrash) {
  const std::string valid = encode_item(sample_item());
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50000; ++i) {
    std::string bytes = valid;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      switch (rng() % 3) {
        case 0: bytes[rng() % bytes.size()] = static_cast<char>(rng() % 256); break;
        case 1: bytes.erase(rng() % bytes.size(), 1); break;
        default: bytes.insert(rng() % bytes.size(), 1, static_cast<char>(rng() % 256)); break;
      }
    }
    Item item;
    if (decode_item(bytes, &item)) expect_stable(item);
  }
}

// ---- Single-value codec ----

TEST(ValueCodec, RoundTripsEveryType) {
  for (const auto& [name, value] : sample_item()) {
    std::string bytes = encode_value(value);
    AttributeValue back;
    ASSERT_TRUE(decode_value(bytes, &back)) << name;
    EXPECT_EQ(back, value) << name;
    EXPECT_EQ(back.type, value.type) << name;
    EXPECT_EQ(back.strings, value.strings) << name;  // Order survives.
    EXPECT_EQ(back.numbers, value.numbers) << name;
    EXPECT_EQ(encode_value(back), bytes) << name;
  }
}

TEST(ValueCodec, IsTheItemCodecsValueEncoding) {
  EXPECT_EQ(encode_value(AttributeValue::Null()), "\x05");
  EXPECT_EQ(encode_value(AttributeValue::S("ab")), "\x01\x02" "ab");
  EXPECT_EQ(encode_value(AttributeValue::Bool(true)), std::string("\x04\x01", 2));
  EXPECT_EQ(encode_value(N("0")), std::string("\x02\x01\x02", 3));
  EXPECT_EQ(encode_value(AttributeValue::M({})), std::string("\x06\x00", 2));
  // An item is version, count, then name + encode_value per attribute.
  for (const auto& attribute : sample_item()) {
    EXPECT_EQ(encode_item({attribute}),
              std::string("\x01\x01", 2) + static_cast<char>(attribute.first.size()) +
                  attribute.first + encode_value(attribute.second))
        << attribute.first;
  }
}

TEST(ValueCodec, RejectsMalformedInput) {
  AttributeValue back;
  for (const std::string& bad : {
           std::string(),
           std::string("\x00", 1),                 // Tag 0.
           std::string("\x0b", 1),                 // Tag 11.
           std::string("\x01\x00\x00", 3),         // Trailing byte after S "".
           std::string("\x05\x05", 2),             // Two values.
           std::string("\x01\x01\x00\x05", 4),     // An encoded item {"": NULL}.
           std::string("\x04\x02", 2),             // BOOL byte 2.
           std::string("\x01\x05" "ab", 4),        // String longer than input.
           std::string("\x02\x01\x04", 3),         // Invalid number.
           std::string("\x09\x01\x01\x00", 4),     // NS with an invalid number.
           std::string("\x07\xff\xff\xff\xff\x0f", 6),  // Counts far beyond the input.
           std::string("\x06\xff\xff\xff\xff\x0f", 6),
           std::string("\x08\xff\xff\xff\xff\x0f", 6),
           std::string("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11),  // > 64 bits.
       }) {
    EXPECT_FALSE(decode_value(bad, &back)) << testing::PrintToString(bad);
  }
}

TEST(ValueCodec, DecodeFailureLeavesOutputUntouched) {
  AttributeValue back = AttributeValue::S("keep");
  EXPECT_FALSE(decode_value("\x0b", &back));
  std::string valid = encode_value(sample_item()[9].second);  // The nested map.
  EXPECT_FALSE(decode_value(std::string_view(valid).substr(0, valid.size() - 1), &back));
  EXPECT_FALSE(decode_value(valid + "x", &back));
  EXPECT_EQ(back, AttributeValue::S("keep"));
}

TEST(ValueCodec, EveryTruncationFails) {
  std::vector<AttributeValue> values;
  for (const auto& attribute : sample_item()) values.push_back(attribute.second);
  values.push_back(AttributeValue::M(sample_item()));
  AttributeValue back;
  for (const AttributeValue& v : values) {
    std::string bytes = encode_value(v);
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(decode_value(std::string_view(bytes).substr(0, n), &back))
          << testing::PrintToString(bytes) << " cut at " << n;
    }
    ASSERT_TRUE(decode_value(bytes, &back));
    EXPECT_EQ(back, v);
  }
}

TEST(ValueCodec, NestingDepthIsCapped) {
  AttributeValue back;
  ASSERT_TRUE(decode_value(encode_value(nested_lists(64)), &back));
  EXPECT_EQ(back, nested_lists(64));
  EXPECT_FALSE(decode_value(encode_value(nested_lists(65)), &back));
  std::string bytes;
  for (int i = 0; i < 1000000; ++i) bytes.append("\x07\x01", 2);
  bytes.push_back('\x05');
  EXPECT_FALSE(decode_value(bytes, &back));
}

TEST(ValueCodec, RandomAndMutatedBytesNeverCrash) {
  const std::string valid = encode_value(AttributeValue::M(sample_item()));
  std::mt19937_64 rng(99);
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      bytes.assign(rng() % 48, '\0');
      for (char& c : bytes) c = static_cast<char>(rng() % 16 == 0 ? rng() % 256 : rng() % 12);
    } else {
      bytes = valid;
      for (int f = 1 + static_cast<int>(rng() % 4); f > 0; --f) {
        switch (rng() % 3) {
          case 0: bytes[rng() % bytes.size()] = static_cast<char>(rng() % 256); break;
          case 1: bytes.erase(rng() % bytes.size(), 1); break;
          default: bytes.insert(rng() % bytes.size(), 1, static_cast<char>(rng() % 256)); break;
        }
      }
    }
    AttributeValue v;
    if (decode_value(bytes, &v)) {
      ++accepted;
      AttributeValue again;
      ASSERT_TRUE(decode_value(encode_value(v), &again));
      EXPECT_EQ(again, v);
    }
  }
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace shoal::item
