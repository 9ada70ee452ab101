#include "types/decimal.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace sluice {
namespace {

using u128 = unsigned __int128;

u128 Pow10(int n) {
  u128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

u128 Magnitude(__int128 v) { return v < 0 ? u128(0) - u128(v) : u128(v); }

}  // namespace

int DecimalDigits(u128 v) {
  int digits = 1;
  while (v >= 10) {
    v /= 10;
    ++digits;
  }
  return digits;
}

Result<Decimal> Decimal::Parse(std::string_view text) {
  auto fail = [&](std::string_view why) -> Status {
    return InvalidArgument("invalid decimal '" + std::string(text) + "': " + std::string(why));
  };
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  u128 coefficient = 0;
  int digits = 0;  // significant digits kept in coefficient
  int scale = 0;
  bool any_digit = false, seen_point = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      if (seen_point) return fail("two decimal points");
      seen_point = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    any_digit = true;
    if (coefficient != 0 || c != '0') ++digits;
    if (digits > kMaxDigits) return fail("more than 38 significant digits");
    coefficient = coefficient * 10 + u128(c - '0');
    if (seen_point) ++scale;
  }
  if (!any_digit) return fail("no digits");
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    if (i == text.size()) return fail("exponent without digits");
    int exponent = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      exponent = exponent * 10 + (text[i] - '0');
      if (exponent > 1000) return fail("exponent out of range");
    }
    if (exp_negative) {
      scale += exponent;
    } else if (exponent <= scale) {
      scale -= exponent;
    } else {
      int shift = exponent - scale;
      scale = 0;
      if (coefficient != 0 && DecimalDigits(coefficient) + shift > kMaxDigits) {
        return fail("more than 38 significant digits");
      }
      coefficient *= Pow10(coefficient == 0 ? 0 : shift);
    }
  }
  if (i != text.size()) return fail("unexpected character");
  if (scale > kMaxDigits) {
    // Drop trailing zeros that only inflate the scale (0.000...0001 with >38 places stays an
    // error).
    while (scale > kMaxDigits && coefficient % 10 == 0 && coefficient != 0) {
      coefficient /= 10;
      --scale;
    }
    if (coefficient == 0) scale = 0;
    if (scale > kMaxDigits) return fail("more than 38 digits after the decimal point");
  }
  __int128 signed_coefficient = __int128(coefficient);
  return Decimal(negative ? -signed_coefficient : signed_coefficient, scale);
}

std::string Decimal::ToString() const {
  std::string out;
  AppendTo(&out);
  return out;
}

void Decimal::AppendTo(std::string* out) const {
  // Digits are produced backwards into a buffer; most coefficients fit 64 bits, where division
  // is a machine instruction instead of a 128-bit library call.
  char digits[kMaxDigits + 2];
  char* end = digits + sizeof digits;
  char* p = end;
  u128 mag = Magnitude(coefficient());
  if (uint64_t(mag >> 64) == 0) {
    uint64_t m = uint64_t(mag);
    do {
      *--p = char('0' + m % 10);
      m /= 10;
    } while (m != 0);
  } else {
    do {
      *--p = char('0' + int(mag % 10));
      mag /= 10;
    } while (mag != 0);
  }
  const size_t digit_count = size_t(end - p);
  const size_t scale = size_t(std::max(scale_, 0));
  const size_t frac_digits = std::min(digit_count, scale);
  const size_t int_digits = digit_count - frac_digits;
  if (coefficient() < 0) out->push_back('-');
  if (int_digits > 0) {
    out->append(p, int_digits);
  } else {
    out->push_back('0');  // at least one digit before the point
  }
  if (scale > 0) {
    out->push_back('.');
    out->append(scale - frac_digits, '0');  // a scale beyond the digits is padded
    out->append(p + int_digits, frac_digits);
  }
}

double Decimal::ToDouble() const { return std::strtod(ToString().c_str(), nullptr); }

Decimal Decimal::Normalized() const {
  __int128 c = coefficient();
  int s = scale_;
  while (s > 0 && c % 10 == 0) {
    c /= 10;
    --s;
  }
  return Decimal(c, c == 0 ? 0 : s);
}

namespace {

constexpr unsigned __int128 kMaxCoefficient = [] {
  unsigned __int128 v = 1;
  for (int i = 0; i < Decimal::kMaxDigits; ++i) v *= 10;
  return v - 1;
}();

Status NumericOverflow() {
  return OutOfRange("numeric value out of range (Sluice keeps at most 38 significant digits)");
}

bool Fits(unsigned __int128 magnitude) { return magnitude <= kMaxCoefficient; }

// coefficient * 10^n with an overflow check.
std::optional<__int128> ScaleUp(__int128 c, int n) {
  unsigned __int128 mag = Magnitude(c);
  for (int i = 0; i < n; ++i) {
    if (mag > kMaxCoefficient / 10) return std::nullopt;
    mag *= 10;
  }
  __int128 r = __int128(mag);
  return c < 0 ? -r : r;
}

}  // namespace

Result<Decimal> Decimal::Rescaled(int scale) const {
  if (scale >= scale_) {
    auto c = ScaleUp(coefficient(), scale - scale_);
    if (!c) return NumericOverflow();
    return Decimal(*c, scale);
  }
  unsigned __int128 divisor = Pow10(scale_ - scale);
  unsigned __int128 mag = Magnitude(coefficient());
  unsigned __int128 q = mag / divisor, r = mag % divisor;
  if (r * 2 >= divisor) ++q;  // half away from zero
  __int128 c = __int128(q);
  return Decimal(coefficient() < 0 ? -c : c, scale);
}

Result<Decimal> Decimal::Add(const Decimal& a, const Decimal& b) {
  int scale = std::max(a.scale_, b.scale_);
  ASSIGN_OR_RETURN(Decimal x, a.Rescaled(scale));
  ASSIGN_OR_RETURN(Decimal y, b.Rescaled(scale));
  __int128 sum = x.coefficient() + y.coefficient();  // both < 10^38, no i128 overflow
  if (!Fits(Magnitude(sum))) return NumericOverflow();
  return Decimal(sum, scale);
}

Result<Decimal> Decimal::Subtract(const Decimal& a, const Decimal& b) {
  return Add(a, b.Negated());
}

Result<Decimal> Decimal::Multiply(const Decimal& a, const Decimal& b) {
  unsigned __int128 x = Magnitude(a.coefficient()), y = Magnitude(b.coefficient());
  if (x != 0 && y > kMaxCoefficient / x) return NumericOverflow();
  __int128 product = __int128(x * y);
  if ((a.coefficient() < 0) != (b.coefficient() < 0)) product = -product;
  int scale = a.scale_ + b.scale_;
  Decimal result(product, scale);
  if (scale > kMaxDigits) return result.Rescaled(kMaxDigits);
  return result;
}

Result<Decimal> Decimal::Divide(const Decimal& a, const Decimal& b, int scale) {
  if (b.coefficient() == 0) return InvalidArgument("division by zero");
  // a/b = (ca / 10^sa) / (cb / 10^sb); compute ca * 10^(scale + 1 + sb - sa) / cb, then round.
  int shift = scale + 1 + b.scale_ - a.scale_;
  unsigned __int128 num = Magnitude(a.coefficient()), den = Magnitude(b.coefficient());
  if (shift >= 0) {
    for (int i = 0; i < shift; ++i) {
      if (num > (~(unsigned __int128)0) / 10) return NumericOverflow();
      num *= 10;
    }
  } else {
    for (int i = 0; i < -shift; ++i) {
      if (den > (~(unsigned __int128)0) / 10) {
        num = 0;
        break;
      }
      den *= 10;
    }
  }
  unsigned __int128 q = num / den;  // one extra digit for rounding
  unsigned __int128 rounded = q / 10 + (q % 10 >= 5 ? 1 : 0);
  if (!Fits(rounded)) return NumericOverflow();
  __int128 c = __int128(rounded);
  if ((a.coefficient() < 0) != (b.coefficient() < 0)) c = -c;
  return Decimal(c, scale);
}

namespace {

// PostgreSQL stores numerics in base-10000 digits; its division scale depends on the weight
// (position) and value of each operand's first base-10000 digit.
void BaseTenThousandHead(const Decimal& d, int& weight, int& first_digit) {
  unsigned __int128 mag = Magnitude(d.coefficient());
  if (mag == 0) {
    weight = 0;
    first_digit = 0;
    return;
  }
  int digits = DecimalDigits(mag);
  int int_digits = digits - d.scale();  // may be <= 0 for values below 1
  // Position (power of ten) of the most significant decimal digit.
  int top = int_digits - 1;
  weight = top >= 0 ? top / 4 : -((-top + 3) / 4);
  // The base-10000 group `weight` spans powers 4*weight .. 4*weight+3.
  int lowest_power = 4 * weight;
  // value / 10^lowest_power truncated = first group's value.
  int drop = d.scale() + lowest_power;  // digits of the coefficient below that power
  unsigned __int128 head = mag;
  for (int i = 0; i < drop; ++i) head /= 10;
  for (int i = 0; i < -drop; ++i) head *= 10;
  first_digit = int(head % 10000);
}

}  // namespace

int Decimal::PostgresDivisionScale(const Decimal& a, const Decimal& b) {
  constexpr int kMinSigDigits = 16, kDecDigits = 4, kMaxDisplayScale = 1000;
  int weight1, first1, weight2, first2;
  BaseTenThousandHead(a, weight1, first1);
  BaseTenThousandHead(b, weight2, first2);
  int qweight = weight1 - weight2;
  if (first1 <= first2) --qweight;
  int rscale = kMinSigDigits - qweight * kDecDigits;
  rscale = std::max({rscale, a.scale(), b.scale(), 0});
  return std::min(rscale, kMaxDisplayScale);
}

int Decimal::Compare(const Decimal& a, const Decimal& b) {
  if ((a.coefficient() < 0) != (b.coefficient() < 0)) return a.coefficient() < 0 ? -1 : 1;
  Decimal x = a.Normalized(), y = b.Normalized();
  // Compare by integer digit count first (magnitudes may not fit when rescaled), then digits.
  u128 mx = Magnitude(x.coefficient()), my = Magnitude(y.coefficient());
  int int_digits_x = mx == 0 ? 0 : DecimalDigits(mx) - x.scale_;
  int int_digits_y = my == 0 ? 0 : DecimalDigits(my) - y.scale_;
  int sign = x.coefficient() < 0 ? -1 : 1;
  if (mx == 0 || my == 0) {
    if (mx == my) return 0;
    return mx == 0 ? -sign * (y.coefficient() < 0 ? -1 : 1) : sign;
  }
  if (int_digits_x != int_digits_y) return int_digits_x < int_digits_y ? -sign : sign;
  // Same magnitude order: align scales by padding the shorter fraction (both <= 38 digits).
  int scale = std::max(x.scale_, y.scale_);
  int pad_x = scale - x.scale_, pad_y = scale - y.scale_;
  // Total digits stay <= 38 + small pad; compare digit strings to avoid overflow.
  std::string sx = Decimal(__int128(mx), 0).ToString() + std::string(size_t(pad_x), '0');
  std::string sy = Decimal(__int128(my), 0).ToString() + std::string(size_t(pad_y), '0');
  int c = sx.size() != sy.size() ? (sx.size() < sy.size() ? -1 : 1) : sx.compare(sy);
  c = c < 0 ? -1 : (c > 0 ? 1 : 0);
  return sign * c;
}

}  // namespace sluice
