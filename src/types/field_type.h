// The field types a Sluice schema can hold, and their names in configs and schemas.
#pragma once

#include <optional>
#include <string_view>

namespace sluice {

enum class FieldType {
  kBoolean,
  kInt,      // signed 64-bit
  kUInt,     // unsigned 64-bit
  kFloat,    // IEEE double
  kDecimal,  // exact, up to 38 significant digits (see decimal.h)
  kString,
  kText,  // like string; hints full-text use to later stages
  kBinary,
  kDate,       // days since 1970-01-01
  kTimestamp,  // microseconds since the Unix epoch, UTC
  kDuration,   // microseconds
  kJson,       // a JSON document, kept as its text
  kPoint,      // two doubles (x, y)
};

std::string_view FieldTypeName(FieldType type);
std::optional<FieldType> ParseFieldType(std::string_view name);
// The accepted names, for error messages: "boolean, int, ...".
std::string_view FieldTypeNames();

}  // namespace sluice
