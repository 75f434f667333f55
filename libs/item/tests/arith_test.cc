// Decimal::add / Decimal::subtract, checked against hand-worked cases and against an
// independent exact reference built on Boost.Multiprecision's cpp_int.

#include "shoal/item/decimal.h"

#include <gtest/gtest.h>

#include <boost/multiprecision/cpp_int.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace shoal::item {
namespace {

using boost::multiprecision::cpp_int;

Decimal D(std::string_view text) {
  Decimal d;
  EXPECT_EQ(Decimal::parse(text, &d), DecimalError::kNone) << text;
  return d;
}

Decimal negate(const Decimal& d) {
  std::string s = d.to_string();
  if (s[0] == '-') {
    s.erase(0, 1);
  } else if (s != "0") {
    s.insert(0, 1, '-');
  }
  return D(s);
}

struct Outcome {
  DecimalError error = DecimalError::kNone;
  Decimal value;  // Only meaningful for kNone.
};

Outcome add(std::string_view a, std::string_view b) {
  Outcome o;
  o.error = Decimal::add(D(a), D(b), &o.value);
  return o;
}

Outcome sub(std::string_view a, std::string_view b) {
  Outcome o;
  o.error = Decimal::subtract(D(a), D(b), &o.value);
  return o;
}

// Asserts success and returns the canonical text.
std::string ok(const Outcome& o) {
  EXPECT_EQ(o.error, DecimalError::kNone);
  return o.error == DecimalError::kNone ? o.value.to_string() : "<error>";
}

const char* const k38Nines = "99999999999999999999999999999999999999";
const char* const kMaxValue = "9.9999999999999999999999999999999999999E+125";

TEST(DecimalArith, Basics) {
  EXPECT_EQ(ok(add("1", "1")), "2");
  EXPECT_EQ(ok(add("0.1", "0.2")), "0.3");
  EXPECT_EQ(add("0.1", "0.2").value, D("0.3"));
  EXPECT_EQ(ok(add("2.5", "2.5")), "5");
  EXPECT_EQ(add("2.5", "2.5").value.digits(), "5");  // Trailing zero trimmed.
  EXPECT_EQ(ok(add("-1.5", "-2.25")), "-3.75");
  EXPECT_EQ(ok(add("1e10", "1")), "10000000001");
  EXPECT_EQ(ok(add("123.456", "-0.456")), "123");
  EXPECT_EQ(ok(add("0.001", "1000")), "1000.001");
  // From DynamoDB's own precision test: 1 + 1E22 keeps every digit.
  EXPECT_EQ(ok(add("1", "10000000000000000000000")), "10000000000000000000001");
  EXPECT_EQ(ok(sub("10000000000000000000000", "1")), "9999999999999999999999");
}

TEST(DecimalArith, ZeroIsNeverNegative) {
  for (const auto& o : {add("-5", "5"), add("5", "-5"), sub("5", "5"), sub("-5", "-5"),
                        sub("0", "0"), add("0", "0"), add("-0", "-0"), sub("-0", "0"),
                        add("1e-130", "-1e-130"), add(kMaxValue, std::string("-") + kMaxValue)}) {
    ASSERT_EQ(o.error, DecimalError::kNone);
    EXPECT_TRUE(o.value.is_zero());
    EXPECT_FALSE(o.value.negative());
    EXPECT_EQ(o.value, Decimal());
  }
}

TEST(DecimalArith, ZeroOperands) {
  EXPECT_EQ(ok(add("0", "-7.5")), "-7.5");
  EXPECT_EQ(ok(add("7.5", "0")), "7.5");
  EXPECT_EQ(ok(sub("7.5", "0")), "7.5");
  EXPECT_EQ(ok(sub("0", "7.5")), "-7.5");
  EXPECT_EQ(ok(sub("0", "-7.5")), "7.5");
  // Extremes pass through untouched.
  EXPECT_EQ(add("0", kMaxValue).value, D(kMaxValue));
  EXPECT_EQ(sub("0", "1e-130").value, D("-1e-130"));
}

TEST(DecimalArith, SubtractSigns) {
  EXPECT_EQ(ok(sub("5", "3")), "2");
  EXPECT_EQ(ok(sub("3", "5")), "-2");
  EXPECT_EQ(ok(sub("-3", "5")), "-8");
  EXPECT_EQ(ok(sub("-3", "-5")), "2");
  EXPECT_EQ(ok(sub("3", "-5")), "8");
  EXPECT_EQ(ok(sub("-5", "-3")), "-2");
  EXPECT_EQ(ok(sub("0.3", "0.1")), "0.2");
  EXPECT_EQ(ok(sub("1", "0.0001")), "0.9999");
  EXPECT_EQ(ok(sub("1000", "0.001")), "999.999");
}

TEST(DecimalArith, CarriesAndBorrows) {
  // 38 nines + 1 = 1E+38: one significant digit.
  Outcome o = add(k38Nines, "1");
  EXPECT_EQ(ok(o), "1" + std::string(38, '0'));
  EXPECT_EQ(o.value.digits(), "1");
  EXPECT_EQ(o.value.exponent(), 39);
  EXPECT_EQ(ok(add(std::string("0.") + k38Nines, "1e-38")), "1");
  EXPECT_EQ(ok(add(std::string("-") + k38Nines, "-1")), "-1" + std::string(38, '0'));
  // And back: 1E+38 - 1 is 38 nines, still exact.
  EXPECT_EQ(ok(sub("1e38", "1")), k38Nines);
  // A carry can shorten the result: 38 digits + 0.2 -> 37 digits.
  EXPECT_EQ(ok(add("1234567890123456789012345678901234567.8", "0.2")),
            "1234567890123456789012345678901234568");
  // Cancellation of leading digits.
  EXPECT_EQ(ok(sub("1234567890123456789012345678901234567.8",
                   "1234567890123456789012345678901234567")),
            "0.8");
}

TEST(DecimalArith, InexactResultsAreRejected) {
  // 38 digits + something that needs a 39th digit.
  EXPECT_EQ(add("12345678901234567890123456789012345678", "0.1").error,
            DecimalError::kTooPrecise);
  EXPECT_EQ(add(k38Nines, "0.5").error, DecimalError::kTooPrecise);
  EXPECT_EQ(sub("1e38", "0.1").error, DecimalError::kTooPrecise);  // 39 nines.
  EXPECT_EQ(add("1e38", "1").error, DecimalError::kTooPrecise);
  // DynamoDB rejects these rather than rounding (its error text calls it an overflow).
  EXPECT_EQ(add("1e50", "1").error, DecimalError::kTooPrecise);
  EXPECT_EQ(sub("1e50", "1").error, DecimalError::kTooPrecise);
  // Wildly different exponents: the exact sums would need ~255 digits.
  EXPECT_EQ(add("1e125", "1e-129").error, DecimalError::kTooPrecise);
  EXPECT_EQ(add("1e125", "-1e-130").error, DecimalError::kTooPrecise);
  EXPECT_EQ(sub("-1e-130", kMaxValue).error, DecimalError::kTooPrecise);
  EXPECT_EQ(add(kMaxValue, "1e-130").error, DecimalError::kTooPrecise);
}

TEST(DecimalArith, ExponentSpreadBoundary) {
  // The last digits of the operands are 37, 38 and 39 places apart.
  EXPECT_EQ(ok(add("1e37", "1")), "1" + std::string(36, '0') + "1");
  EXPECT_EQ(ok(sub("1e38", "1")), k38Nines);  // 38 apart, but the borrow keeps 38 digits.
  EXPECT_EQ(add("1e38", "1").error, DecimalError::kTooPrecise);
  EXPECT_EQ(add("1e39", "1").error, DecimalError::kTooPrecise);
  EXPECT_EQ(sub("1e39", "1").error, DecimalError::kTooPrecise);
  EXPECT_EQ(add("-1e39", "1").error, DecimalError::kTooPrecise);
  // 38 apart at the bottom of the range.
  EXPECT_EQ(ok(sub("1e-92", "1e-130")), "0." + std::string(92, '0') + std::string(38, '9'));
}

TEST(DecimalArith, Overflow) {
  EXPECT_EQ(add(kMaxValue, kMaxValue).error, DecimalError::kOverflow);
  EXPECT_EQ(add("9e125", "9e125").error, DecimalError::kOverflow);
  EXPECT_EQ(sub("9e125", "-9e125").error, DecimalError::kOverflow);
  EXPECT_EQ(sub("-9e125", "9e125").error, DecimalError::kOverflow);
  // Exactly 1E+126 is already out of range; one unit in the last place less is not.
  EXPECT_EQ(add(kMaxValue, "1e88").error, DecimalError::kOverflow);
  const std::string max_value = std::string(38, '9') + std::string(88, '0');
  EXPECT_EQ(ok(add(std::string(37, '9') + std::string(89, '0'), "9e88")), max_value);
  EXPECT_EQ(D(max_value), D(kMaxValue));
  EXPECT_EQ(ok(add("5e125", "4.9e125")), "99" + std::string(124, '0'));
  EXPECT_EQ(ok(sub(kMaxValue, kMaxValue)), "0");
}

TEST(DecimalArith, Underflow) {
  // Nearly equal tiny numbers.
  EXPECT_EQ(sub("1.1e-130", "1e-130").error, DecimalError::kUnderflow);
  EXPECT_EQ(add("-1.1e-130", "1e-130").error, DecimalError::kUnderflow);
  EXPECT_EQ(sub("1e-129", "9.9e-130").error, DecimalError::kUnderflow);
  // 38 digits whose last one sits below 1E-130, minus its leading digit.
  EXPECT_EQ(sub("1.0000000000000000000000000000000000001e-94", "1e-94").error,
            DecimalError::kUnderflow);
  EXPECT_EQ(sub("1.0000000000000000000000000000000000001e-94",
                "1.0000000000000000000000000000000000002e-94")
                .error,
            DecimalError::kUnderflow);
  // Landing exactly on the smallest magnitude is fine.
  EXPECT_EQ(sub("2e-130", "1e-130").value, D("1e-130"));
  EXPECT_EQ(sub("1.1e-129", "1e-129").value, D("1e-130"));
}

TEST(DecimalArith, OutputWrittenOnlyOnSuccess) {
  const Decimal sentinel = D("42");
  Decimal out = sentinel;
  EXPECT_EQ(Decimal::add(D(kMaxValue), D(kMaxValue), &out), DecimalError::kOverflow);
  EXPECT_EQ(Decimal::subtract(D("1.1e-130"), D("1e-130"), &out), DecimalError::kUnderflow);
  EXPECT_EQ(Decimal::add(D("1e50"), D("1"), &out), DecimalError::kTooPrecise);
  EXPECT_EQ(Decimal::add(D("1e125"), D("1e-129"), &out), DecimalError::kTooPrecise);
  EXPECT_EQ(out, sentinel);
}

TEST(DecimalArith, OutputMayAliasAnOperand) {
  Decimal a = D("1.5");
  ASSERT_EQ(Decimal::add(a, a, &a), DecimalError::kNone);
  EXPECT_EQ(a, D("3"));
  Decimal b = D("10");
  ASSERT_EQ(Decimal::subtract(D("4"), b, &b), DecimalError::kNone);
  EXPECT_EQ(b, D("-6"));
  ASSERT_EQ(Decimal::subtract(b, b, &b), DecimalError::kNone);
  EXPECT_EQ(b, Decimal());
}

// ---- Independent reference ----

// value = coefficient * 10^scale, exactly.
struct Exact {
  cpp_int coefficient;
  int64_t scale = 0;
};

cpp_int power_of_ten(int64_t k) {
  cpp_int p = 1;
  for (int64_t i = 0; i < k; ++i) p *= 10;
  return p;
}

Exact exact(const Decimal& d) {
  Exact e;
  if (d.is_zero()) return e;
  e.coefficient = cpp_int(d.digits());
  if (d.negative()) e.coefficient = -e.coefficient;
  e.scale = d.exponent() - static_cast<int64_t>(d.digits().size());
  return e;
}

// The exact sum, classified by DynamoDB's rules (range first, then precision).
Outcome reference_add(const Decimal& a, const Decimal& b) {
  const Exact x = exact(a);
  const Exact y = exact(b);
  const int64_t scale = std::min(x.scale, y.scale);
  cpp_int sum = x.coefficient * power_of_ten(x.scale - scale) +
                y.coefficient * power_of_ten(y.scale - scale);
  Outcome o;
  if (sum == 0) return o;
  int64_t last = scale;  // Place value of the last digit.
  while (sum % 10 == 0) {
    sum /= 10;
    ++last;
  }
  const bool negative = sum < 0;
  const std::string digits = (negative ? cpp_int(-sum) : sum).str();
  const int64_t exponent = last + static_cast<int64_t>(digits.size());  // 0.digits * 10^exp.
  if (exponent > 126) {
    o.error = DecimalError::kOverflow;
  } else if (exponent < -129) {
    o.error = DecimalError::kUnderflow;
  } else if (digits.size() > 38) {
    o.error = DecimalError::kTooPrecise;
  } else {
    o.value = D((negative ? "-" : "") + digits + "E" + std::to_string(last));
  }
  return o;
}

// A valid Decimal 0.d1..dn * 10^exponent with a digit pattern that provokes carries.
Decimal random_decimal(std::mt19937_64& rng, int64_t exponent) {
  const size_t n = 1 + rng() % 38;
  std::string digits(n, '0');
  const int pattern = static_cast<int>(rng() % 4);
  for (size_t i = 0; i < n; ++i) {
    switch (pattern) {
      case 0: digits[i] = '9'; break;
      case 1: digits[i] = static_cast<char>('0' + (rng() % 3 == 0 ? rng() % 10 : 0)); break;
      default: digits[i] = static_cast<char>('0' + rng() % 10); break;
    }
  }
  digits.front() = static_cast<char>('1' + rng() % 9);
  digits.back() = static_cast<char>('1' + rng() % 9);
  const bool negative = rng() % 2 == 0;
  return D(std::string(negative ? "-" : "") + "0." + digits + "E" + std::to_string(exponent));
}

// The opposite of `a` with its last digit changed or more digits appended: the sum cancels
// almost completely (underflow near the bottom of the range, tiny results elsewhere).
Decimal near_negation(std::mt19937_64& rng, const Decimal& a) {
  std::string digits = a.digits();
  if (digits.size() < 38 && rng() % 2 == 0) {
    const size_t extra = 1 + rng() % (38 - digits.size());
    for (size_t i = 0; i < extra; ++i) digits.push_back(static_cast<char>('0' + rng() % 10));
  }
  digits.back() = static_cast<char>('1' + rng() % 9);
  return D(std::string(a.negative() ? "" : "-") + "0." + digits + "E" +
           std::to_string(a.exponent()));
}

int64_t random_exponent(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: return 126 - static_cast<int64_t>(rng() % 4);   // Near overflow.
    case 1: return -129 + static_cast<int64_t>(rng() % 4);  // Near underflow.
    default: return -129 + static_cast<int64_t>(rng() % 256);
  }
}

void expect_same(const Outcome& got, const Outcome& want, const std::string& what) {
  EXPECT_EQ(got.error, want.error) << what;
  if (got.error == DecimalError::kNone && want.error == DecimalError::kNone) {
    EXPECT_EQ(got.value, want.value) << what << " = " << got.value.to_string() << " want "
                                     << want.value.to_string();
  }
}

TEST(DecimalArith, MatchesExactReferenceOnRandomInputs) {
  std::mt19937_64 rng(20240607);
  int counts[5] = {};
  for (int i = 0; i < 100000; ++i) {
    const int64_t ea = random_exponent(rng);
    int64_t eb = ea;
    if (rng() % 4 != 0) {
      eb += static_cast<int64_t>(rng() % 91) - 45;  // Mostly close: the interesting cases.
      eb = std::clamp<int64_t>(eb, -129, 126);
    } else {
      eb = random_exponent(rng);
    }
    Decimal a = random_decimal(rng, ea);
    Decimal b;
    switch (rng() % 8) {
      case 0: b = negate(a); break;
      case 1: b = near_negation(rng, a); break;
      default: b = random_decimal(rng, eb); break;
    }
    if (rng() % 50 == 0) a = Decimal();  // After b: near_negation needs a nonzero a.
    const std::string what = a.to_string() + " ? " + b.to_string();

    const Outcome want_sum = reference_add(a, b);
    const Outcome want_diff = reference_add(a, negate(b));
    ++counts[static_cast<int>(want_sum.error)];

    Outcome ab, ba, a_minus_b, b_minus_a;
    ab.error = Decimal::add(a, b, &ab.value);
    ba.error = Decimal::add(b, a, &ba.value);
    a_minus_b.error = Decimal::subtract(a, b, &a_minus_b.value);
    b_minus_a.error = Decimal::subtract(b, a, &b_minus_a.value);
    expect_same(ab, want_sum, "add " + what);
    expect_same(ba, want_sum, "add (commuted) " + what);
    expect_same(a_minus_b, want_diff, "subtract " + what);
    // b - a = -(a - b), with the same error.
    EXPECT_EQ(b_minus_a.error, want_diff.error) << "subtract (swapped) " << what;
    if (b_minus_a.error == DecimalError::kNone && want_diff.error == DecimalError::kNone) {
      EXPECT_EQ(b_minus_a.value, negate(want_diff.value)) << "subtract (swapped) " << what;
    }
    if (::testing::Test::HasFailure()) break;
  }
  // Every outcome was exercised.
  EXPECT_GT(counts[static_cast<int>(DecimalError::kNone)], 10000);
  EXPECT_GT(counts[static_cast<int>(DecimalError::kTooPrecise)], 1000);
  EXPECT_GT(counts[static_cast<int>(DecimalError::kOverflow)], 100);
  EXPECT_GT(counts[static_cast<int>(DecimalError::kUnderflow)], 100);
}

}  // namespace
}  // namespace shoal::item
