#include "types/value.h"

#include <fmt/format.h>
#include <cmath>

namespace sluice {

bool operator==(const Value& a, const Value& b) {
  if (a.v_.index() != b.v_.index()) return false;
  if (std::holds_alternative<double>(a.v_)) {
    double x = std::get<double>(a.v_), y = std::get<double>(b.v_);
    if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
    return x == y;
  }
  return a.v_ == b.v_;
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
