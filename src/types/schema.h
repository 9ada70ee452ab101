// Schema: the ordered fields of a table and its primary key. Shared read-only by every stage
// that handles the table's records once the pipeline is built.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "types/field_type.h"

namespace sluice {

struct Field {
  std::string name;
  FieldType type = FieldType::kString;
  bool nullable = true;
  friend bool operator==(const Field&, const Field&) = default;
};

struct Schema {
  std::vector<Field> fields;
  std::vector<size_t> primary_key;  // indexes into fields; empty = no key (a multiset)

  std::optional<size_t> FindField(std::string_view name) const;
  bool has_primary_key() const { return !primary_key.empty(); }
  // Resolves column names to indexes; the error names the missing column.
  Result<std::vector<size_t>> ResolveColumns(const std::vector<std::string>& names) const;
  // A stable text form (names, types, nullability, key); a change means stored rows differ.
  std::string Fingerprint() const;

  friend bool operator==(const Schema&, const Schema&) = default;
};

}  // namespace sluice
