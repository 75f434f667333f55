#include "shoal/item/decimal.h"

#include <boost/multiprecision/cpp_int.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace shoal::item {
namespace {

constexpr size_t kMaxDigits = 38;
// Value = 0.d1...dn * 10^exponent, so 1E-130 = 0.1E-129 and 9.99..E+125 = 0.999..E+126.
constexpr int64_t kMinExponent = -129;
constexpr int64_t kMaxExponent = 126;
// Literal exponents are clamped to this magnitude while parsing: far beyond any valid
// value, far below int64 overflow even after adding the literal's digit count.
constexpr int64_t kExponentClamp = int64_t{1} << 40;

// encode_ordered sign bytes.
constexpr uint8_t kNegativeTag = 0x01;
constexpr uint8_t kZeroTag = 0x02;
constexpr uint8_t kPositiveTag = 0x03;
// Ends a negative number's (inverted) digits; greater than any inverted digit-pair byte
// (155..254), so a shorter magnitude sorts after a longer one with the same prefix.
constexpr uint8_t kNegativeTerminator = 0xFF;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

using boost::multiprecision::cpp_int;

}  // namespace

DecimalError Decimal::parse(std::string_view text, Decimal* out) {
  size_t i = 0;
  const size_t n = text.size();
  bool negative = false;
  if (i < n && (text[i] == '+' || text[i] == '-')) {
    negative = text[i] == '-';
    ++i;
  }
  // Significant mantissa digits (leading zeros dropped) and `point`, chosen so that the
  // mantissa's value is 0.<mantissa> * 10^point.
  std::string mantissa;
  int64_t point = 0;
  size_t digit_count = 0;
  bool seen_point = false;
  for (; i < n; ++i) {
    const char c = text[i];
    if (is_digit(c)) {
      ++digit_count;
      if (mantissa.empty() && c == '0') {
        if (seen_point) --point;  // 0.00d: each leading fraction zero shifts the point.
      } else {
        mantissa.push_back(c);
        if (!seen_point) ++point;
      }
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (digit_count == 0) return DecimalError::kNotNumeric;
  int64_t exp = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) {
      exp_negative = text[i] == '-';
      ++i;
    }
    size_t exp_start = i;
    for (; i < n && is_digit(text[i]); ++i) {
      if (exp < kExponentClamp) exp = exp * 10 + (text[i] - '0');
    }
    if (i == exp_start) return DecimalError::kNotNumeric;
    if (exp > kExponentClamp) exp = kExponentClamp;
    if (exp_negative) exp = -exp;
  }
  if (i != n) return DecimalError::kNotNumeric;

  size_t end = mantissa.size();
  while (end > 0 && mantissa[end - 1] == '0') --end;
  mantissa.resize(end);

  Decimal d;
  if (mantissa.empty()) {
    *out = d;  // Zero, whatever the sign or exponent.
    return DecimalError::kNone;
  }
  if (mantissa.size() > kMaxDigits) return DecimalError::kTooPrecise;
  // `point` is at most text.size() in magnitude, exp at most 2^40: no overflow.
  int64_t exponent = point + exp;
  if (exponent > kMaxExponent) return DecimalError::kOverflow;
  if (exponent < kMinExponent) return DecimalError::kUnderflow;
  d.negative_ = negative;
  d.digits_ = std::move(mantissa);
  d.exponent_ = static_cast<int32_t>(exponent);
  *out = std::move(d);
  return DecimalError::kNone;
}

std::string Decimal::to_string() const {
  if (is_zero()) return "0";
  std::string s;
  if (negative_) s.push_back('-');
  const int64_t n = static_cast<int64_t>(digits_.size());
  const int64_t e = exponent_;
  if (e <= 0) {
    s.append("0.");
    s.append(static_cast<size_t>(-e), '0');
    s.append(digits_);
  } else if (e < n) {
    s.append(digits_, 0, static_cast<size_t>(e));
    s.push_back('.');
    s.append(digits_, static_cast<size_t>(e), std::string::npos);
  } else {
    s.append(digits_);
    s.append(static_cast<size_t>(e - n), '0');
  }
  return s;
}

// Layout:
//   zero:     0x02
//   positive: 0x03 | exponent + 129 | digit pairs
//   negative: 0x01 | 255 - (exponent + 129) | inverted digit pairs | 0xFF
// A digit pair (d1, d2) is the byte 10*d1 + d2 + 1 (1..100, never 0 or 0xFF); an odd
// final digit is paired with 0. Negative bytes are 255 - b (155..254).
std::string Decimal::encode_ordered() const {
  std::string out;
  if (is_zero()) {
    out.push_back(static_cast<char>(kZeroTag));
    return out;
  }
  out.reserve(3 + (digits_.size() + 1) / 2);
  uint8_t biased = static_cast<uint8_t>(exponent_ - kMinExponent);
  out.push_back(static_cast<char>(negative_ ? kNegativeTag : kPositiveTag));
  out.push_back(static_cast<char>(negative_ ? 255 - biased : biased));
  for (size_t i = 0; i < digits_.size(); i += 2) {
    int hi = digits_[i] - '0';
    int lo = i + 1 < digits_.size() ? digits_[i + 1] - '0' : 0;
    uint8_t b = static_cast<uint8_t>(10 * hi + lo + 1);
    out.push_back(static_cast<char>(negative_ ? 255 - b : b));
  }
  if (negative_) out.push_back(static_cast<char>(kNegativeTerminator));
  return out;
}

bool Decimal::decode_ordered(std::string_view in, Decimal* out) {
  if (in.empty()) return false;
  const uint8_t tag = static_cast<uint8_t>(in[0]);
  if (tag == kZeroTag) {
    if (in.size() != 1) return false;
    *out = Decimal();
    return true;
  }
  if (tag != kNegativeTag && tag != kPositiveTag) return false;
  const bool negative = tag == kNegativeTag;
  if (in.size() < 3) return false;
  std::string_view pairs = in.substr(2);
  if (negative) {
    if (static_cast<uint8_t>(pairs.back()) != kNegativeTerminator) return false;
    pairs.remove_suffix(1);
    if (pairs.empty()) return false;
  }
  if (pairs.size() > (kMaxDigits + 1) / 2) return false;
  uint8_t biased = static_cast<uint8_t>(in[1]);
  if (negative) biased = static_cast<uint8_t>(255 - biased);
  const int64_t exponent = int64_t{biased} + kMinExponent;
  if (exponent > kMaxExponent) return false;  // biased 0..255 covers exactly the range.

  std::string digits;
  digits.reserve(pairs.size() * 2);
  for (size_t i = 0; i < pairs.size(); ++i) {
    uint8_t b = static_cast<uint8_t>(pairs[i]);
    if (negative) b = static_cast<uint8_t>(255 - b);
    if (b < 1 || b > 100) return false;
    int v = b - 1;
    digits.push_back(static_cast<char>('0' + v / 10));
    const bool last = i + 1 == pairs.size();
    if (last && v % 10 == 0) break;  // Padding of an odd digit count (or a bad trailing 0).
    digits.push_back(static_cast<char>('0' + v % 10));
  }
  // Normalized form: no leading or trailing zeros.
  if (digits.front() == '0' || digits.back() == '0') return false;
  if (digits.size() > kMaxDigits) return false;
  out->negative_ = negative;
  out->digits_ = std::move(digits);
  out->exponent_ = static_cast<int32_t>(exponent);
  return true;
}

// Exact addition of two valid Decimals.
//
// Write each nonzero operand as C * 10^q, where C is its digit string read as an integer and
// q = exponent - (digit count) is the place value of its last (nonzero) digit. If the two
// q differ by d >= 39, say qa >= qb + 39, the exact sum is always too precise and never out of
// range: its last nonzero digit is at 10^qb (the a term only has digits at 10^qa and above),
// while |b| < 10^(qb + 38) <= 10^(qa - 1) leaves |a + b| > 10^qa - 10^(qa - 1) >= 10^(qa - 1),
// so the sum spans at least d >= 39 digits. It also stays below |a| + 10^(qa - 1) < 1E+126 and,
// since qa >= qb + 39 >= -167 + 39, above 10^(qa - 1) >= 1E-129. So far-apart operands are
// rejected without building the (up to 293-digit) exact sum; otherwise both fit in at most
// 38 + 38 place values plus one for the carry, and cpp_int does the arithmetic.
//
// Range errors are reported before kTooPrecise: the exact sum is classified by magnitude first,
// then by its significant digit count.
DecimalError Decimal::add(const Decimal& a, const Decimal& b, Decimal* out) {
  if (a.is_zero() || b.is_zero()) {
    *out = a.is_zero() ? b : a;  // Both valid; zero is never negative.
    return DecimalError::kNone;
  }
  const int64_t a_exp = a.exponent_;
  const int64_t b_exp = b.exponent_;
  const int64_t qa = a_exp - static_cast<int64_t>(a.digits_.size());
  const int64_t qb = b_exp - static_cast<int64_t>(b.digits_.size());
  const int64_t spread = qa > qb ? qa - qb : qb - qa;
  if (spread > static_cast<int64_t>(kMaxDigits)) return DecimalError::kTooPrecise;

  // Both operands as integers counted in units of 10^low (at most 77 digits each), summed
  // exactly with Boost.Multiprecision.
  const int64_t low = qa < qb ? qa : qb;
  auto scaled = [low](const Decimal& x, int64_t q) {
    cpp_int v(x.digits_);
    v *= boost::multiprecision::pow(cpp_int(10), static_cast<unsigned>(q - low));
    return x.negative_ ? cpp_int(-v) : v;
  };
  const cpp_int sum = scaled(a, qa) + scaled(b, qb);
  if (sum.is_zero()) {
    *out = Decimal();  // x + (-x) is zero, never negative zero.
    return DecimalError::kNone;
  }
  const bool negative = sum < 0;
  std::string text = (negative ? cpp_int(-sum) : sum).str();

  // Normalize: trailing zeros move into the exponent.
  size_t significant = text.find_last_not_of('0') + 1;
  const int64_t exponent = low + static_cast<int64_t>(text.size());
  if (exponent > kMaxExponent) return DecimalError::kOverflow;
  if (exponent < kMinExponent) return DecimalError::kUnderflow;
  if (significant > kMaxDigits) return DecimalError::kTooPrecise;
  text.resize(significant);

  Decimal d;
  d.negative_ = negative;
  d.digits_ = std::move(text);
  d.exponent_ = static_cast<int32_t>(exponent);
  *out = std::move(d);
  return DecimalError::kNone;
}

DecimalError Decimal::subtract(const Decimal& a, const Decimal& b, Decimal* out) {
  Decimal negated = b;
  if (!negated.is_zero()) negated.negative_ = !negated.negative_;
  return add(a, negated, out);
}

std::strong_ordering operator<=>(const Decimal& a, const Decimal& b) {
  auto sign = [](const Decimal& d) { return d.is_zero() ? 0 : (d.negative_ ? -1 : 1); };
  const int sa = sign(a);
  const int sb = sign(b);
  if (sa != sb) return sa <=> sb;
  if (sa == 0) return std::strong_ordering::equal;
  // Same sign: compare magnitudes, then flip for negatives.
  std::strong_ordering mag = a.exponent_ <=> b.exponent_;
  if (mag == std::strong_ordering::equal) {
    // Normalized digit strings compare as fractions 0.d1d2...: lexicographic order, with a
    // proper prefix smaller (its missing digits are zeros, the longer one's are not all zero).
    int c = a.digits_.compare(b.digits_);
    mag = c <=> 0;
  }
  if (sa < 0) return 0 <=> mag;
  return mag;
}

}  // namespace shoal::item
