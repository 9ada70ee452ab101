#include "types/value.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

namespace sluice {

namespace {

// Floats are equal when both are NaN (any payload) or when == says so (-0 == 0), as HashValue
// hashes them.
bool SameDouble(double x, double y) {
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
  return x == y;
}

}  // namespace

bool operator==(const Value& a, const Value& b) {
  if (a.v_.index() != b.v_.index()) return false;
  if (std::holds_alternative<double>(a.v_)) {
    return SameDouble(std::get<double>(a.v_), std::get<double>(b.v_));
  }
  if (std::holds_alternative<Point>(a.v_)) {
    // Coordinates as floats: a point with a NaN coordinate must equal itself (HashValue
    // already hashes it so), or a keyless row holding one could never be retracted.
    const Point& p = std::get<Point>(a.v_);
    const Point& q = std::get<Point>(b.v_);
    return SameDouble(p.x, q.x) && SameDouble(p.y, q.y);
  }
  return a.v_ == b.v_;
}

bool IdenticalRecords(const Record& a, const Record& b) {
  if (a != b) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const Value& x = a[i];
    const Value& y = b[i];
    if (x.is_null()) continue;
    const bool same = x.Visit([&](const auto& v) {
      using T = std::decay_t<decltype(v)>;
      if constexpr (std::is_same_v<T, Decimal>) {
        return v.scale() == y.as_decimal().scale();
      } else if constexpr (std::is_same_v<T, double>) {
        return std::signbit(v) == std::signbit(y.as_float());
      } else {
        return true;
      }
    });
    if (!same) return false;
  }
  return true;
}

namespace {

// A 64-bit finalizer (from SplitMix64): spreads every input bit over the whole word.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

size_t HashValue(const Value& value) {
  struct Visitor {
    uint64_t operator()(std::monostate) const { return 0x6e756c6cULL; }
    uint64_t operator()(bool b) const { return b ? 3 : 2; }
    uint64_t operator()(int64_t i) const { return Mix(uint64_t(i)); }
    uint64_t operator()(uint64_t u) const { return Mix(u ^ 0x75ULL); }
    uint64_t operator()(double d) const {
      if (std::isnan(d)) return 0x7ff8ULL;
      if (d == 0) d = 0;  // -0 == 0
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      return Mix(bits);
    }
    uint64_t operator()(const Decimal& d) const {
      const Decimal n = d.Normalized();
      const unsigned __int128 c = static_cast<unsigned __int128>(n.coefficient());
      return Mix(uint64_t(c) ^ Mix(uint64_t(c >> 64) ^ uint64_t(n.scale())));
    }
    uint64_t operator()(const std::string& s) const { return std::hash<std::string>{}(s); }
    uint64_t operator()(const Point& p) const { return Mix((*this)(p.x) ^ ((*this)(p.y) << 1)); }
  };
  return std::visit(Visitor{}, value.v_);
}

size_t HashRecord(const Record& record) {
  uint64_t h = record.size();
  for (const Value& v : record) h = Mix(h ^ HashValue(v)) + 0x9e3779b97f4a7c15ULL;
  return h;
}

std::string Value::DebugString() const {
  struct Visitor {
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(uint64_t u) const { return std::to_string(u); }
    std::string operator()(double d) const { return fmt::format("{}", d); }
    std::string operator()(const Decimal& d) const { return d.ToString(); }
    std::string operator()(const std::string& s) const { return "'" + s + "'"; }
    std::string operator()(const Point& p) const { return fmt::format("({},{})", p.x, p.y); }
  };
  return std::visit(Visitor{}, v_);
}

}  // namespace sluice
