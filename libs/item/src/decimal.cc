#include "shoal/item/decimal.h"

#include <array>
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

// Digits by place value for Decimal::add, least significant first: two operands whose last
// digits are at most kMaxDigits places apart span at most 2 * kMaxDigits places, plus a carry.
constexpr size_t kMaxPlaces = 2 * kMaxDigits + 1;
using Places = std::array<int, kMaxPlaces>;

// Writes a nonzero magnitude (0.digits * 10^exponent) to `places`, where places[i] is the digit
// of 10^(low + i); `low` must be at or below the place of the last digit, 10^(exponent - n).
void place_digits(const std::string& digits, int64_t exponent, int64_t low, Places* places) {
  const size_t n = digits.size();
  const size_t last = static_cast<size_t>(exponent - static_cast<int64_t>(n) - low);
  for (size_t i = 0; i < n; ++i) (*places)[last + i] = digits[n - 1 - i] - '0';
}

// -1, 0, 1 as |a| <, ==, > |b|.
int compare_places(const Places& a, const Places& b) {
  for (size_t i = kMaxPlaces; i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

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
// 38 + 38 place values plus one for the carry.
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

  const int64_t low = qa < qb ? qa : qb;
  const int64_t high = a_exp > b_exp ? a_exp : b_exp;  // Places low .. high - 1 are used.
  const size_t width = static_cast<size_t>(high - low) + 1;  // + 1: room for a carry.
  Places pa{};
  Places pb{};
  place_digits(a.digits_, a_exp, low, &pa);
  place_digits(b.digits_, b_exp, low, &pb);

  Places sum{};
  bool negative = a.negative_;
  if (a.negative_ == b.negative_) {
    int carry = 0;
    for (size_t i = 0; i < width; ++i) {
      const int v = pa[i] + pb[i] + carry;
      sum[i] = v % 10;
      carry = v / 10;
    }
    // carry is 0: the top place is empty in both operands.
  } else {
    const int c = compare_places(pa, pb);
    if (c == 0) {
      *out = Decimal();  // x + (-x) is zero, never negative zero.
      return DecimalError::kNone;
    }
    const Places& big = c > 0 ? pa : pb;
    const Places& small = c > 0 ? pb : pa;
    negative = c > 0 ? a.negative_ : b.negative_;
    int borrow = 0;
    for (size_t i = 0; i < width; ++i) {
      int v = big[i] - small[i] - borrow;
      borrow = v < 0 ? 1 : 0;
      sum[i] = v + 10 * borrow;
    }
  }

  // Normalize: trim zeros at both ends. The sum is nonzero here.
  size_t top = width;
  while (top > 0 && sum[top - 1] == 0) --top;
  size_t bottom = 0;
  while (sum[bottom] == 0) ++bottom;
  const int64_t exponent = low + static_cast<int64_t>(top);
  if (exponent > kMaxExponent) return DecimalError::kOverflow;
  if (exponent < kMinExponent) return DecimalError::kUnderflow;
  if (top - bottom > kMaxDigits) return DecimalError::kTooPrecise;

  Decimal d;
  d.negative_ = negative;
  d.digits_.reserve(top - bottom);
  for (size_t i = top; i-- > bottom;) d.digits_.push_back(static_cast<char>('0' + sum[i]));
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
