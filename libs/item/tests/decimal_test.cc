#include "shoal/item/decimal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace shoal::item {
namespace {

Decimal D(std::string_view text) {
  Decimal d;
  DecimalError e = Decimal::parse(text, &d);
  EXPECT_EQ(e, DecimalError::kNone) << text;
  return d;
}

DecimalError parse_error(std::string_view text) {
  Decimal d;
  return Decimal::parse(text, &d);
}

int memcmp_sign(const std::string& a, const std::string& b) {
  int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c < 0 ? -1 : 1;
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

int order_sign(const Decimal& a, const Decimal& b) {
  auto c = a <=> b;
  if (c < 0) return -1;
  if (c > 0) return 1;
  return 0;
}

TEST(DecimalParse, NormalizesDigitsAndExponent) {
  Decimal d = D("12.5");
  EXPECT_FALSE(d.negative());
  EXPECT_EQ(d.digits(), "125");
  EXPECT_EQ(d.exponent(), 2);

  d = D("-0.0015");
  EXPECT_TRUE(d.negative());
  EXPECT_EQ(d.digits(), "15");
  EXPECT_EQ(d.exponent(), -2);

  d = D("1000");
  EXPECT_EQ(d.digits(), "1");
  EXPECT_EQ(d.exponent(), 4);

  d = D("0.000100");
  EXPECT_EQ(d.digits(), "1");
  EXPECT_EQ(d.exponent(), -3);

  d = D("00012.3400");
  EXPECT_EQ(d.digits(), "1234");
  EXPECT_EQ(d.exponent(), 2);

  d = D("1E+2");
  EXPECT_EQ(d.digits(), "1");
  EXPECT_EQ(d.exponent(), 3);
}

TEST(DecimalParse, AcceptsLiteralForms) {
  for (const char* text : {"0", "1", "+1", "-1", "1.", ".5", "-.5", "+.5", "1e2", "1E2", "1e+2",
                           "1e-2", "1.5E-3", "007", "0.0", "00.00e00"}) {
    Decimal d;
    EXPECT_EQ(Decimal::parse(text, &d), DecimalError::kNone) << text;
  }
  EXPECT_EQ(D(".5").to_string(), "0.5");
  EXPECT_EQ(D("1.").to_string(), "1");
}

TEST(DecimalParse, ZeroInAllSpellings) {
  for (const char* text : {"0", "-0", "+0", "0.00", "-0.0e-5", "0e999999999999", "000", ".0",
                           "0e-999999999999"}) {
    Decimal d = D(text);
    EXPECT_TRUE(d.is_zero()) << text;
    EXPECT_FALSE(d.negative()) << text;
    EXPECT_EQ(d.to_string(), "0") << text;
    EXPECT_EQ(d, Decimal()) << text;
  }
}

TEST(DecimalParse, RejectsNonNumbers) {
  for (const char* text : {"", " 1", "1 ", " ", "abc", "1e", "e5", "E5", "--1", "+-1", "-+1",
                           "NaN", "nan", "Infinity", "-Infinity", "inf", "0x10", "0X1F", ".",
                           "-", "+", "-.", "1.2.3", "1..2", "1e+", "1e-", "1e5.5", "1e5e5",
                           "1,000", "1_000", "1e--5", "1 e5", "1\t", "\n1", "١"}) {
    EXPECT_EQ(parse_error(text), DecimalError::kNotNumeric) << "'" << text << "'";
  }
  // An embedded NUL is not a terminator.
  EXPECT_EQ(parse_error(std::string_view("1\0", 2)), DecimalError::kNotNumeric);
}

TEST(DecimalParse, Precision) {
  const std::string d38 = "12345678901234567890123456789012345678";
  ASSERT_EQ(d38.size(), 38u);
  EXPECT_EQ(parse_error(d38), DecimalError::kNone);
  EXPECT_EQ(D(d38).digits(), d38);
  EXPECT_EQ(parse_error(d38 + "9"), DecimalError::kTooPrecise);
  // Trailing and leading zeros are not significant.
  EXPECT_EQ(parse_error(d38 + "000000"), DecimalError::kNone);
  EXPECT_EQ(parse_error("0.000000" + d38 + "0000"), DecimalError::kNone);
  EXPECT_EQ(parse_error("-1." + d38.substr(1) + "000"), DecimalError::kNone);
  EXPECT_EQ(parse_error("1.00000000000000000000000000000000000001"), DecimalError::kTooPrecise);
  EXPECT_EQ(parse_error("-1.0000000000000000000000000000000000001"), DecimalError::kNone);
}

TEST(DecimalParse, Range) {
  EXPECT_EQ(parse_error("1e-130"), DecimalError::kNone);
  EXPECT_EQ(parse_error("-1E-130"), DecimalError::kNone);
  EXPECT_EQ(parse_error("1000000e-136"), DecimalError::kNone);
  EXPECT_EQ(parse_error("9.9999999999999999999999999999999999999E+125"), DecimalError::kNone);
  EXPECT_EQ(parse_error("-9.9999999999999999999999999999999999999E+125"), DecimalError::kNone);
  EXPECT_EQ(parse_error("1e125"), DecimalError::kNone);

  EXPECT_EQ(parse_error("1e126"), DecimalError::kOverflow);
  EXPECT_EQ(parse_error("-1E+126"), DecimalError::kOverflow);
  EXPECT_EQ(parse_error("10e125"), DecimalError::kOverflow);
  EXPECT_EQ(parse_error("0.1e127"), DecimalError::kOverflow);
  EXPECT_EQ(parse_error("1" + std::string(126, '0')), DecimalError::kOverflow);
  EXPECT_EQ(parse_error("1e999999999999"), DecimalError::kOverflow);
  EXPECT_EQ(parse_error("-1e99999999999999999999999999999999999999999"), DecimalError::kOverflow);

  EXPECT_EQ(parse_error("1e-131"), DecimalError::kUnderflow);
  EXPECT_EQ(parse_error("0.9e-130"), DecimalError::kUnderflow);
  EXPECT_EQ(parse_error("-9.9999999999999999999999999999999999999e-131"),
            DecimalError::kUnderflow);
  EXPECT_EQ(parse_error("1e-999999999999"), DecimalError::kUnderflow);
  EXPECT_EQ(parse_error("1e-99999999999999999999999999999999999999999"), DecimalError::kUnderflow);
  EXPECT_EQ(parse_error("0." + std::string(130, '0') + "1"), DecimalError::kUnderflow);
  EXPECT_EQ(parse_error("0." + std::string(129, '0') + "1"), DecimalError::kNone);

  // Out-of-range digit positions can be compensated by the literal's exponent.
  EXPECT_EQ(D("0." + std::string(200, '0') + "1e200").to_string(), "0.1");
  EXPECT_EQ(D("1" + std::string(300, '0') + "e-300").to_string(), "1");
}

TEST(DecimalToString, PlainNotation) {
  EXPECT_EQ(D("1E+2").to_string(), "100");
  EXPECT_EQ(D("-1.50").to_string(), "-1.5");
  EXPECT_EQ(D("0.00").to_string(), "0");
  EXPECT_EQ(D("12.5").to_string(), "12.5");
  EXPECT_EQ(D("-0.0015").to_string(), "-0.0015");
  EXPECT_EQ(D("123.456e1").to_string(), "1234.56");
  EXPECT_EQ(D("123.456e-3").to_string(), "0.123456");
  EXPECT_EQ(D("123.456e-4").to_string(), "0.0123456");
  EXPECT_EQ(D("+42").to_string(), "42");
  EXPECT_EQ(D("1E-130").to_string(), "0." + std::string(129, '0') + "1");
  EXPECT_EQ(D("9.9999999999999999999999999999999999999E+125").to_string(),
            std::string(38, '9') + std::string(88, '0'));
}

TEST(DecimalToString, RoundTripsThroughParse) {
  for (const char* text : {"0", "1", "-1", "12.5", "-0.0015", "1e125", "-1e-130",
                           "9.9999999999999999999999999999999999999E+125", "3.14159"}) {
    Decimal d = D(text);
    EXPECT_EQ(D(d.to_string()), d) << text;
  }
}

TEST(DecimalCompare, ByValue) {
  EXPECT_EQ(D("1.0"), D("1"));
  EXPECT_EQ(D("100"), D("1e2"));
  EXPECT_NE(D("1"), D("-1"));
  EXPECT_LT(D("9"), D("10"));
  EXPECT_LT(D("10"), D("10.5"));
  EXPECT_LT(D("10.5"), D("100"));
  EXPECT_LT(D("-100"), D("-10.5"));
  EXPECT_LT(D("-10.5"), D("-10"));
  EXPECT_LT(D("-10"), D("-9"));
  EXPECT_LT(D("-9"), D("0"));
  EXPECT_LT(D("0"), D("1e-130"));
  EXPECT_LT(D("0.1"), D("0.101"));
  EXPECT_LT(D("-0.101"), D("-0.1"));
  EXPECT_EQ(D("5") <=> D("5.00"), std::strong_ordering::equal);
}

// Values in strictly increasing order.
const std::vector<std::string>& ascending() {
  static const std::vector<std::string> kValues = {
      "-9.9999999999999999999999999999999999999E+125",
      "-1e125",
      "-1000",
      "-101",
      "-100.5",
      "-100",
      "-99",
      "-10.5",
      "-10.01",
      "-10",
      "-9.99",
      "-9",
      "-1.01",
      "-1",
      "-0.5",
      "-0.101",
      "-0.1",
      "-0.01",
      "-1e-130",
      "0",
      "1e-130",
      "1.1e-130",
      "0.01",
      "0.1",
      "0.101",
      "0.5",
      "1",
      "1.000000000000000000000000000000000001",
      "1.01",
      "9",
      "9.99",
      "10",
      "10.01",
      "10.5",
      "99",
      "100",
      "100.5",
      "101",
      "1000",
      "12345678901234567890123456789012345678",
      "1e125",
      "9.9999999999999999999999999999999999999E+125",
  };
  return kValues;
}

TEST(DecimalOrdered, MemcmpOrderMatchesNumericOrder) {
  const auto& values = ascending();
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = 0; j < values.size(); ++j) {
      Decimal a = D(values[i]);
      Decimal b = D(values[j]);
      int expected = i < j ? -1 : (i > j ? 1 : 0);
      EXPECT_EQ(order_sign(a, b), expected) << values[i] << " vs " << values[j];
      EXPECT_EQ(memcmp_sign(a.encode_ordered(), b.encode_ordered()), expected)
          << values[i] << " vs " << values[j];
    }
  }
}

TEST(DecimalOrdered, RoundTrips) {
  for (const auto& text : ascending()) {
    Decimal d = D(text);
    Decimal back;
    ASSERT_TRUE(Decimal::decode_ordered(d.encode_ordered(), &back)) << text;
    EXPECT_EQ(back, d) << text;
    EXPECT_EQ(back.to_string(), d.to_string());
  }
}

TEST(DecimalOrdered, CompactLayout) {
  EXPECT_EQ(D("0").encode_ordered(), std::string("\x02", 1));
  // Positive: tag, exponent + 129, digit pairs (10*d1 + d2 + 1).
  EXPECT_EQ(D("12.5").encode_ordered(), std::string("\x03\x83\x0d\x33", 4));
  // 38 digits take 19 bytes.
  EXPECT_EQ(D("12345678901234567890123456789012345678").encode_ordered().size(), 21u);
  // Negative: inverted exponent and digits, then a 0xFF terminator.
  EXPECT_EQ(D("-12.5").encode_ordered(), std::string("\x01\x7c\xf2\xcc\xff", 5));
}

Decimal random_decimal(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> kind(0, 20);
  if (kind(rng) == 0) return Decimal();
  std::uniform_int_distribution<int> len(1, 38);
  std::uniform_int_distribution<int> digit(0, 9);
  std::uniform_int_distribution<int> exp(-129, 126);
  // Small exponent ranges too, so many values share an exponent.
  std::uniform_int_distribution<int> small_exp(-2, 2);
  std::string text;
  if (rng() & 1) text.push_back('-');
  text.push_back('.');
  int n = len(rng) % ((rng() & 1) ? 38 : 4) + 1;
  for (int i = 0; i < n; ++i) {
    // Few distinct digits, so common prefixes are frequent.
    text.push_back(static_cast<char>('0' + (rng() & 1 ? digit(rng) : (rng() & 1) * 9)));
  }
  text[text.size() - 1] = '1' + static_cast<char>(rng() % 9);
  text[text[0] == '-' ? 2 : 1] = '1' + static_cast<char>(rng() % 9);
  text += "e" + std::to_string((rng() & 1) ? exp(rng) : small_exp(rng));
  Decimal d;
  EXPECT_EQ(Decimal::parse(text, &d), DecimalError::kNone) << text;
  return d;
}

TEST(DecimalOrdered, RandomValuesKeepOrderAndRoundTrip) {
  std::mt19937_64 rng(12345);
  std::vector<Decimal> values;
  for (int i = 0; i < 2000; ++i) values.push_back(random_decimal(rng));
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    const Decimal& a = values[i];
    const Decimal& b = values[i + 1];
    EXPECT_EQ(memcmp_sign(a.encode_ordered(), b.encode_ordered()), order_sign(a, b))
        << a.to_string() << " vs " << b.to_string();
    Decimal back;
    ASSERT_TRUE(Decimal::decode_ordered(a.encode_ordered(), &back));
    EXPECT_EQ(back, a);
    // to_string is canonical and parses back to the same value.
    Decimal reparsed;
    ASSERT_EQ(Decimal::parse(a.to_string(), &reparsed), DecimalError::kNone);
    EXPECT_EQ(reparsed, a);
  }
  // Sorting by encoding equals sorting by value.
  std::vector<Decimal> by_value = values;
  std::vector<Decimal> by_bytes = values;
  std::sort(by_value.begin(), by_value.end());
  std::sort(by_bytes.begin(), by_bytes.end(), [](const Decimal& a, const Decimal& b) {
    return a.encode_ordered() < b.encode_ordered();
  });
  EXPECT_EQ(by_value, by_bytes);
}

TEST(DecimalOrdered, DecodeRejectsGarbage) {
  Decimal d;
  for (const std::string& bad : {
           std::string(),
           std::string("\x00", 1),
           std::string("\x04", 1),
           std::string("\x02\x00", 2),  // Zero with trailing bytes.
           std::string("\x03", 1),      // No exponent.
           std::string("\x03\x80", 2),  // No digits.
           std::string("\x03\x80\x00", 3),  // Pair byte out of range.
           std::string("\x03\x80\x65", 3),  // 101: out of range.
           std::string("\x03\x80\x01", 3),  // "0": leading zero.
           std::string("\x03\x80\x06", 3),  // "05": leading zero.
           std::string("\x03\x80\x0b\x01", 4),  // "10" "0": trailing zero.
           std::string("\x01\x7c\xf2\xcc", 4),  // Negative without terminator.
           std::string("\x01\x7c\xff", 3),      // Negative without digits.
           std::string("\x01\x7c\xf2\xcc\xff\xff", 6),
           std::string("\x03\x80") + std::string(20, '\x0c'),  // 40 digits.
       }) {
    EXPECT_FALSE(Decimal::decode_ordered(bad, &d)) << testing::PrintToString(bad);
  }
}

TEST(DecimalOrdered, RandomBytesDecodeOnlyToCanonicalEncodings) {
  std::mt19937_64 rng(99);
  int decoded = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string bytes(rng() % 8, '\0');
    for (char& c : bytes) {
      // Bias toward plausible bytes so some inputs decode.
      c = static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 1 + rng() % 100);
    }
    if (!bytes.empty()) bytes[0] = static_cast<char>(1 + rng() % 3);
    Decimal d;
    if (Decimal::decode_ordered(bytes, &d)) {
      ++decoded;
      EXPECT_EQ(d.encode_ordered(), bytes);
      EXPECT_LE(d.digits().size(), 38u);
    }
  }
  EXPECT_GT(decoded, 0);
}

}  // namespace
}  // namespace shoal::item
