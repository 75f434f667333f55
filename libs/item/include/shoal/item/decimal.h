#pragma once
// Decimal: a DynamoDB number, exact. Never converted to or from floating point.
//
// A value is sign * 0.d1d2...dn * 10^exponent with 1 <= n <= 38, d1 != 0 and dn != 0 (the
// normalized form: leading and trailing zeros trimmed), or zero. DynamoDB's range is
// 1E-130 <= |x| < 1E+126 with at most 38 significant digits.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace shoal::item {

enum class DecimalError {
  kNone = 0,
  kNotNumeric,     // not a number literal at all ("abc", "", "1e", "--1", "NaN", "Infinity")
  kTooPrecise,     // more than 38 significant digits
  kOverflow,       // |x| >= 1E+126
  kUnderflow,      // 0 < |x| < 1E-130
};

class Decimal {
 public:
  Decimal() = default;  // zero

  // Parses a DynamoDB number literal: optional sign, digits with an optional '.', optional
  // exponent (e/E, optional sign, digits). Leading/trailing whitespace is not accepted.
  static DecimalError parse(std::string_view text, Decimal* out);

  bool is_zero() const { return digits_.empty(); }
  bool negative() const { return negative_; }
  // Significant digits without leading/trailing zeros ("" for zero).
  const std::string& digits() const { return digits_; }
  // Value = 0.digits * 10^exponent.
  int32_t exponent() const { return exponent_; }

  // Canonical text as DynamoDB returns it: plain notation, no exponent, no trailing zeros
  // after the point ("100", "-0.0015", "0"). Two equal numbers give the same text.
  std::string to_string() const;

  // Order-preserving binary encoding: memcmp order of the encodings equals numeric order.
  // Self-delimiting is not required (it is used as the last key component).
  std::string encode_ordered() const;
  static bool decode_ordered(std::string_view in, Decimal* out);

  // Exact arithmetic as DynamoDB does it (ADD, SET a = b + c): the result must fit in 38
  // significant digits (kTooPrecise if it would need rounding) and in the range
  // (kOverflow / kUnderflow). `out` is written only on kNone.
  static DecimalError add(const Decimal& a, const Decimal& b, Decimal* out);
  static DecimalError subtract(const Decimal& a, const Decimal& b, Decimal* out);

  friend std::strong_ordering operator<=>(const Decimal& a, const Decimal& b);
  friend bool operator==(const Decimal& a, const Decimal& b) = default;

 private:
  bool negative_ = false;
  std::string digits_;
  int32_t exponent_ = 0;
};

}  // namespace shoal::item
