// Order-preserving ("memcomparable") key encoding: comparing two encoded keys with memcmp
// gives the same order as comparing the values field by field (NULLs last, NaN above every
// other float, as in PostgreSQL). The cache keys records and indexes with it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/field_type.h"
#include "types/schema.h"
#include "types/value.h"

namespace sluice {

void EncodeKeyValue(FieldType type, const Value& value, std::string* out);

// Appends the key made of `record`'s columns `columns` (indexes into `schema`).
void EncodeKey(const Schema& schema, const Record& record, const std::vector<size_t>& columns,
               std::string* out);

// Decodes a key of the given column types back to values (for tests and diagnostics).
Result<Record> DecodeKey(const std::vector<FieldType>& types, std::string_view key);

}  // namespace sluice
