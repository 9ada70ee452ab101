// Value: one field of a record. The physical alternatives are few; what they mean comes from
// the field's FieldType in the schema (an int64 is an int, a date in days, a timestamp or a
// duration in microseconds; a string holds string, text, binary bytes or JSON text).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "types/decimal.h"

namespace sluice {

struct Point {
  double x = 0;
  double y = 0;
  friend bool operator==(const Point&, const Point&) = default;
};

class Value {
 public:
  Value() = default;  // NULL
  static Value Null() { return Value(); }
  explicit Value(bool b) : v_(b) {}
  explicit Value(int64_t i) : v_(i) {}
  explicit Value(uint64_t u) : v_(u) {}
  explicit Value(double d) : v_(d) {}
  explicit Value(Decimal d) : v_(d) {}
  explicit Value(std::string s) : v_(std::move(s)) {}
  explicit Value(std::string_view s) : v_(std::string(s)) {}
  explicit Value(const char* s) : v_(std::string(s)) {}
  explicit Value(Point p) : v_(p) {}

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  uint64_t as_uint() const { return std::get<uint64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  const Decimal& as_decimal() const { return std::get<Decimal>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Point& as_point() const { return std::get<Point>(v_); }

  // Equality of values of the same field type (SQL-like for data, but NULL == NULL here:
  // this is record identity, used by multisets and tests; filters handle NULL themselves).
  // Floats compare bitwise-equal after canonicalising NaN, decimals by numeric value.
  friend bool operator==(const Value& a, const Value& b);
  friend size_t HashValue(const Value& value);

  // A short human-readable form for logs and test failures.
  std::string DebugString() const;

  // Calls `f` with the physical alternative held (std::monostate for NULL).
  template <typename F>
  decltype(auto) Visit(F&& f) const {
    return std::visit(std::forward<F>(f), v_);
  }

 private:
  std::variant<std::monostate, bool, int64_t, uint64_t, double, Decimal, std::string, Point> v_;
};

using Record = std::vector<Value>;

// Whether two records are the same to the last detail a reader can see: equal and, beyond
// operator==, decimals of the same scale (20 vs 20.00) and floats of the same sign of zero.
// An operator that drops an update as a no-op must use this, or the rows downstream keep a
// form the source no longer has and a later retraction of the new form finds nothing.
bool IdenticalRecords(const Record& a, const Record& b);

// Hashes consistent with operator== (NaNs hash alike, -0 like 0, decimals by numeric value),
// for hash tables keyed by values or whole rows.
size_t HashValue(const Value& value);
size_t HashRecord(const Record& record);

}  // namespace sluice
