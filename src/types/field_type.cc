#include "types/field_type.h"

#include <array>
#include <utility>

namespace sluice {
namespace {

constexpr std::array<std::pair<std::string_view, FieldType>, 13> kNames = {{
    {"boolean", FieldType::kBoolean},
    {"int", FieldType::kInt},
    {"uint", FieldType::kUInt},
    {"float", FieldType::kFloat},
    {"decimal", FieldType::kDecimal},
    {"string", FieldType::kString},
    {"text", FieldType::kText},
    {"binary", FieldType::kBinary},
    {"date", FieldType::kDate},
    {"timestamp", FieldType::kTimestamp},
    {"duration", FieldType::kDuration},
    {"json", FieldType::kJson},
    {"point", FieldType::kPoint},
}};

}  // namespace

std::string_view FieldTypeName(FieldType type) {
  for (const auto& [name, t] : kNames) {
    if (t == type) return name;
  }
  return "unknown";
}

std::optional<FieldType> ParseFieldType(std::string_view name) {
  for (const auto& [n, t] : kNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

std::string_view FieldTypeNames() {
  return "boolean, int, uint, float, decimal, string, text, binary, date, timestamp, duration, "
         "json, point";
}

}  // namespace sluice
