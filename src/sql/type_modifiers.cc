#include "sql/type_modifiers.h"

#include "types/time_util.h"
#include "types/utf8.h"

namespace sluice {
namespace {

using V = const std::vector<Value>&;

std::vector<ExprPtr> One(ExprPtr e) {
  std::vector<ExprPtr> args;
  args.push_back(std::move(e));
  return args;
}

std::string Typed(const std::string& name, const std::vector<int64_t>& mods) {
  std::string out = name + "(";
  for (size_t i = 0; i < mods.size(); ++i) out += (i ? "," : "") + std::to_string(mods[i]);
  return out + ")";
}

__int128 PowerOfTen(int n) {
  __int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

// numeric(p, s): rounded half away from zero to s decimals (s < 0: to 10^-s), then an error
// unless its absolute value is below 10^(p - s) (PostgreSQL's apply_typmod).
Result<ExprPtr> Numeric(ExprPtr cast, const std::vector<int64_t>& mods) {
  if (mods.size() > 2) return InvalidArgument("invalid NUMERIC type modifier");
  const int64_t precision = mods[0];
  const int64_t scale = mods.size() == 2 ? mods[1] : 0;
  if (precision < 1 || precision > 1000) {
    return InvalidArgument("NUMERIC precision " + std::to_string(precision) +
                           " must be between 1 and 1000");
  }
  if (scale < -1000 || scale > 1000) {
    return InvalidArgument("NUMERIC scale " + std::to_string(scale) +
                           " must be between -1000 and 1000");
  }
  if (scale > Decimal::kMaxDigits || precision - scale > Decimal::kMaxDigits + 1000) {
    return Unimplemented("numeric scale above " + std::to_string(Decimal::kMaxDigits) +
                         " (Sluice's decimals hold 38 digits)");
  }
  const std::string overflow = "numeric field overflow: a field with precision " +
                               std::to_string(precision) + ", scale " + std::to_string(scale) +
                               " must round to an absolute value less than 10^" +
                               std::to_string(precision - scale);
  const int whole_digits = int(precision - scale);  // the value must be below 10^whole_digits
  auto fn = [scale, whole_digits, overflow](V v) -> Result<Value> {
    const Decimal& d = v[0].as_decimal();
    Decimal rounded = d;
    if (scale >= 0) {
      auto r = d.Rescaled(int(scale));
      if (!r.ok()) return OutOfRange(overflow);
      rounded = *r;
    } else {
      // Rounded at 10^-scale: beyond 38 digits every Sluice decimal rounds to 0.
      const int drop = d.scale() - int(scale);
      __int128 q = 0;
      if (drop <= Decimal::kMaxDigits) {
        const __int128 divisor = PowerOfTen(drop);
        const __int128 c = d.coefficient();
        q = c / divisor;
        const __int128 rest = c % divisor;
        if ((rest < 0 ? -rest : rest) * 2 >= divisor) q += c < 0 ? -1 : 1;
      }
      if (q != 0 && -scale + DecimalDigits(q < 0 ? -q : q) > Decimal::kMaxDigits) {
        return OutOfRange(overflow);
      }
      rounded = Decimal(q * PowerOfTen(int(-scale)), 0);
    }
    // |rounded| < 10^whole_digits, i.e. its digits left of the point number at most that.
    const __int128 c = rounded.coefficient();
    const int digits = c == 0 ? 0 : DecimalDigits(c < 0 ? -c : c) - rounded.scale();
    if (digits > whole_digits) return OutOfRange(overflow);
    return Value(rounded);
  };
  return MakeStrictCall(Typed("numeric", mods), FieldType::kDecimal, One(std::move(cast)),
                        std::move(fn));
}

// varchar(n): an explicit cast cuts the string to n characters.
Result<ExprPtr> Varchar(ExprPtr cast, const std::vector<int64_t>& mods) {
  if (mods.size() != 1) return InvalidArgument("invalid type modifier for type varchar");
  const int64_t length = mods[0];
  if (length < 1) return InvalidArgument("length for type varchar must be at least 1");
  if (length > 10485760) {
    return InvalidArgument("length for type varchar cannot exceed 10485760");
  }
  auto fn = [length](V v) -> Result<Value> {
    const std::string& s = v[0].as_string();
    size_t at = 0;
    for (int64_t n = 0; n < length && at < s.size(); ++n) {
      const size_t step = Utf8SequenceLength(std::string_view(s).substr(at));
      at += step == 0 ? 1 : step;
    }
    if (at >= s.size()) return v[0];
    return Value(s.substr(0, at));
  };
  return MakeStrictCall(Typed("varchar", mods), FieldType::kString, One(std::move(cast)),
                        std::move(fn));
}

// timestamp(p): fractional seconds rounded to p digits, halves away from zero.
Result<ExprPtr> Timestamp(ExprPtr cast, const std::string& pg_type,
                          const std::vector<int64_t>& mods) {
  if (mods.size() != 1) return InvalidArgument("invalid type modifier for type " + pg_type);
  if (mods[0] < 0) {
    return InvalidArgument("TIMESTAMP(" + std::to_string(mods[0]) +
                           ") precision must not be negative");
  }
  if (mods[0] >= 6) return cast;  // microseconds already
  const int64_t unit = int64_t(PowerOfTen(6 - int(mods[0])));
  auto fn = [unit](V v) -> Result<Value> {
    const int64_t t = v[0].as_int();
    const int64_t half = unit / 2;
    const int64_t rounded = t >= 0 ? (t + half) / unit * unit : -((-t + half) / unit * unit);
    return Value(rounded);
  };
  return MakeStrictCall(Typed(pg_type, mods), FieldType::kTimestamp, One(std::move(cast)),
                        std::move(fn));
}

}  // namespace

Result<ExprPtr> ApplyTypeModifiers(ExprPtr cast, const std::string& pg_type,
                                   const std::vector<int64_t>& mods) {
  if (mods.empty()) return cast;
  if (pg_type == "numeric" || pg_type == "decimal") return Numeric(std::move(cast), mods);
  if (pg_type == "varchar") return Varchar(std::move(cast), mods);
  if (pg_type == "timestamp" || pg_type == "timestamptz") {
    return Timestamp(std::move(cast), pg_type, mods);
  }
  if (pg_type == "bpchar") {
    return Unimplemented("type character(n) (blank-padded; use varchar(n) or text)");
  }
  if (pg_type == "interval") return Unimplemented("interval fields or precision");
  return InvalidArgument("type modifier is not allowed for type " + pg_type);
}

}  // namespace sluice
