// Decimal: an exact decimal number of up to 38 significant digits, kept as a 128-bit
// coefficient and a scale (value = coefficient / 10^scale). Used for money and for
// PostgreSQL numeric values that fit; parsing rejects what does not fit instead of rounding.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

class Decimal {
 public:
  static constexpr int kMaxDigits = 38;

  Decimal() = default;
  Decimal(__int128 coefficient, int scale)
      : low_(uint64_t(coefficient)),
        high_(uint64_t(static_cast<unsigned __int128>(coefficient) >> 64)),
        scale_(scale) {}

  // Accepts [+-]digits[.digits][e[+-]digits]. Errors name the text and why it was refused.
  static Result<Decimal> Parse(std::string_view text);

  __int128 coefficient() const {
    return static_cast<__int128>((static_cast<unsigned __int128>(high_) << 64) | low_);
  }
  int scale() const { return scale_; }

  // Exact text, keeping the scale: "12.50", "-0.001", "100".
  std::string ToString() const;
  // Appends that text to `out` (the JSON writers' hot path: no temporary string).
  void AppendTo(std::string* out) const;
  double ToDouble() const;
  // Same value with trailing fractional zeros removed (1.50 -> 1.5): the canonical form that
  // equality, ordering and key encoding use.
  Decimal Normalized() const;

  // Exact arithmetic; a result beyond 38 digits is an OutOfRange error (PostgreSQL's numeric
  // has no such limit: this is where Sluice differs).
  static Result<Decimal> Add(const Decimal& a, const Decimal& b);
  static Result<Decimal> Subtract(const Decimal& a, const Decimal& b);
  static Result<Decimal> Multiply(const Decimal& a, const Decimal& b);
  // a / b rounded half away from zero to `scale` digits; b == 0 is an error.
  static Result<Decimal> Divide(const Decimal& a, const Decimal& b, int scale);
  // The result scale PostgreSQL's numeric division picks (select_div_scale in numeric.c):
  // at least 16 significant digits, and no fewer decimals than either input.
  static int PostgresDivisionScale(const Decimal& a, const Decimal& b);
  // This value rounded half away from zero (or padded) to `scale` decimals.
  Result<Decimal> Rescaled(int scale) const;
  Decimal Negated() const { return Decimal(-coefficient(), scale_); }

  friend bool operator==(const Decimal& a, const Decimal& b) { return Compare(a, b) == 0; }
  friend std::strong_ordering operator<=>(const Decimal& a, const Decimal& b) {
    return Compare(a, b) <=> 0;
  }

 private:
  static int Compare(const Decimal& a, const Decimal& b);

  // The coefficient in two halves: 8-byte alignment keeps Value (a variant holding a Decimal)
  // at 40 bytes instead of the 48 an __int128 member's 16-byte alignment would cost.
  uint64_t low_ = 0;
  uint64_t high_ = 0;
  int scale_ = 0;
};

// Number of decimal digits in |v| (0 has one digit).
int DecimalDigits(unsigned __int128 v);

}  // namespace sluice
