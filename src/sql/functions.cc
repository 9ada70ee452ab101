#include "sql/functions.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>

#include "types/json_text.h"
#include "types/time_util.h"
#include "types/value_text.h"

namespace sluice {
namespace {

// ---------- types ----------

bool IsText(FieldType t) { return t == FieldType::kString || t == FieldType::kText; }
bool IsNumeric(FieldType t) {
  return t == FieldType::kInt || t == FieldType::kUInt || t == FieldType::kDecimal ||
         t == FieldType::kFloat;
}
int NumericRank(FieldType t) {
  switch (t) {
    case FieldType::kInt:
      return 0;
    case FieldType::kUInt:
    case FieldType::kDecimal:
      return 1;
    case FieldType::kFloat:
      return 2;
    default:
      return -1;
  }
}

std::string TypeName(FieldType t) { return std::string(FieldTypeName(t)); }

// ---------- literals whose type is still open ----------

// A string literal or NULL whose type comes from where it is used, as in PostgreSQL.
class UnknownLiteral final : public Expr {
 public:
  explicit UnknownLiteral(std::optional<std::string> text)
      : Expr(FieldType::kString), text_(std::move(text)) {}
  Result<Value> Eval(const Record&) const override { return text_ ? Value(*text_) : Value::Null(); }
  std::string ToString() const override { return text_ ? "'" + *text_ + "'" : "NULL"; }
  bool CollectColumns(std::vector<size_t>&) const override { return true; }
  bool is_null() const { return !text_; }
  const std::string& text() const { return *text_; }

 private:
  std::optional<std::string> text_;
};

// Evaluates an expression owned elsewhere, so one bound argument can appear in several
// generated comparisons (IN lists, COALESCE) without being bound twice. The owner must keep
// the original alive as long as the borrowing expression.
class BorrowedExpr final : public Expr {
 public:
  explicit BorrowedExpr(const Expr* e) : Expr(e->type()), e_(e) {}
  Result<Value> Eval(const Record& row) const override { return e_->Eval(row); }
  std::string ToString() const override { return e_->ToString(); }
  bool CollectColumns(std::vector<size_t>& out) const override { return e_->CollectColumns(out); }

 private:
  const Expr* e_;
};

// ---------- conversions ----------

Result<Value> ToDecimal(FieldType from, const Value& v) {
  switch (from) {
    case FieldType::kInt:
      return Value(Decimal(v.as_int(), 0));
    case FieldType::kUInt:
      return Value(Decimal(__int128(v.as_uint()), 0));
    case FieldType::kDecimal:
      return v;
    case FieldType::kFloat: {
      double d = v.as_float();
      if (!std::isfinite(d))
        return InvalidArgument("cannot convert " + v.DebugString() + " to decimal");
      // 15 significant digits (DBL_DIG), as PostgreSQL's float8_numeric: 33.333333333333336
      // becomes 33.3333333333333, not the shortest round-trip form.
      char buf[64];
      auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::general, 15);
      auto parsed = Decimal::Parse(std::string_view(buf, size_t(ptr - buf)));
      if (!parsed.ok()) return parsed.status();
      return Value(*parsed);
    }
    default:
      return InvalidArgument("cannot convert to decimal");
  }
}

double ToDouble(FieldType from, const Value& v) {
  switch (from) {
    case FieldType::kInt:
      return double(v.as_int());
    case FieldType::kUInt:
      return double(v.as_uint());
    case FieldType::kDecimal:
      return v.as_decimal().ToDouble();
    default:
      return v.as_float();
  }
}

// PostgreSQL-like text form of a value (casts to text, ||, concat).
// float8's text form in PostgreSQL 12+ (extra_float_digits = 1): the shortest digits that read
// back exactly, in positional form unless the decimal exponent is below -4 or from 15 on.
std::string FloatText(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  char buf[64];
  auto end = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific).ptr;
  std::string_view sci(buf, size_t(end - buf));  // -1.2345e+10
  const size_t e = sci.find('e');
  const int exponent = std::atoi(std::string(sci.substr(e + 1)).c_str());
  const bool negative = sci[0] == '-';
  std::string digits;
  for (char c : sci.substr(negative, e - negative)) {
    if (c != '.') digits.push_back(c);
  }
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 15) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exponent < 0 ? "e-" : "e+";
    const int magnitude = std::abs(exponent);
    if (magnitude < 10) out += '0';
    return out + std::to_string(magnitude);
  }
  if (exponent < 0) return out + "0." + std::string(size_t(-exponent - 1), '0') + digits;
  if (digits.size() <= size_t(exponent) + 1) {
    return out + digits + std::string(size_t(exponent) + 1 - digits.size(), '0');
  }
  return out + digits.substr(0, size_t(exponent) + 1) + "." + digits.substr(size_t(exponent) + 1);
}

std::string ToText(FieldType type, const Value& v) {
  switch (type) {
    case FieldType::kBoolean:
      return v.as_bool() ? "true" : "false";
    case FieldType::kFloat:
      return FloatText(v.as_float());
    case FieldType::kInt:
      return std::to_string(v.as_int());
    case FieldType::kUInt:
      return std::to_string(v.as_uint());
    case FieldType::kDecimal:
      return v.as_decimal().ToString();
    case FieldType::kString:
    case FieldType::kText:
    case FieldType::kJson:
      return v.as_string();
    case FieldType::kTimestamp: {
      std::string s = FormatTimestamp(v.as_int());  // 2026-01-01T00:00:00Z
      s[10] = ' ';
      s.pop_back();
      return s + "+00";
    }
    default: {
      std::string out;
      AppendJsonValue(type, v, &out);
      if (out.size() >= 2 && out.front() == '"') out = out.substr(1, out.size() - 2);
      return out;
    }
  }
}

Result<Value> Convert(FieldType from, FieldType to, const Value& v) {
  if (v.is_null() || from == to) return v;
  if (IsText(from) && IsText(to)) return v;
  if (IsText(to)) return Value(ToText(from, v));
  if (IsText(from)) {
    std::string_view text = v.as_string();
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    auto parsed = ParseValueText(to, text);
    if (!parsed.ok()) {
      return InvalidArgument("invalid input syntax for type " + TypeName(to) + ": \"" +
                             v.as_string() + "\"");
    }
    return parsed;
  }
  if (to == FieldType::kDecimal && IsNumeric(from)) return ToDecimal(from, v);
  if (to == FieldType::kFloat && IsNumeric(from)) return Value(ToDouble(from, v));
  if (to == FieldType::kInt && IsNumeric(from)) {
    if (from == FieldType::kUInt) {
      if (v.as_uint() > uint64_t(std::numeric_limits<int64_t>::max())) {
        return OutOfRange("bigint out of range");
      }
      return Value(int64_t(v.as_uint()));
    }
    // Rounds half away from zero for decimals, half to even for floats (as PostgreSQL).
    if (from == FieldType::kDecimal) {
      ASSIGN_OR_RETURN(Decimal r, v.as_decimal().Rescaled(0));
      if (r.coefficient() > std::numeric_limits<int64_t>::max() ||
          r.coefficient() < std::numeric_limits<int64_t>::min()) {
        return OutOfRange("bigint out of range");
      }
      return Value(int64_t(r.coefficient()));
    }
    double d = std::nearbyint(v.as_float());
    if (!(d >= -9.223372036854775808e18 && d < 9.223372036854775808e18)) {
      return OutOfRange("bigint out of range");
    }
    return Value(int64_t(d));
  }
  if (to == FieldType::kTimestamp && from == FieldType::kDate) {
    return Value(v.as_int() * kMicrosPerDay);
  }
  if (to == FieldType::kDate && from == FieldType::kTimestamp) {
    int64_t t = v.as_int();
    return Value(t >= 0 ? t / kMicrosPerDay : -((-t + kMicrosPerDay - 1) / kMicrosPerDay));
  }
  return InvalidArgument("cannot cast type " + TypeName(from) + " to " + TypeName(to));
}

ExprPtr Unary(std::string name, FieldType type, ExprPtr a, ScalarFn fn, bool infix = false) {
  std::vector<ExprPtr> args;
  args.push_back(std::move(a));
  return MakeStrictCall(std::move(name), type, std::move(args), std::move(fn), infix);
}

ExprPtr Binary(std::string name, FieldType type, ExprPtr a, ExprPtr b, ScalarFn fn,
               bool infix = true) {
  std::vector<ExprPtr> args;
  args.push_back(std::move(a));
  args.push_back(std::move(b));
  return MakeStrictCall(std::move(name), type, std::move(args), std::move(fn), infix);
}

// ---------- arithmetic ----------

Status IntOverflow() { return OutOfRange("bigint out of range"); }
Status DivisionByZero() { return InvalidArgument("division by zero"); }

Result<Value> IntArith(char op, int64_t a, int64_t b) {
  int64_t r;
  switch (op) {
    case '+':
      if (__builtin_add_overflow(a, b, &r)) return IntOverflow();
      return Value(r);
    case '-':
      if (__builtin_sub_overflow(a, b, &r)) return IntOverflow();
      return Value(r);
    case '*':
      if (__builtin_mul_overflow(a, b, &r)) return IntOverflow();
      return Value(r);
    case '/':
      if (b == 0) return DivisionByZero();
      if (a == std::numeric_limits<int64_t>::min() && b == -1) return IntOverflow();
      return Value(a / b);
    case '%':
      if (b == 0) return DivisionByZero();
      if (b == -1) return Value(int64_t{0});
      return Value(a % b);
  }
  return Internal("bad operator");
}

Result<Value> FloatArith(char op, double a, double b) {
  double r;
  switch (op) {
    case '+':
      r = a + b;
      break;
    case '-':
      r = a - b;
      break;
    case '*':
      r = a * b;
      break;
    case '/':
      if (b == 0) return DivisionByZero();
      r = a / b;
      break;
    default:
      return Internal("bad operator");
  }
  if (std::isinf(r) && std::isfinite(a) && std::isfinite(b)) {
    return OutOfRange("value out of range: overflow");
  }
  return Value(r);
}

Result<Value> DecimalArith(char op, const Decimal& a, const Decimal& b) {
  Result<Decimal> r = Decimal();
  switch (op) {
    case '+':
      r = Decimal::Add(a, b);
      break;
    case '-':
      r = Decimal::Subtract(a, b);
      break;
    case '*':
      r = Decimal::Multiply(a, b);
      break;
    case '/':
      if (b.coefficient() == 0) return DivisionByZero();
      r = Decimal::Divide(a, b, Decimal::PostgresDivisionScale(a, b));
      break;
    case '%': {
      if (b.coefficient() == 0) return DivisionByZero();
      // a - trunc(a / b) * b, with the larger input scale (as PostgreSQL).
      int scale = std::max(a.scale(), b.scale());
      ASSIGN_OR_RETURN(Decimal q, Decimal::Divide(a, b, scale + 1));
      Decimal truncated(q.coefficient() / 10 * 10, q.scale());  // drop the rounding digit
      ASSIGN_OR_RETURN(Decimal whole, truncated.Rescaled(0));
      if (Decimal(truncated.coefficient(), truncated.scale()) != whole) {
        // Rescaled rounds; truncate toward zero instead.
        __int128 c = truncated.coefficient();
        for (int i = 0; i < truncated.scale(); ++i) c /= 10;
        whole = Decimal(c, 0);
      }
      ASSIGN_OR_RETURN(Decimal prod, Decimal::Multiply(whole, b));
      r = Decimal::Subtract(a, prod);
      break;
    }
    default:
      return Internal("bad operator");
  }
  if (!r.ok()) return r.status();
  return Value(*r);
}

Result<ExprPtr> BindArithmetic(char op, ExprPtr a, ExprPtr b) {
  const std::string name(1, op);
  FieldType ta = a->type(), tb = b->type();
  // date/time arithmetic
  if (ta == FieldType::kTimestamp && tb == FieldType::kDuration && (op == '+' || op == '-')) {
    return Binary(
        name, FieldType::kTimestamp, std::move(a), std::move(b),
        [op](const std::vector<Value>& v) { return IntArith(op, v[0].as_int(), v[1].as_int()); });
  }
  if (ta == FieldType::kDuration && tb == FieldType::kTimestamp && op == '+') {
    return Binary(
        name, FieldType::kTimestamp, std::move(a), std::move(b),
        [](const std::vector<Value>& v) { return IntArith('+', v[0].as_int(), v[1].as_int()); });
  }
  if (ta == FieldType::kTimestamp && tb == FieldType::kTimestamp && op == '-') {
    return Binary(
        name, FieldType::kDuration, std::move(a), std::move(b),
        [](const std::vector<Value>& v) { return IntArith('-', v[0].as_int(), v[1].as_int()); });
  }
  if (ta == FieldType::kDuration && tb == FieldType::kDuration && (op == '+' || op == '-')) {
    return Binary(
        name, FieldType::kDuration, std::move(a), std::move(b),
        [op](const std::vector<Value>& v) { return IntArith(op, v[0].as_int(), v[1].as_int()); });
  }
  if (ta == FieldType::kDate && tb == FieldType::kInt && (op == '+' || op == '-')) {
    return Binary(
        name, FieldType::kDate, std::move(a), std::move(b),
        [op](const std::vector<Value>& v) { return IntArith(op, v[0].as_int(), v[1].as_int()); });
  }
  if (ta == FieldType::kDate && tb == FieldType::kDate && op == '-') {
    return Binary(
        name, FieldType::kInt, std::move(a), std::move(b),
        [](const std::vector<Value>& v) { return IntArith('-', v[0].as_int(), v[1].as_int()); });
  }
  if (IsUnknownLiteral(*a) && IsNumeric(tb)) ta = tb;
  if (IsUnknownLiteral(*b) && IsNumeric(ta)) tb = ta;
  if (!IsNumeric(ta) || !IsNumeric(tb)) {
    return InvalidArgument("operator does not exist: " + TypeName(a->type()) + " " + name + " " +
                           TypeName(b->type()));
  }
  FieldType common = *CommonType(ta, tb);
  if (common == FieldType::kUInt) common = FieldType::kDecimal;
  ASSIGN_OR_RETURN(a, Coerce(std::move(a), common));
  ASSIGN_OR_RETURN(b, Coerce(std::move(b), common));
  switch (common) {
    case FieldType::kInt:
      return Binary(name, common, std::move(a), std::move(b), [op](const std::vector<Value>& v) {
        return IntArith(op, v[0].as_int(), v[1].as_int());
      });
    case FieldType::kFloat:
      if (op == '%') {
        return InvalidArgument(
            "operator does not exist: float % float (use mod on integers or decimals)");
      }
      return Binary(name, common, std::move(a), std::move(b), [op](const std::vector<Value>& v) {
        return FloatArith(op, v[0].as_float(), v[1].as_float());
      });
    default:
      return Binary(name, FieldType::kDecimal, std::move(a), std::move(b),
                    [op](const std::vector<Value>& v) {
                      return DecimalArith(op, v[0].as_decimal(), v[1].as_decimal());
                    });
  }
}

Result<ExprPtr> BindNegate(ExprPtr a) {
  switch (a->type()) {
    case FieldType::kInt:
    case FieldType::kDuration: {
      FieldType t = a->type();
      return Unary(
          "-", t, std::move(a),
          [](const std::vector<Value>& v) -> Result<Value> {
            if (v[0].as_int() == std::numeric_limits<int64_t>::min()) return IntOverflow();
            return Value(-v[0].as_int());
          },
          true);
    }
    case FieldType::kFloat:
      return Unary(
          "-", FieldType::kFloat, std::move(a),
          [](const std::vector<Value>& v) -> Result<Value> { return Value(-v[0].as_float()); },
          true);
    case FieldType::kDecimal:
      return Unary(
          "-", FieldType::kDecimal, std::move(a),
          [](const std::vector<Value>& v) -> Result<Value> {
            return Value(v[0].as_decimal().Negated());
          },
          true);
    default:
      return InvalidArgument("operator does not exist: - " + TypeName(a->type()));
  }
}

// ---------- comparison ----------

Result<std::pair<ExprPtr, ExprPtr>> CoerceToCommon(ExprPtr a, ExprPtr b, const std::string& what) {
  FieldType ta = a->type(), tb = b->type();
  if (IsUnknownLiteral(*a) && !IsUnknownLiteral(*b)) ta = tb;
  if (IsUnknownLiteral(*b) && !IsUnknownLiteral(*a)) tb = ta;
  auto common = CommonType(ta, tb);
  if (!common) {
    return InvalidArgument(what + ": cannot compare " + TypeName(a->type()) + " with " +
                           TypeName(b->type()));
  }
  ASSIGN_OR_RETURN(a, Coerce(std::move(a), *common));
  ASSIGN_OR_RETURN(b, Coerce(std::move(b), *common));
  return std::make_pair(std::move(a), std::move(b));
}

Result<ExprPtr> BindComparison(const std::string& op, ExprPtr a, ExprPtr b) {
  ASSIGN_OR_RETURN(auto pair, CoerceToCommon(std::move(a), std::move(b), "operator " + op));
  FieldType type = pair.first->type();
  std::function<bool(int)> test;
  if (op == "=")
    test = [](int c) { return c == 0; };
  else if (op == "<>" || op == "!=")
    test = [](int c) { return c != 0; };
  else if (op == "<")
    test = [](int c) { return c < 0; };
  else if (op == "<=")
    test = [](int c) { return c <= 0; };
  else if (op == ">")
    test = [](int c) { return c > 0; };
  else
    test = [](int c) { return c >= 0; };
  return Binary(op == "!=" ? "<>" : op, FieldType::kBoolean, std::move(pair.first),
                std::move(pair.second), [type, test](const std::vector<Value>& v) -> Result<Value> {
                  return Value(test(CompareValues(type, v[0], v[1])));
                });
}

// ---------- strings ----------

// Byte offset of the `chars`-th UTF-8 character (or the end).
size_t Utf8Offset(std::string_view s, int64_t chars) {
  size_t i = 0;
  while (i < s.size() && chars > 0) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
    --chars;
  }
  return i;
}

int64_t Utf8Length(std::string_view s) {
  int64_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string AsciiCase(std::string s, bool upper) {
  for (auto& c : s) {
    if (upper && c >= 'a' && c <= 'z') c = char(c - 32);
    if (!upper && c >= 'A' && c <= 'Z') c = char(c + 32);
  }
  return s;
}

Value Substring(const std::string& s, int64_t start, std::optional<int64_t> count) {
  // PostgreSQL: characters from `start` (1-based, may be <= 0) for `count` characters.
  int64_t first = start, last = count ? start + *count : INT64_MAX;
  if (first < 1) first = 1;
  if (last <= first) return Value("");
  size_t from = Utf8Offset(s, first - 1);
  size_t to = last == INT64_MAX ? s.size() : Utf8Offset(s, last - 1);
  return Value(s.substr(from, to - from));
}

std::string TrimChars(const std::string& s, const std::string& chars, bool left, bool right) {
  size_t b = 0, e = s.size();
  if (left)
    while (b < e && chars.find(s[b]) != std::string::npos) ++b;
  if (right)
    while (e > b && chars.find(s[e - 1]) != std::string::npos) --e;
  return s.substr(b, e - b);
}

Status ArgCount(const std::string& name, const std::vector<ExprPtr>& args, size_t min, size_t max) {
  if (args.size() < min || args.size() > max) {
    return InvalidArgument("function " + name + " does not take " + std::to_string(args.size()) +
                           " argument" + (args.size() == 1 ? "" : "s"));
  }
  return Status::OK();
}

Result<ExprPtr> CoerceText(ExprPtr e) {
  if (IsText(e->type())) return e;
  return BindCast(std::move(e), FieldType::kString);
}

// A value's output text, as concat() uses it in PostgreSQL: like a cast to text, except that
// booleans print as t and f (CAST(true AS text) and 'a' || true say 'true', concat('a', true)
// says 'at').
Result<ExprPtr> OutputText(ExprPtr e) {
  if (e->type() != FieldType::kBoolean) return CoerceText(std::move(e));
  return Unary("text", FieldType::kString, std::move(e), [](const std::vector<Value>& v) {
    return Result<Value>(Value(v[0].as_bool() ? "t" : "f"));
  });
}

Result<ExprPtr> RequireType(ExprPtr e, FieldType type, const std::string& fn) {
  if (e->type() == type || IsUnknownLiteral(*e)) return Coerce(std::move(e), type);
  if (type == FieldType::kInt && e->type() == FieldType::kInt) return e;
  return InvalidArgument("function " + fn + " does not accept " + TypeName(e->type()));
}

// ---------- date and time ----------

struct CivilTime {
  std::chrono::year_month_day ymd;
  int64_t days;  // since 1970-01-01
  int64_t micros_of_day;
};

CivilTime Civil(int64_t micros) {
  int64_t days = micros / kMicrosPerDay, rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  return {std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{days}}}, days, rest};
}

int64_t DaysFrom(int year, unsigned month, unsigned day) {
  using namespace std::chrono;
  return sys_days{
      year_month_day{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}}}
      .time_since_epoch()
      .count();
}

Result<int64_t> TruncateTimestamp(const std::string& unit_text, int64_t micros) {
  std::string unit = AsciiCase(unit_text, false);
  CivilTime c = Civil(micros);
  int y = int(c.ymd.year());
  unsigned m = unsigned(c.ymd.month());
  auto at_day = [&](int64_t days) { return days * kMicrosPerDay; };
  if (unit == "microseconds" || unit == "microsecond") return micros;
  if (unit == "milliseconds" || unit == "millisecond")
    return micros - ((micros % 1000) + 1000) % 1000;
  if (unit == "second" || unit == "seconds")
    return micros - ((micros % 1'000'000) + 1'000'000) % 1'000'000;
  if (unit == "minute" || unit == "minutes")
    return at_day(c.days) + c.micros_of_day / 60'000'000 * 60'000'000;
  if (unit == "hour" || unit == "hours")
    return at_day(c.days) + c.micros_of_day / 3'600'000'000LL * 3'600'000'000LL;
  if (unit == "day" || unit == "days") return at_day(c.days);
  if (unit == "week" || unit == "weeks") {
    // ISO weeks start on Monday; 1970-01-01 was a Thursday.
    int64_t weekday = ((c.days + 3) % 7 + 7) % 7;  // 0 = Monday
    return at_day(c.days - weekday);
  }
  if (unit == "month" || unit == "months") return at_day(DaysFrom(y, m, 1));
  if (unit == "quarter") return at_day(DaysFrom(y, (m - 1) / 3 * 3 + 1, 1));
  if (unit == "year" || unit == "years") return at_day(DaysFrom(y, 1, 1));
  if (unit == "decade") return at_day(DaysFrom(y - ((y % 10) + 10) % 10, 1, 1));
  return InvalidArgument("unit \"" + unit_text + "\" not recognized for date_trunc");
}

// EXTRACT / date_part: the field as a decimal (PostgreSQL 15's EXTRACT returns numeric).
Result<Decimal> ExtractField(const std::string& field_text, int64_t micros) {
  std::string field = AsciiCase(field_text, false);
  CivilTime c = Civil(micros);
  int y = int(c.ymd.year());
  unsigned m = unsigned(c.ymd.month()), d = unsigned(c.ymd.day());
  int64_t seconds_micros = c.micros_of_day % 60'000'000;
  if (field == "epoch") return Decimal(micros, 6).Normalized();
  if (field == "year") return Decimal(y, 0);
  if (field == "quarter") return Decimal((m - 1) / 3 + 1, 0);
  if (field == "month") return Decimal(m, 0);
  if (field == "day") return Decimal(d, 0);
  if (field == "hour") return Decimal(c.micros_of_day / 3'600'000'000LL, 0);
  if (field == "minute") return Decimal(c.micros_of_day / 60'000'000 % 60, 0);
  if (field == "second") return Decimal(seconds_micros, 6).Normalized();
  if (field == "milliseconds" || field == "millisecond")
    return Decimal(seconds_micros, 3).Normalized();
  if (field == "microseconds" || field == "microsecond") return Decimal(seconds_micros, 0);
  if (field == "dow") return Decimal(((c.days + 4) % 7 + 7) % 7, 0);  // 0 = Sunday
  if (field == "isodow") return Decimal(((c.days + 3) % 7 + 7) % 7 + 1, 0);
  if (field == "doy") return Decimal(c.days - DaysFrom(y, 1, 1) + 1, 0);
  if (field == "week") {
    // ISO week: the week (Monday-based) containing the year's first Thursday is week 1.
    int64_t weekday = ((c.days + 3) % 7 + 7) % 7;
    int64_t thursday = c.days - weekday + 3;
    int iso_year =
        int(std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{thursday}}}.year());
    return Decimal((thursday - DaysFrom(iso_year, 1, 1)) / 7 + 1, 0);
  }
  return InvalidArgument("unit \"" + field_text + "\" not recognized for timestamp");
}

// `d` rounded (half away from zero, as numeric does) or truncated at 10^digits, digits >= 1:
// the tens, hundreds ... place. The result has scale 0.
Result<Decimal> RoundToPowerOfTen(const Decimal& d, int digits, bool round) {
  const int divide_digits = d.scale() + digits;
  if (divide_digits > 38) return Decimal(0, 0);  // |d| < 10^38 is below half of 10^39
  __int128 divisor = 1;
  for (int i = 0; i < divide_digits; ++i) divisor *= 10;
  const __int128 c = d.coefficient();
  __int128 q = c / divisor;
  const __int128 r = c % divisor;
  if (round && (r < 0 ? -r : r) * 2 >= divisor) q += c < 0 ? -1 : 1;
  __int128 bound = 1;  // 10^37: times ten, still within 38 digits
  for (int i = 0; i < Decimal::kMaxDigits - 1; ++i) bound *= 10;
  __int128 result = q;
  for (int i = 0; i < digits; ++i) {
    if (result >= bound || result <= -bound) return OutOfRange("numeric field overflow");
    result *= 10;
  }
  return Decimal(result, 0);
}

}  // namespace

Result<Value> ConvertValue(FieldType from, FieldType to, const Value& v) {
  return Convert(from, to, v);
}

ExprPtr MakeUnknownLiteral(std::string text) {
  return std::make_unique<UnknownLiteral>(std::move(text));
}

ExprPtr MakeNullLiteral() { return std::make_unique<UnknownLiteral>(std::nullopt); }

bool IsUnknownLiteral(const Expr& e) { return dynamic_cast<const UnknownLiteral*>(&e) != nullptr; }

std::optional<FieldType> CommonType(FieldType a, FieldType b) {
  if (a == b) return a;
  if (IsText(a) && IsText(b)) return FieldType::kString;
  if (IsNumeric(a) && IsNumeric(b)) {
    int r = std::max(NumericRank(a), NumericRank(b));
    return r == 0 ? FieldType::kInt : r == 1 ? FieldType::kDecimal : FieldType::kFloat;
  }
  if ((a == FieldType::kDate && b == FieldType::kTimestamp) ||
      (a == FieldType::kTimestamp && b == FieldType::kDate)) {
    return FieldType::kTimestamp;
  }
  return std::nullopt;
}

int CompareValues(FieldType type, const Value& a, const Value& b) {
  switch (type) {
    case FieldType::kBoolean:
      return int(a.as_bool()) - int(b.as_bool());
    case FieldType::kInt:
    case FieldType::kDate:
    case FieldType::kTimestamp:
    case FieldType::kDuration:
      return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    case FieldType::kUInt:
      return a.as_uint() < b.as_uint() ? -1 : a.as_uint() > b.as_uint() ? 1 : 0;
    case FieldType::kFloat: {
      double x = a.as_float(), y = b.as_float();
      if (std::isnan(x) || std::isnan(y)) return std::isnan(x) - std::isnan(y);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case FieldType::kDecimal: {
      auto c = a.as_decimal() <=> b.as_decimal();
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case FieldType::kPoint: {
      const Point &p = a.as_point(), &q = b.as_point();
      if (p.x != q.x) return p.x < q.x ? -1 : 1;
      return p.y < q.y ? -1 : p.y > q.y ? 1 : 0;
    }
    default: {
      int c = a.as_string().compare(b.as_string());
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
  }
}

Result<ExprPtr> Coerce(ExprPtr arg, FieldType target) {
  if (auto* unknown = dynamic_cast<UnknownLiteral*>(arg.get())) {
    if (unknown->is_null()) return MakeLiteral(Value::Null(), target, "NULL");
    if (IsText(target)) return MakeLiteral(Value(unknown->text()), target, arg->ToString());
    auto v = Convert(FieldType::kString, target, Value(unknown->text()));
    if (!v.ok()) return v.status();
    return MakeLiteral(std::move(*v), target, arg->ToString() + "::" + TypeName(target));
  }
  if (arg->type() == target) return arg;
  FieldType from = arg->type();
  bool implicit =
      (IsText(from) && IsText(target)) ||
      (IsNumeric(from) && IsNumeric(target) && NumericRank(from) <= NumericRank(target)) ||
      (from == FieldType::kDate && target == FieldType::kTimestamp);
  if (!implicit) {
    return InvalidArgument("cannot use " + TypeName(from) + " " + arg->ToString() + " as " +
                           TypeName(target) + " without a cast");
  }
  return BindCast(std::move(arg), target);
}

Result<ExprPtr> BindCast(ExprPtr arg, FieldType target) {
  if (IsUnknownLiteral(*arg)) return Coerce(std::move(arg), target);
  FieldType from = arg->type();
  if (from == target) return arg;
  // Check the conversion exists (with a sample-free test on the type pair).
  bool ok = (IsText(from) || IsText(target)) || (IsNumeric(from) && IsNumeric(target)) ||
            (from == FieldType::kDate && target == FieldType::kTimestamp) ||
            (from == FieldType::kTimestamp && target == FieldType::kDate);
  if (!ok) return InvalidArgument("cannot cast type " + TypeName(from) + " to " + TypeName(target));
  std::string text = "CAST(" + arg->ToString() + " AS " + TypeName(target) + ")";
  std::vector<ExprPtr> args;
  args.push_back(std::move(arg));
  auto expr = MakeStrictCall(
      "CAST", target, std::move(args),
      [from, target](const std::vector<Value>& v) { return Convert(from, target, v[0]); });
  return expr;
}

Result<ExprPtr> BindOperator(const std::string& op, std::vector<ExprPtr> args) {
  if (args.size() == 1) {
    if (op == "-") return BindNegate(std::move(args[0]));
    if (op == "+") return std::move(args[0]);
    return InvalidArgument("unary operator " + op + " is not supported");
  }
  if (op.size() == 1 && std::string_view("+-*/%").find(op[0]) != std::string_view::npos) {
    return BindArithmetic(op[0], std::move(args[0]), std::move(args[1]));
  }
  if (op == "=" || op == "<>" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=") {
    return BindComparison(op, std::move(args[0]), std::move(args[1]));
  }
  if (op == "->" || op == "->>") {
    // json -> 'key' / json -> index; ->> gives text.
    if (IsUnknownLiteral(*args[0])) {
      ASSIGN_OR_RETURN(args[0], Coerce(std::move(args[0]), FieldType::kJson));
    }
    if (args[0]->type() != FieldType::kJson) {
      return InvalidArgument("operator does not exist: " + TypeName(args[0]->type()) + " " + op);
    }
    const bool as_text = op == "->>";
    const bool by_index = args[1]->type() == FieldType::kInt;
    if (!by_index) {
      ASSIGN_OR_RETURN(args[1], CoerceText(std::move(args[1])));
    }
    return Binary(op, as_text ? FieldType::kString : FieldType::kJson, std::move(args[0]),
                  std::move(args[1]),
                  [as_text, by_index](const std::vector<Value>& v) -> Result<Value> {
                    Result<std::optional<std::string>> r =
                        by_index ? JsonGetIndex(v[0].as_string(), v[1].as_int(), as_text)
                                 : JsonGet(v[0].as_string(), v[1].as_string(), as_text);
                    if (!r.ok()) return r.status();
                    if (!*r) return Value::Null();
                    return Value(std::move(**r));
                  });
  }
  if (op == "||") {
    ASSIGN_OR_RETURN(ExprPtr a, CoerceText(std::move(args[0])));
    ASSIGN_OR_RETURN(ExprPtr b, CoerceText(std::move(args[1])));
    return Binary("||", FieldType::kString, std::move(a), std::move(b),
                  [](const std::vector<Value>& v) -> Result<Value> {
                    return Value(v[0].as_string() + v[1].as_string());
                  });
  }
  return InvalidArgument("operator " + op + " is not supported");
}

ExprPtr MakeIsNull(ExprPtr arg, bool negated) {
  std::vector<ExprPtr> args;
  args.push_back(std::move(arg));
  return MakeCall(negated ? "IS NOT NULL" : "IS NULL", FieldType::kBoolean, std::move(args),
                  [negated](const std::vector<Value>& v) -> Result<Value> {
                    return Value(v[0].is_null() != negated);
                  });
}

Result<ExprPtr> MakeDistinctFrom(ExprPtr a, ExprPtr b, bool negated) {
  ASSIGN_OR_RETURN(auto pair, CoerceToCommon(std::move(a), std::move(b), "IS DISTINCT FROM"));
  FieldType type = pair.first->type();
  std::vector<ExprPtr> args;
  args.push_back(std::move(pair.first));
  args.push_back(std::move(pair.second));
  return MakeCall(negated ? "IS NOT DISTINCT FROM" : "IS DISTINCT FROM", FieldType::kBoolean,
                  std::move(args), [type, negated](const std::vector<Value>& v) -> Result<Value> {
                    bool distinct;
                    if (v[0].is_null() || v[1].is_null()) {
                      distinct = v[0].is_null() != v[1].is_null();
                    } else {
                      distinct = CompareValues(type, v[0], v[1]) != 0;
                    }
                    return Value(distinct != negated);
                  });
}

Result<ExprPtr> MakeLike(ExprPtr value, ExprPtr pattern, bool case_insensitive, bool negated) {
  ASSIGN_OR_RETURN(value, CoerceText(std::move(value)));
  ASSIGN_OR_RETURN(pattern, CoerceText(std::move(pattern)));
  std::string name = std::string(negated ? "NOT " : "") + (case_insensitive ? "ILIKE" : "LIKE");
  return Binary(name, FieldType::kBoolean, std::move(value), std::move(pattern),
                [case_insensitive, negated](const std::vector<Value>& v) -> Result<Value> {
                  std::string s = v[0].as_string(), p = v[1].as_string();
                  if (case_insensitive) {
                    s = AsciiCase(s, false);
                    p = AsciiCase(p, false);
                  }
                  // Iterative matcher with backtracking on the last '%' (backslash escapes).
                  size_t si = 0, pi = 0, star_p = std::string::npos, star_s = 0;
                  while (si < s.size()) {
                    if (pi < p.size() && p[pi] == '\\' && pi + 1 < p.size() && p[pi + 1] == s[si]) {
                      pi += 2, ++si;
                    } else if (pi < p.size() && (p[pi] == '_' || (p[pi] == s[si] && p[pi] != '%' &&
                                                                  p[pi] != '\\'))) {
                      if (p[pi] == '_') {  // one character, which may be several UTF-8 bytes
                        ++si;
                        while (si < s.size() && (static_cast<unsigned char>(s[si]) & 0xC0) == 0x80)
                          ++si;
                        ++pi;
                      } else {
                        ++pi, ++si;
                      }
                    } else if (pi < p.size() && p[pi] == '%') {
                      star_p = pi++;
                      star_s = si;
                    } else if (star_p != std::string::npos) {
                      pi = star_p + 1;
                      si = ++star_s;
                    } else {
                      return Value(negated);
                    }
                  }
                  while (pi < p.size() && p[pi] == '%') ++pi;
                  return Value((pi == p.size()) != negated);
                });
}

Result<ExprPtr> MakeInList(ExprPtr value, std::vector<ExprPtr> list, bool negated) {
  // x IN (a, b) is x = a OR x = b, with the same NULL rules.
  std::vector<ExprPtr> terms;
  for (auto& item : list) {
    // Each comparison needs its own copy of x; re-evaluating x is cheap for the expressions
    // that occur here, so share it through a column-free wrapper.
    ASSIGN_OR_RETURN(ExprPtr cmp, BindComparison("=", std::make_unique<BorrowedExpr>(value.get()),
                                                 std::move(item)));
    terms.push_back(std::move(cmp));
  }
  std::vector<ExprPtr> keep;
  keep.push_back(MakeOr(std::move(terms)));
  keep.push_back(std::move(value));  // owned here so the shared pointers stay valid
  auto in = MakeCall(negated ? "NOT IN" : "IN", FieldType::kBoolean, std::move(keep),
                     [negated](const std::vector<Value>& v) -> Result<Value> {
                       if (v[0].is_null()) return Value::Null();
                       return Value(v[0].as_bool() != negated);
                     });
  return in;
}

Result<ExprPtr> BindFunction(const std::string& name, std::vector<ExprPtr> args) {
  using V = const std::vector<Value>&;
  if (name == "lower" || name == "upper") {
    RETURN_IF_ERROR(ArgCount(name, args, 1, 1));
    ASSIGN_OR_RETURN(ExprPtr a, CoerceText(std::move(args[0])));
    bool upper = name == "upper";
    return Unary(name, FieldType::kString, std::move(a), [upper](V v) -> Result<Value> {
      return Value(AsciiCase(v[0].as_string(), upper));
    });
  }
  if (name == "length" || name == "char_length" || name == "character_length") {
    RETURN_IF_ERROR(ArgCount(name, args, 1, 1));
    ASSIGN_OR_RETURN(ExprPtr a, CoerceText(std::move(args[0])));
    return Unary(name, FieldType::kInt, std::move(a),
                 [](V v) -> Result<Value> { return Value(Utf8Length(v[0].as_string())); });
  }
  if (name == "abs") {
    RETURN_IF_ERROR(ArgCount(name, args, 1, 1));
    FieldType t = args[0]->type();
    if (!IsNumeric(t)) return InvalidArgument("function abs does not accept " + TypeName(t));
    return Unary(name, t, std::move(args[0]), [t](V v) -> Result<Value> {
      switch (t) {
        case FieldType::kInt:
          if (v[0].as_int() == std::numeric_limits<int64_t>::min()) return IntOverflow();
          return Value(v[0].as_int() < 0 ? -v[0].as_int() : v[0].as_int());
        case FieldType::kFloat:
          return Value(std::fabs(v[0].as_float()));
        case FieldType::kDecimal:
          return Value(v[0].as_decimal().coefficient() < 0 ? v[0].as_decimal().Negated()
                                                           : v[0].as_decimal());
        default:
          return v[0];
      }
    });
  }
  if (name == "coalesce") {
    if (args.empty()) return InvalidArgument("coalesce needs at least one argument");
    FieldType t = args[0]->type();
    for (auto& a : args) {
      if (!IsUnknownLiteral(*a) || IsUnknownLiteral(*args[0])) {
        auto c = CommonType(t, a->type());
        if (!c)
          return InvalidArgument("COALESCE types " + TypeName(t) + " and " + TypeName(a->type()) +
                                 " cannot be matched");
        t = IsUnknownLiteral(*args[0]) && !IsUnknownLiteral(*a) ? a->type() : *c;
      }
    }
    for (auto& a : args) {
      ASSIGN_OR_RETURN(a, Coerce(std::move(a), t));
    }
    // Lazy: later arguments are only evaluated when earlier ones are NULL.
    std::vector<std::pair<ExprPtr, ExprPtr>> whens;
    ExprPtr last = std::move(args.back());
    args.pop_back();
    std::vector<ExprPtr> owned;
    for (auto& a : args) {
      whens.emplace_back(MakeIsNull(std::make_unique<BorrowedExpr>(a.get()), true),
                         std::make_unique<BorrowedExpr>(a.get()));
      owned.push_back(std::move(a));
    }
    auto chooser = MakeCase(t, std::move(whens), std::move(last));
    owned.insert(owned.begin(), std::move(chooser));
    return MakeCall("COALESCE", t, std::move(owned), [](V v) -> Result<Value> { return v[0]; });
  }
  if (name == "nullif") {
    RETURN_IF_ERROR(ArgCount(name, args, 2, 2));
    ASSIGN_OR_RETURN(auto pair, CoerceToCommon(std::move(args[0]), std::move(args[1]), "NULLIF"));
    FieldType t = pair.first->type();
    std::vector<ExprPtr> a;
    a.push_back(std::move(pair.first));
    a.push_back(std::move(pair.second));
    return MakeCall("NULLIF", t, std::move(a), [t](V v) -> Result<Value> {
      if (!v[0].is_null() && !v[1].is_null() && CompareValues(t, v[0], v[1]) == 0)
        return Value::Null();
      return v[0];
    });
  }
  if (name == "greatest" || name == "least") {
    if (args.empty()) return InvalidArgument(name + " needs at least one argument");
    FieldType t = args[0]->type();
    for (auto& a : args) {
      auto c = CommonType(t, a->type());
      if (!c) return InvalidArgument(name + " types cannot be matched");
      t = *c;
    }
    for (auto& a : args) {
      ASSIGN_OR_RETURN(a, Coerce(std::move(a), t));
    }
    bool greatest = name == "greatest";
    return MakeCall(greatest ? "GREATEST" : "LEAST", t, std::move(args),
                    [t, greatest](V v) -> Result<Value> {
                      const Value* best = nullptr;  // NULLs are ignored
                      for (const auto& x : v) {
                        if (x.is_null()) continue;
                        if (!best || (CompareValues(t, x, *best) > 0) == greatest) {
                          if (!best || CompareValues(t, x, *best) != 0) best = &x;
                        }
                      }
                      return best ? *best : Value::Null();
                    });
  }
  if (name == "round" || name == "floor" || name == "ceil" || name == "ceiling" ||
      name == "trunc") {
    RETURN_IF_ERROR(ArgCount(name, args, 1, name == "round" || name == "trunc" ? 2 : 1));
    FieldType t = args[0]->type();
    if (t == FieldType::kInt) {
      ASSIGN_OR_RETURN(args[0], Coerce(std::move(args[0]), FieldType::kDecimal));
    }
    t = args[0]->type();
    if (t != FieldType::kFloat && t != FieldType::kDecimal) {
      return InvalidArgument("function " + name + " does not accept " + TypeName(t));
    }
    if (args.size() == 2) {
      if (t == FieldType::kFloat)
        return InvalidArgument("function " + name + "(float, int) does not exist; cast to decimal");
      ASSIGN_OR_RETURN(args[1], RequireType(std::move(args[1]), FieldType::kInt, name));
    }
    std::string fn = name == "ceiling" ? "ceil" : name;
    return MakeStrictCall(name, t, std::move(args), [t, fn](V v) -> Result<Value> {
      if (t == FieldType::kFloat) {
        double d = v[0].as_float();
        if (fn == "round") return Value(std::nearbyint(d));  // half to even, like rint()
        if (fn == "floor") return Value(std::floor(d));
        if (fn == "trunc") return Value(std::trunc(d));
        return Value(std::ceil(d));
      }
      const Decimal& d = v[0].as_decimal();
      int scale = v.size() == 2 ? int(std::clamp<int64_t>(v[1].as_int(), -38, 38)) : 0;
      if (fn == "round" && scale >= 0) return Value(d.Rescaled(scale).value());
      if (scale < 0) {
        // round(99.99, -1) = 100, trunc(15, -1) = 10: at 10^-scale, with scale 0 (PostgreSQL).
        ASSIGN_OR_RETURN(Decimal r, RoundToPowerOfTen(d, -scale, fn == "round"));
        return Value(r);
      }
      // floor / ceil / trunc to `scale` decimals
      Decimal norm = d.Rescaled(std::max(d.scale(), std::max(scale, 0))).value();
      __int128 c = norm.coefficient();
      __int128 unit = 1;
      for (int i = 0; i < norm.scale() - std::max(scale, 0); ++i) unit *= 10;
      __int128 q = c / unit, r = c % unit;
      if (r != 0 && fn == "floor" && c < 0) --q;
      if (r != 0 && fn == "ceil" && c > 0) ++q;
      return Value(Decimal(q, std::max(scale, 0)));
    });
  }
  if (name == "sqrt" || name == "ln" || name == "exp" || name == "power" || name == "pow") {
    for (auto& a : args) {
      ASSIGN_OR_RETURN(a, Coerce(std::move(a), FieldType::kFloat));
    }
    RETURN_IF_ERROR(ArgCount(name, args, name == "power" || name == "pow" ? 2 : 1,
                             name == "power" || name == "pow" ? 2 : 1));
    std::string fn = name;
    return MakeStrictCall(name, FieldType::kFloat, std::move(args), [fn](V v) -> Result<Value> {
      double x = v[0].as_float();
      if (fn == "sqrt") {
        if (x < 0) return InvalidArgument("cannot take square root of a negative number");
        return Value(std::sqrt(x));
      }
      if (fn == "ln") {
        if (x == 0) return InvalidArgument("cannot take logarithm of zero");
        if (x < 0) return InvalidArgument("cannot take logarithm of a negative number");
        return Value(std::log(x));
      }
      if (fn == "exp") return Value(std::exp(x));
      return Value(std::pow(x, v[1].as_float()));
    });
  }
  if (name == "mod") {
    RETURN_IF_ERROR(ArgCount(name, args, 2, 2));
    return BindArithmetic('%', std::move(args[0]), std::move(args[1]));
  }
  if (name == "sign") {
    RETURN_IF_ERROR(ArgCount(name, args, 1, 1));
    FieldType t = args[0]->type();
    if (t == FieldType::kInt) {
      ASSIGN_OR_RETURN(args[0], Coerce(std::move(args[0]), FieldType::kDecimal));
    }
    t = args[0]->type();
    return Unary(name, t, std::move(args[0]), [t](V v) -> Result<Value> {
      if (t == FieldType::kFloat) {
        double d = v[0].as_float();
        return Value(d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0);
      }
      __int128 c = v[0].as_decimal().coefficient();
      return Value(Decimal(c > 0 ? 1 : c < 0 ? -1 : 0, 0));
    });
  }
  if (name == "concat") {
    std::vector<ExprPtr> texts;
    for (auto& a : args) {
      ASSIGN_OR_RETURN(ExprPtr t, OutputText(std::move(a)));
      texts.push_back(std::move(t));
    }
    return MakeCall("concat", FieldType::kString, std::move(texts), [](V v) -> Result<Value> {
      std::string out;
      for (const auto& x : v)
        if (!x.is_null()) out += x.as_string();
      return Value(std::move(out));
    });
  }
  if (name == "substr" || name == "substring") {
    RETURN_IF_ERROR(ArgCount(name, args, 2, 3));
    ASSIGN_OR_RETURN(args[0], CoerceText(std::move(args[0])));
    for (size_t i = 1; i < args.size(); ++i) {
      ASSIGN_OR_RETURN(args[i], RequireType(std::move(args[i]), FieldType::kInt, name));
    }
    return MakeStrictCall("substr", FieldType::kString, std::move(args), [](V v) -> Result<Value> {
      if (v.size() == 3 && v[2].as_int() < 0)
        return InvalidArgument("negative substring length not allowed");
      return Substring(v[0].as_string(), v[1].as_int(),
                       v.size() == 3 ? std::optional<int64_t>(v[2].as_int()) : std::nullopt);
    });
  }
  if (name == "left" || name == "right") {
    RETURN_IF_ERROR(ArgCount(name, args, 2, 2));
    ASSIGN_OR_RETURN(args[0], CoerceText(std::move(args[0])));
    ASSIGN_OR_RETURN(args[1], RequireType(std::move(args[1]), FieldType::kInt, name));
    bool left = name == "left";
    return MakeStrictCall(name, FieldType::kString, std::move(args), [left](V v) -> Result<Value> {
      const std::string& s = v[0].as_string();
      int64_t len = Utf8Length(s), n = v[1].as_int();
      int64_t keep = n >= 0 ? std::min(n, len) : std::max<int64_t>(0, len + n);
      if (left) return Value(s.substr(0, Utf8Offset(s, keep)));
      return Value(s.substr(Utf8Offset(s, len - keep)));
    });
  }
  if (name == "replace") {
    RETURN_IF_ERROR(ArgCount(name, args, 3, 3));
    for (auto& a : args) {
      ASSIGN_OR_RETURN(a, CoerceText(std::move(a)));
    }
    return MakeStrictCall(name, FieldType::kString, std::move(args), [](V v) -> Result<Value> {
      std::string s = v[0].as_string();
      const std::string &from = v[1].as_string(), &to = v[2].as_string();
      if (from.empty()) return Value(s);
      std::string out;
      size_t pos = 0;
      for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
        out.append(s, pos, hit - pos).append(to);
      }
      out.append(s, pos, std::string::npos);
      return Value(std::move(out));
    });
  }
  if (name == "btrim" || name == "ltrim" || name == "rtrim" || name == "trim") {
    RETURN_IF_ERROR(ArgCount(name, args, 1, 2));
    for (auto& a : args) {
      ASSIGN_OR_RETURN(a, CoerceText(std::move(a)));
    }
    bool left = name != "rtrim", right = name != "ltrim";
    return MakeStrictCall(
        name, FieldType::kString, std::move(args), [left, right](V v) -> Result<Value> {
          return Value(
              TrimChars(v[0].as_string(), v.size() == 2 ? v[1].as_string() : " ", left, right));
        });
  }
  if (name == "strpos" || name == "position") {
    RETURN_IF_ERROR(ArgCount(name, args, 2, 2));
    for (auto& a : args) {
      ASSIGN_OR_RETURN(a, CoerceText(std::move(a)));
    }
    return MakeStrictCall(name, FieldType::kInt, std::move(args), [](V v) -> Result<Value> {
      size_t at = v[0].as_string().find(v[1].as_string());
      if (at == std::string::npos) return Value(int64_t{0});
      return Value(Utf8Length(std::string_view(v[0].as_string()).substr(0, at)) + 1);
    });
  }
  if (name == "starts_with") {
    RETURN_IF_ERROR(ArgCount(name, args, 2, 2));
    for (auto& a : args) {
      ASSIGN_OR_RETURN(a, CoerceText(std::move(a)));
    }
    return MakeStrictCall(name, FieldType::kBoolean, std::move(args), [](V v) -> Result<Value> {
      return Value(v[0].as_string().starts_with(v[1].as_string()));
    });
  }
  if (name == "json_extract_path_text" || name == "jsonb_extract_path_text" ||
      name == "json_extract_path" || name == "jsonb_extract_path") {
    if (args.size() < 2) return InvalidArgument(name + " needs a json value and a path");
    if (IsUnknownLiteral(*args[0]) || args[0]->type() != FieldType::kJson) {
      ASSIGN_OR_RETURN(args[0], Coerce(std::move(args[0]), FieldType::kJson));
    }
    for (size_t i = 1; i < args.size(); ++i) {
      ASSIGN_OR_RETURN(args[i], CoerceText(std::move(args[i])));
    }
    const bool as_text = name.ends_with("_text");
    return MakeStrictCall(
        name, as_text ? FieldType::kString : FieldType::kJson, std::move(args),
        [as_text](V v) -> Result<Value> {
          std::string current = v[0].as_string();
          for (size_t i = 1; i < v.size(); ++i) {
            const bool last = i + 1 == v.size();
            const std::string& step = v[i].as_string();
            // A path step is an object key, or an array index when numeric.
            int64_t index = 0;
            auto [p, ec] = std::from_chars(step.data(), step.data() + step.size(), index);
            bool numeric = ec == std::errc() && p == step.data() + step.size();
            Result<std::optional<std::string>> next = JsonGet(current, step, last && as_text);
            if (next.ok() && !*next && numeric) {
              next = JsonGetIndex(current, index, last && as_text);
            }
            if (!next.ok()) return next.status();
            if (!*next) return Value::Null();
            current = std::move(**next);
          }
          return Value(std::move(current));
        });
  }
  if (name == "date_trunc") {
    RETURN_IF_ERROR(ArgCount(name, args, 2, 2));
    ASSIGN_OR_RETURN(args[0], CoerceText(std::move(args[0])));
    if (IsUnknownLiteral(*args[1])) {
      ASSIGN_OR_RETURN(args[1], Coerce(std::move(args[1]), FieldType::kTimestamp));
    }
    if (args[1]->type() == FieldType::kDate) {
      ASSIGN_OR_RETURN(args[1], Coerce(std::move(args[1]), FieldType::kTimestamp));
    }
    if (args[1]->type() != FieldType::kTimestamp) {
      return InvalidArgument("function date_trunc does not accept " + TypeName(args[1]->type()));
    }
    return MakeStrictCall(name, FieldType::kTimestamp, std::move(args), [](V v) -> Result<Value> {
      ASSIGN_OR_RETURN(int64_t t, TruncateTimestamp(v[0].as_string(), v[1].as_int()));
      return Value(t);
    });
  }
  if (name == "extract" || name == "date_part") {
    RETURN_IF_ERROR(ArgCount(name, args, 2, 2));
    ASSIGN_OR_RETURN(args[0], CoerceText(std::move(args[0])));
    if (IsUnknownLiteral(*args[1])) {
      ASSIGN_OR_RETURN(args[1], Coerce(std::move(args[1]), FieldType::kTimestamp));
    }
    FieldType t = args[1]->type();
    if (t != FieldType::kTimestamp && t != FieldType::kDate) {
      return InvalidArgument("function " + name + " does not accept " + TypeName(t));
    }
    const bool as_float = name == "date_part";  // date_part is double precision, EXTRACT numeric
    return MakeStrictCall(name, as_float ? FieldType::kFloat : FieldType::kDecimal, std::move(args),
                          [t, as_float](V v) -> Result<Value> {
                            int64_t micros = t == FieldType::kDate ? v[1].as_int() * kMicrosPerDay
                                                                   : v[1].as_int();
                            ASSIGN_OR_RETURN(Decimal d, ExtractField(v[0].as_string(), micros));
                            if (as_float) return Value(d.ToDouble());
                            return Value(d);
                          });
  }
  if (name == "to_timestamp") {
    RETURN_IF_ERROR(ArgCount(name, args, 1, 1));
    ASSIGN_OR_RETURN(args[0], Coerce(std::move(args[0]), FieldType::kFloat));
    return Unary(name, FieldType::kTimestamp, std::move(args[0]), [](V v) -> Result<Value> {
      double seconds = v[0].as_float();
      if (!std::isfinite(seconds) || std::fabs(seconds) > 9.2e12) {
        return OutOfRange("timestamp out of range");
      }
      // As PostgreSQL computes it: shift to its 2000-01-01 epoch first, then round, so the
      // floating-point rounding matches to the microsecond.
      constexpr int64_t kPostgresEpochSeconds = 946'684'800;
      double shifted = std::nearbyint((seconds - double(kPostgresEpochSeconds)) * 1e6);
      return Value(int64_t(shifted) + kPostgresEpochSeconds * 1'000'000);
    });
  }
  if (name == "make_date") {
    RETURN_IF_ERROR(ArgCount(name, args, 3, 3));
    for (auto& a : args) {
      ASSIGN_OR_RETURN(a, RequireType(std::move(a), FieldType::kInt, name));
    }
    return MakeStrictCall(name, FieldType::kDate, std::move(args), [](V v) -> Result<Value> {
      std::chrono::year_month_day ymd{std::chrono::year{int(v[0].as_int())},
                                      std::chrono::month{unsigned(v[1].as_int())},
                                      std::chrono::day{unsigned(v[2].as_int())}};
      if (!ymd.ok() || v[0].as_int() == 0) {
        return OutOfRange("date field value out of range: " + std::to_string(v[0].as_int()) + "-" +
                          std::to_string(v[1].as_int()) + "-" + std::to_string(v[2].as_int()));
      }
      return Value(int64_t(std::chrono::sys_days{ymd}.time_since_epoch().count()));
    });
  }
  if (name == "split_part") {
    RETURN_IF_ERROR(ArgCount(name, args, 3, 3));
    ASSIGN_OR_RETURN(args[0], CoerceText(std::move(args[0])));
    ASSIGN_OR_RETURN(args[1], CoerceText(std::move(args[1])));
    ASSIGN_OR_RETURN(args[2], RequireType(std::move(args[2]), FieldType::kInt, name));
    return MakeStrictCall(name, FieldType::kString, std::move(args), [](V v) -> Result<Value> {
      const std::string &s = v[0].as_string(), &delim = v[1].as_string();
      int64_t n = v[2].as_int();
      if (n == 0) return InvalidArgument("field position must not be zero");
      std::vector<std::string> parts;
      if (delim.empty()) {
        parts.push_back(s);
      } else {
        size_t pos = 0;
        for (size_t hit; (hit = s.find(delim, pos)) != std::string::npos;
             pos = hit + delim.size()) {
          parts.push_back(s.substr(pos, hit - pos));
        }
        parts.push_back(s.substr(pos));
      }
      if (s.empty()) return Value("");
      int64_t index = n > 0 ? n - 1 : int64_t(parts.size()) + n;
      if (index < 0 || index >= int64_t(parts.size())) return Value("");
      return Value(parts[size_t(index)]);
    });
  }
  if (name == "lpad" || name == "rpad") {
    RETURN_IF_ERROR(ArgCount(name, args, 2, 3));
    ASSIGN_OR_RETURN(args[0], CoerceText(std::move(args[0])));
    ASSIGN_OR_RETURN(args[1], RequireType(std::move(args[1]), FieldType::kInt, name));
    if (args.size() == 3) {
      ASSIGN_OR_RETURN(args[2], CoerceText(std::move(args[2])));
    }
    bool left = name == "lpad";
    return MakeStrictCall(name, FieldType::kString, std::move(args), [left](V v) -> Result<Value> {
      const std::string& s = v[0].as_string();
      std::string fill = v.size() == 3 ? v[2].as_string() : " ";
      int64_t want = std::max<int64_t>(v[1].as_int(), 0), have = Utf8Length(s);
      if (want <= have) return Value(s.substr(0, Utf8Offset(s, want)));
      if (fill.empty()) return Value(s);
      std::string pad;
      int64_t need = want - have, fill_len = Utf8Length(fill);
      while (need >= fill_len) {
        pad += fill;
        need -= fill_len;
      }
      pad += fill.substr(0, Utf8Offset(fill, need));
      return Value(left ? pad + s : s + pad);
    });
  }
  return Unimplemented("function " + name + "() is not supported");
}

}  // namespace sluice
